//! A board's memory as the daemon reads it beside the RTT link: constants (static strings) from
//! the ELF, which costs no probe transfer, and everything else (a task's future, for its await
//! trace) live through the probe, one block read each.

use super::counters::{ProbeCounters, COUNTERS};
use crate::elf_memory::ElfMemory;
use crate::memory::TargetMemory;
use probe_rs::{MemoryInterface, Session};
use std::io;

/// The attached session, if any, and the ELF's read-only segments.
pub struct BoardMemory {
    /// The probe-rs session while the board is attached.
    pub session: Option<Session>,
    constants: ElfMemory,
}

impl BoardMemory {
    /// Memory with no session yet.
    pub fn new(constants: ElfMemory) -> Self {
        BoardMemory { session: None, constants }
    }
}

impl TargetMemory for BoardMemory {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> io::Result<()> {
        if self.constants.read_at(addr, buf).is_ok() {
            return Ok(());
        }
        let session = self
            .session
            .as_mut()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "the board is not attached"))?;
        ProbeCounters::add(&COUNTERS.memory_transactions, 1);
        ProbeCounters::add(&COUNTERS.memory_bytes, buf.len() as u64);
        session.core(0).and_then(|mut core| core.read_8(addr, buf)).map_err(io::Error::other)
    }

    fn write(&mut self, addr: u64, _: &[u8]) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{addr:#x}: only the RTT link writes to a board"),
        ))
    }
}
