//! [`TargetMemory`] over a probe-rs `Core`: the adapter that lets the RTT code read a chip's RAM.
//! Its contract (reads and writes of whole byte ranges, errors for what cannot be reached) is the
//! one the RTT code is tested against with a fake memory.

use super::counters::{ProbeCounters, COUNTERS};
use crate::memory::TargetMemory;
use probe_rs::{Core, MemoryInterface};
use std::io;

/// A core's memory, for the duration of one short operation.
pub struct CoreMemory<'c, 'p> {
    core: &'c mut Core<'p>,
}

impl<'c, 'p> CoreMemory<'c, 'p> {
    /// Wraps `core`.
    pub fn new(core: &'c mut Core<'p>) -> Self {
        CoreMemory { core }
    }
}

/// Counts one link transaction.
fn counted() {
    ProbeCounters::add(&COUNTERS.link_transactions, 1);
}

impl TargetMemory for CoreMemory<'_, '_> {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> io::Result<()> {
        counted();
        self.core.read_8(addr, buf).map_err(io::Error::other)
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> io::Result<()> {
        counted();
        self.core.write_8(addr, data).map_err(io::Error::other)
    }

    fn write_u32(&mut self, addr: u64, value: u32) -> io::Result<()> {
        counted();
        self.core.write_word_32(addr, value).map_err(io::Error::other)
    }
}
