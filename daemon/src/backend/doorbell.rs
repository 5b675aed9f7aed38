//! Ringing a firmware's doorbell after a command went into its down channel
//! (`asyncmon_protocol::doorbell`): its executor reads the command at once instead of on its next
//! poll, and sleeps when idle instead of polling.
//!
//! Three kinds: the doorbell of a process on this machine (the simulated board), a pipe the daemon
//! opens through `/proc/PID/fd/N` (the permission `ptrace` needs, as for its memory); a Cortex-M
//! interrupt, pended through the NVIC's set-pending register, which a probe writes while the core
//! runs; and a byte into the board's serial port, where the host holds the port's other end (QEMU's
//! machines, whose NVIC its gdbstub cannot write) ([`ring`]).

use crate::memory::TargetMemory;
use asyncmon_protocol::doorbell::{Doorbell, SIZE};
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;

/// Reads the doorbell static at `addr`.
pub fn read(mem: &mut dyn TargetMemory, addr: u64) -> io::Result<Doorbell> {
    let mut bytes = [0; SIZE];
    mem.read(addr, &mut bytes)?;
    Ok(Doorbell::decode(&bytes))
}

/// The host's end of a board's serial port, where a serial doorbell is rung.
pub trait SerialLine {
    /// Sends the port one byte.
    fn send_byte(&mut self) -> io::Result<()>;
}

/// A serial port's receiving side as a pipe the host writes (QEMU's stdin behind `-serial stdio`),
/// written without blocking: a full pipe has rung already.
pub struct SerialPipe(File);

impl SerialPipe {
    /// The pipe's write end, made non-blocking.
    pub fn new(pipe: impl Into<std::os::fd::OwnedFd>) -> io::Result<Self> {
        let fd: std::os::fd::OwnedFd = pipe.into();
        let flags = nix::fcntl::fcntl(fd.as_fd(), nix::fcntl::FcntlArg::F_GETFL)?;
        let flags = nix::fcntl::OFlag::from_bits_retain(flags) | nix::fcntl::OFlag::O_NONBLOCK;
        nix::fcntl::fcntl(fd.as_fd(), nix::fcntl::FcntlArg::F_SETFL(flags))?;
        Ok(SerialPipe(File::from(fd)))
    }
}

