//! Ringing a firmware's doorbell after a command went into its down channel
//! (`asyncmon_protocol::doorbell`): its executor reads the command at once instead of on its next
//! poll, and sleeps when idle instead of polling.
//!
//! Here: the doorbell of a process on this machine (the simulated board), a pipe the daemon opens
//! through `/proc/PID/fd/N` (the permission `ptrace` needs, as for its memory).

use crate::memory::TargetMemory;
use asyncmon_protocol::doorbell::{Doorbell, SIZE};
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;

/// Reads the doorbell static at `addr`.
pub fn read(mem: &mut dyn TargetMemory, addr: u64) -> io::Result<Doorbell> {
    let mut bytes = [0; SIZE];
    mem.read(addr, &mut bytes)?;
    Ok(Doorbell::decode(&bytes))
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
