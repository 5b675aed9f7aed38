//! A QEMU guest's memory as the daemon sees it: the machine RAM (read and written while the guest
//! runs, ~0.5 µs a read, no pause) through the file QEMU maps it to or, for a machine that keeps its
//! RAM private, through the QEMU process's memory ([`super::process_ram`]); everything else
//! (flash: code and static strings) from the firmware's ELF.

use super::machine::RamWindow;
use crate::elf_memory::ElfMemory;
use crate::memory::TargetMemory;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Where the RAM's bytes are: a file, and the offset in it of the RAM's first byte.
struct RamFile {
    file: File,
    offset: u64,
}

/// The guest's RAM (once found) and its ELF.
pub struct GuestMemory {
    ram: Option<RamFile>,
    window: RamWindow,
    flash: ElfMemory,
}

impl GuestMemory {
    /// Memory over `ram` (the backend file, mapped at `window`) and `flash` (the ELF).
    pub fn shared(ram: File, window: RamWindow, flash: ElfMemory) -> Self {
        GuestMemory { ram: Some(RamFile { file: ram, offset: 0 }), window, flash }
    }

    /// Memory whose RAM is yet to be found in a process ([`GuestMemory::found_in_process`]); until
    /// then only flash reads.
    pub fn private(window: RamWindow, flash: ElfMemory) -> Self {
        GuestMemory { ram: None, window, flash }
    }

    /// Whether the RAM can be read.
    pub fn has_ram(&self) -> bool {
        self.ram.is_some()
    }

    /// The RAM is in process `pid`'s memory, its first byte at host address `host_base`.
    pub fn found_in_process(&mut self, pid: u32, host_base: u64) -> io::Result<()> {
        let file = File::options().read(true).write(true).open(format!("/proc/{pid}/mem"))?;
        self.ram = Some(RamFile { file, offset: host_base });
        Ok(())
    }

    /// Where `addr..addr + len` is in the RAM's file, if it is all in RAM.
    fn in_ram(&self, addr: u64, len: usize) -> Option<(&RamFile, u64)> {
        let offset = addr.checked_sub(self.window.base)?;
        if offset.checked_add(len as u64)? > self.window.size {
            return None;
        }
        self.ram.as_ref().map(|ram| (ram, ram.offset + offset))
    }

    fn not_found(addr: u64) -> io::Error {
        io::Error::new(io::ErrorKind::NotConnected, format!("{addr:#x}: the guest's RAM is not found yet"))
    }

    fn is_ram(&self, addr: u64) -> bool {
        addr.checked_sub(self.window.base).is_some_and(|offset| offset < self.window.size)
    }
}

impl TargetMemory for GuestMemory {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> io::Result<()> {
        match self.in_ram(addr, buf.len()) {
            Some((ram, at)) => ram.file.read_exact_at(buf, at),
            None if self.ram.is_none() && self.is_ram(addr) => Err(Self::not_found(addr)),
            None => self.flash.read_at(addr, buf),
        }
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> io::Result<()> {
        match self.in_ram(addr, data.len()) {
            Some((ram, at)) => ram.file.write_all_at(data, at),
            None if self.ram.is_none() && self.is_ram(addr) => Err(Self::not_found(addr)),
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

    fn elf() -> ElfMemory {
        ElfMemory::open(&std::env::current_exe().unwrap()).unwrap()
    }

    #[test]
    fn ram_addresses_go_to_the_file_and_the_rest_to_the_elf() {
        let file = tempfile::tempfile().unwrap();
        file.set_len(64).unwrap();
        file.write_all_at(b"control block", 16).unwrap();
        let mut mem = GuestMemory::shared(file, RamWindow { base: 0x2100_0000, size: 64 }, elf());
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

    #[test]
    fn ram_in_a_process_is_read_at_its_host_address_once_found() {
        let ram = *b"guest RAM, in a process";
        let mut mem = GuestMemory::private(RamWindow { base: 0x2000_0000, size: ram.len() as u64 }, elf());
        let err = mem.read(0x2000_0006, &mut [0; 3]).unwrap_err();
        assert!(err.to_string().contains("not found yet"), "{err}");
        mem.found_in_process(std::process::id(), ram.as_ptr() as u64).unwrap();
        let mut buf = [0u8; 3];
        mem.read(0x2000_0006, &mut buf).unwrap();
        assert_eq!(&buf, b"RAM");
    }
}
