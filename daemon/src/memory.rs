//! Access to a target's memory: the one thing the RTT code needs from a target.
//!
//! The simulator implements it over a process's `/proc/PID/mem` (the way a probe reads a chip's
//! RAM); the probe-rs backend implements it over a `Core`; tests use [`FakeMemory`].

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Reads and writes a target's memory at target addresses.
pub trait TargetMemory {
    /// Fills `buf` from `addr`; fails unless every byte was read.
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Writes `data` at `addr`; fails unless every byte was written.
    fn write(&mut self, addr: u64, data: &[u8]) -> io::Result<()>;

    /// Writes one 32-bit word at `addr` in a single access, as device registers want (a probe
    /// does this with one bus transfer; plain memory takes the bytes).
    fn write_u32(&mut self, addr: u64, value: u32) -> io::Result<()> {
        self.write(addr, &value.to_le_bytes())
    }
}

/// The memory of a live process, through `/proc/PID/mem`.
///
/// Needs the same permission as `ptrace` attach: a parent may read its children (the default Yama
/// setting), and root may read anything.
pub struct ProcessMemory {
    mem: File,
}

impl ProcessMemory {
    /// Opens the memory of process `pid` for reading and writing.
    pub fn open(pid: u32) -> io::Result<Self> {
        let mem = File::options().read(true).write(true).open(format!("/proc/{pid}/mem"))?;
        Ok(ProcessMemory { mem })
    }
}

impl TargetMemory for ProcessMemory {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> io::Result<()> {
        self.mem.read_exact_at(buf, addr)
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> io::Result<()> {
        self.mem.write_all_at(data, addr)
    }
}

/// A block of memory at a base address, for tests: reads or writes outside it fail like an
/// unmapped address would.
#[derive(Debug, Clone)]
pub struct FakeMemory {
    /// The address of `bytes[0]`.
    pub base: u64,
    /// The contents.
    pub bytes: Vec<u8>,
}

impl FakeMemory {
    fn range(&self, addr: u64, len: usize) -> io::Result<std::ops::Range<usize>> {
        let start = addr.checked_sub(self.base).and_then(|o| usize::try_from(o).ok());
        match start {
            Some(start) if start.checked_add(len).is_some_and(|end| end <= self.bytes.len()) => {
                Ok(start..start + len)
            }
            _ => Err(io::Error::new(io::ErrorKind::InvalidInput, format!("unmapped address {addr:#x}"))),
        }
    }
}

impl TargetMemory for FakeMemory {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> io::Result<()> {
        let range = self.range(addr, buf.len())?;
        buf.copy_from_slice(&self.bytes[range]);
        Ok(())
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> io::Result<()> {
        let range = self.range(addr, data.len())?;
        self.bytes[range].copy_from_slice(data);
        Ok(())
    }
}

/// No memory at all: every access fails (a target whose memory is not open yet).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMemory;

impl TargetMemory for NoMemory {
    fn read(&mut self, addr: u64, _: &mut [u8]) -> io::Result<()> {
        Err(io::Error::new(io::ErrorKind::NotConnected, format!("no target memory to read at {addr:#x}")))
    }

    fn write(&mut self, addr: u64, _: &[u8]) -> io::Result<()> {
        Err(io::Error::new(io::ErrorKind::NotConnected, format!("no target memory to write at {addr:#x}")))
    }
}
