//! The static strings of a firmware process: read from its memory while it runs, and from its
//! executable once it is gone — a firmware that exits right after sending a frame leaves strings
//! the daemon has not resolved yet, and they are in the file just as they were in memory.

use crate::elf_memory::ElfMemory;
use crate::memory::{ProcessMemory, TargetMemory};
use std::io;
use std::path::PathBuf;

/// A process's memory, with its executable as the fallback for reads.
pub struct ExeStrings {
    memory: ProcessMemory,
    executable: PathBuf,
    /// Run-time address minus the address in the file.
    bias: u64,
    /// The executable's loaded data, read the first time the process's memory fails a read
    /// (`Some(None)`: it could not be read either).
    file: Option<Option<ElfMemory>>,
}

impl ExeStrings {
    /// Strings of the process behind `memory`, whose executable is `executable`, loaded `bias` above
    /// its link addresses.
    pub fn new(memory: ProcessMemory, executable: PathBuf, bias: u64) -> Self {
        ExeStrings { memory, executable, bias, file: None }
    }
}

impl TargetMemory for ExeStrings {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> io::Result<()> {
        let gone = match self.memory.read(addr, buf) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let executable = &self.executable;
        match self.file.get_or_insert_with(|| ElfMemory::open(executable).ok()) {
            Some(file) => file.read_at(addr.wrapping_sub(self.bias), buf).map_err(|_| gone),
            None => Err(gone),
        }
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> io::Result<()> {
        self.memory.write(addr, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_is_read_from_the_executable_once_the_process_is_gone() {
        let mut child = std::process::Command::new("/bin/sleep").arg("30").spawn().unwrap();
        let memory = ProcessMemory::open(child.id()).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        // Our own test binary stands in for the executable: find a string of ours in it.
        let me = std::env::current_exe().unwrap();
        let needle = b"the executable once it is gone";
        let data = std::fs::read(&me).unwrap();
        let file = object::File::parse(&*data).unwrap();
        let address = object::Object::segments(&file)
            .find_map(|segment| {
                let bytes = object::ObjectSegment::data(&segment).ok()?;
                let at = bytes.windows(needle.len()).position(|w| w == needle)?;
                Some(object::ObjectSegment::address(&segment) + at as u64)
            })
            .unwrap();
        let mut strings = ExeStrings::new(memory, me, 0x1000);
        let mut buf = [0; 30];
        strings.read(address + 0x1000, &mut buf).unwrap();
        assert_eq!(&buf, needle);
        assert!(strings.read(u64::MAX - 8, &mut [0; 4]).is_err());
    }
}
