//! A QEMU guest's memory as the daemon sees it: the machine RAM through the file QEMU maps it to
//! (read and written while the guest runs, ~0.5 µs a read, no pause), everything else (flash:
//! code and static strings) from the firmware's ELF.

use super::machine::RamWindow;
use crate::elf_memory::ElfMemory;
use crate::memory::TargetMemory;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// The guest's RAM file and its ELF.
pub struct GuestMemory {
    ram: File,
    window: RamWindow,
    flash: ElfMemory,
}

impl GuestMemory {
    /// Memory over `ram` (the backend file, mapped at `window`) and `flash` (the ELF).
    pub fn new(ram: File, window: RamWindow, flash: ElfMemory) -> Self {
        GuestMemory { ram, window, flash }
    }

    /// Where `addr..addr + len` is in the RAM file, if it is all in RAM.
    fn in_ram(&self, addr: u64, len: usize) -> Option<u64> {
        let offset = addr.checked_sub(self.window.base)?;
        (offset.checked_add(len as u64)? <= self.window.size).then_some(offset)
    }
}

impl TargetMemory for GuestMemory {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> io::Result<()> {
        match self.in_ram(addr, buf.len()) {
            Some(offset) => self.ram.read_exact_at(buf, offset),
            None => self.flash.read_at(addr, buf),
        }
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> io::Result<()> {
        match self.in_ram(addr, data.len()) {
            Some(offset) => self.ram.write_all_at(data, offset),
            None => Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("{addr:#x} is not in the guest's RAM: only RAM is written"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ram_addresses_go_to_the_file_and_the_rest_to_the_elf() {
        let file = tempfile::tempfile().unwrap();
        file.set_len(64).unwrap();
        file.write_all_at(b"control block", 16).unwrap();
        let elf = ElfMemory::open(&std::env::current_exe().unwrap()).unwrap();
        let mut mem = GuestMemory::new(file, RamWindow { base: 0x2100_0000, size: 64 }, elf);
        let mut buf = [0u8; 13];
        mem.read(0x2100_0010, &mut buf).unwrap();
        assert_eq!(&buf, b"control block");
        mem.write(0x2100_0010, b"CONTROL").unwrap();
        mem.read(0x2100_0010, &mut buf).unwrap();
        assert_eq!(&buf, b"CONTROL block");
        // Past the end of RAM, and an access that straddles it, are not RAM.
        assert!(mem.read(0x2100_003c, &mut [0; 8]).is_err());
        assert!(mem.write(0x2100_0040, b"x").is_err());
    }
}
