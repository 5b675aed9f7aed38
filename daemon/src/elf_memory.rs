//! A firmware's ELF as target memory: reads of static data (string references) are answered from
//! the file's loadable segments. For targets whose memory the daemon cannot read directly (an RTT
//! TCP server), this is how `Text::Static` references are resolved. Writes are refused.

use crate::memory::TargetMemory;
use object::{Object, ObjectSegment};
use std::io;
use std::path::{Path, PathBuf};

/// Why a firmware's ELF cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}", path = path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The file is not an ELF, or not one `object` can parse.
    #[error("{path} is not an ELF file asyncmon can read: {source}", path = path.display())]
    NotElf {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: object::Error,
    },
    /// The ELF has no RTT control block (neither asyncmon's `_ASYNCMON_RTT` nor `_SEGGER_RTT`).
    #[error("{path} has no _ASYNCMON_RTT symbol (nor _SEGGER_RTT): the firmware does not link asyncmon-agent, or its symbols were stripped", path = path.display())]
    NoRttSymbol {
        /// The file.
        path: PathBuf,
    },
}

/// Reads and parses the ELF at `path`, then runs `f` on it.
pub fn with_elf<R>(
    path: &Path,
    f: impl FnOnce(&object::File<'_>) -> Result<R, ElfError>,
) -> Result<R, ElfError> {
    let data = std::fs::read(path).map_err(|source| ElfError::Unreadable { path: path.into(), source })?;
    let file =
        object::File::parse(&*data).map_err(|source| ElfError::NotElf { path: path.into(), source })?;
    f(&file)
}

/// The loadable, file-backed segments of an ELF.
pub struct ElfMemory {
    segments: Vec<(u64, Vec<u8>)>,
}

impl ElfMemory {
    /// Reads the ELF at `path`.
    pub fn open(path: &Path) -> Result<Self, ElfError> {
        Self::open_segments(path, |_| true)
    }

    /// Reads only the segments the firmware cannot change (code and constants, no `.data`): what
    /// is the same in the ELF as on the target while it runs.
    pub fn open_read_only(path: &Path) -> Result<Self, ElfError> {
        Self::open_segments(path, |flags| flags & object::elf::PF_W == 0)
    }

    /// Memory with nothing in it.
    pub fn empty() -> Self {
        ElfMemory { segments: Vec::new() }
    }

    fn open_segments(path: &Path, keep: impl Fn(u32) -> bool) -> Result<Self, ElfError> {
        let segments = with_elf(path, |file| {
            Ok(file
                .segments()
                .filter(|segment| match segment.flags() {
                    object::SegmentFlags::Elf { p_flags } => keep(p_flags),
                    _ => true,
                })
                .filter_map(|segment| Some((segment.address(), segment.data().ok()?.to_vec())))
                .filter(|(_, bytes)| !bytes.is_empty())
                .collect())
        })?;
        Ok(ElfMemory { segments })
    }
}

impl ElfMemory {
    /// Reads `buf.len()` bytes at `addr` from the loaded data.
    pub fn read_at(&self, addr: u64, buf: &mut [u8]) -> io::Result<()> {
        let end = addr.checked_add(buf.len() as u64);
        for (start, bytes) in &self.segments {
            let inside = addr >= *start && end.is_some_and(|end| end <= start + bytes.len() as u64);
            if inside {
                let offset = (addr - start) as usize;
                buf.copy_from_slice(&bytes[offset..offset + buf.len()]);
                return Ok(());
            }
        }
        Err(io::Error::new(io::ErrorKind::NotFound, format!("{addr:#x} is not in the ELF's loaded data")))
    }
}

impl TargetMemory for ElfMemory {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> io::Result<()> {
        self.read_at(addr, buf)
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> io::Result<()> {
        (&*self).write(addr, data)
    }
}

/// A shared ELF reads as well as an owned one (the probe backend keeps it behind `&self`).
impl TargetMemory for &ElfMemory {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> io::Result<()> {
        self.read_at(addr, buf)
    }

    fn write(&mut self, addr: u64, _: &[u8]) -> io::Result<()> {
        Err(io::Error::new(io::ErrorKind::PermissionDenied, format!("the ELF is read-only ({addr:#x})")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_data_is_read_at_its_link_address_and_other_addresses_fail() {
        // This test binary is an ELF too: find a string of ours in it.
        let exe = std::env::current_exe().unwrap();
        let mut mem = ElfMemory::open(&exe).unwrap();
        let needle = b"is not in the ELF's loaded data";
        let (start, bytes) = mem
            .segments
            .iter()
            .find(|(_, b)| b.windows(needle.len()).any(|w| w == needle))
            .map(|(s, b)| (*s, b.clone()))
            .unwrap();
        let offset = bytes.windows(needle.len()).position(|w| w == needle).unwrap() as u64;
        let mut buf = vec![0; needle.len()];
        mem.read(start + offset, &mut buf).unwrap();
        assert_eq!(buf, needle);
        assert!(mem.read(u64::MAX - 4, &mut [0; 8]).is_err());
        assert!(mem.write(start, b"x").is_err());
    }
}