impl SerialLine for SerialPipe {
    fn send_byte(&mut self) -> io::Result<()> {
        match self.0.write(&[0x07]) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Rings the doorbell the firmware published at `addr` after a command went in: pends its
/// interrupt through target memory (a probe), or sends a byte on `serial`, the board's first
/// serial port, when the host holds its other end. `Ok(false)` when the firmware has no doorbell
/// this host can ring: it finds commands when it next wakes.
pub fn ring(mem: &mut dyn TargetMemory, addr: u64, serial: Option<&mut dyn SerialLine>) -> io::Result<bool> {
    match (read(mem, addr)?, serial) {
        (Doorbell::NvicInterrupt(irq), _) => {
            let (register, bit) = asyncmon_protocol::doorbell::nvic_set_pending(irq);
            mem.write_u32(register, bit)?;
            Ok(true)
        }
        (Doorbell::Serial(0), Some(serial)) => serial.send_byte().map(|()| true),
        (Doorbell::None | Doorbell::PipeFd(_) | Doorbell::Serial(_), _) => Ok(false),
    }
}

/// The doorbell of firmware process `pid`, its static at `addr`; the pipe is opened at the first
/// ring (the firmware publishes it during `link::init`).
pub struct ProcessDoorbell {
    pid: u32,
    addr: u64,
    pipe: Option<File>,
}

impl ProcessDoorbell {
    /// The doorbell of process `pid` whose doorbell static is at `addr`.
    pub fn new(pid: u32, addr: u64) -> Self {
        ProcessDoorbell { pid, addr, pipe: None }
    }

    /// Rings: one byte into the firmware's pipe. `Ok(false)` when the firmware has no doorbell
    /// (yet): it then finds the command on its own poll. A full pipe has rung already.
    pub fn ring(&mut self, mem: &mut dyn TargetMemory) -> io::Result<bool> {
        if self.pipe.is_none() {
            let Doorbell::PipeFd(fd) = read(mem, self.addr)? else { return Ok(false) };
            let pipe = File::options()
                .write(true)
                .custom_flags(nix::libc::O_NONBLOCK)
                .open(format!("/proc/{}/fd/{fd}", self.pid))?;
            self.pipe = Some(pipe);
        }
        let pipe = self.pipe.as_mut().expect("opened above");
        match pipe.write(&[1]) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(true),
            Err(e) => {
                self.pipe = None;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use asyncmon_protocol::doorbell::{KIND_NVIC_INTERRUPT, MAGIC};
    use std::collections::BTreeMap;

    /// Sparse memory that records 32-bit writes (a board's RAM and its NVIC).
    #[derive(Default)]
    struct Board {
        bytes: BTreeMap<u64, u8>,
        words: Vec<(u64, u32)>,
    }

    impl TargetMemory for Board {
        fn read(&mut self, addr: u64, buf: &mut [u8]) -> io::Result<()> {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = *self.bytes.get(&(addr + i as u64)).unwrap_or(&0);
            }
            Ok(())
        }
        fn write(&mut self, addr: u64, data: &[u8]) -> io::Result<()> {
            for (i, b) in data.iter().enumerate() {
                self.bytes.insert(addr + i as u64, *b);
            }
            Ok(())
        }
        fn write_u32(&mut self, addr: u64, value: u32) -> io::Result<()> {
            self.words.push((addr, value));
            Ok(())
        }
    }

    #[test]
    fn a_cortex_m_doorbell_is_rung_by_pending_its_interrupt_in_one_word_write() {
        let mut board = Board::default();
        let at = 0x2000_0100;
        assert!(!ring(&mut board, at, None).unwrap(), "nothing published: nothing rung");
        for (i, word) in [MAGIC, KIND_NVIC_INTERRUPT, 33].iter().enumerate() {
            board.write(at + 4 * i as u64, &word.to_le_bytes()).unwrap();
        }
        assert!(ring(&mut board, at, None).unwrap());
        assert_eq!(board.words, [(0xE000_E204, 1 << 1)], "ISPR1, bit 1: interrupt 33");
    }

    #[test]
    fn a_serial_doorbell_is_rung_by_a_byte_on_the_port_when_the_host_holds_it() {
        use std::io::Read;
        let mut board = Board::default();
        let at = 0x2000_0100;
        for (i, word) in [MAGIC, asyncmon_protocol::doorbell::KIND_SERIAL, 0].iter().enumerate() {
            board.write(at + 4 * i as u64, &word.to_le_bytes()).unwrap();
        }
        assert!(!ring(&mut board, at, None).unwrap(), "a probe alone cannot ring a serial port");
        let (mut reader, writer) = std::io::pipe().unwrap();
        let mut port = SerialPipe::new(writer).unwrap();
        assert!(ring(&mut board, at, Some(&mut port)).unwrap());
        let mut byte = [0];
        reader.read_exact(&mut byte).unwrap();
        assert!(board.words.is_empty(), "no register written");
        // A pipe nobody drains fills up; a ring then is one already made, not an error.
        for _ in 0..100_000 {
            ring(&mut board, at, Some(&mut port)).unwrap();
        }
    }

    #[test]
    fn a_process_doorbell_rings_its_pipe_through_proc() {
        use std::io::Read;
        use std::os::fd::AsRawFd;
        let (mut reader, writer) = std::io::pipe().unwrap();
        let mut fake = crate::memory::FakeMemory { base: 0x1000, bytes: vec![0; SIZE] };
        for (i, word) in
            [MAGIC, asyncmon_protocol::doorbell::KIND_PIPE_FD, reader.as_raw_fd() as u32].iter().enumerate()
        {
            fake.bytes[4 * i..4 * i + 4].copy_from_slice(&word.to_le_bytes());
        }
        let mut doorbell = ProcessDoorbell::new(std::process::id(), 0x1000);
        assert!(doorbell.ring(&mut fake).unwrap());
        let mut byte = [0];
        reader.read_exact(&mut byte).unwrap();
        assert_eq!(byte, [1]);
        drop(writer);
    }
}
