//! The QEMU machine behind a virtual probe: started halted (`-S`) and empty, as a board fresh from
//! the factory, so that probe-rs's loader puts the firmware in — or, for `--no-flash`, already
//! running a firmware (`-kernel`), as a board flashed earlier. It outlives the probe connections
//! made to it (a probe unplugged and plugged in again finds the firmware still running) and ends
//! with the last handle.
//!
//! Its core is reached through the gdbstub ([`super::gdb`]), its resets through QMP, its RAM
//! through the shared memory-backend file while the guest runs (as an AHB-AP reads a chip's RAM
//! without halting it), and any other address through the gdbstub, the guest paused meanwhile.

use super::scs::CoreAccess;
use crate::backend::doorbell::{SerialLine, SerialPipe};
use crate::backend::process::{Exit, Process};
use crate::backend::qemu::gdb::{Gdb, GdbError};
use crate::backend::qemu::machine::{Machine, RamWindow};
use crate::backend::qemu::qmp::Qmp;
use crate::backend::qemu::QemuSerial;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// What every access says while the probe's cable is pulled.
const UNPLUGGED: &str = "the virtual probe is unplugged";

/// A running QEMU machine that a virtual probe attaches to.
pub struct VirtualBoard {
    machine: &'static Machine,
    dir: tempfile::TempDir,
    process: Process,
    gdb: Option<Gdb>,
    qmp: Option<Qmp>,
    /// The RAM: the shared file, or QEMU's process memory (offset: the RAM's host address).
    ram: Option<(File, u64)>,
    /// The probe's cable is pulled: nothing reaches the machine, which runs on.
    unplugged: bool,
    /// The machine's first serial port (QEMU's stdin), beside the probe as a USB serial adapter
    /// would be: where the firmware's doorbell is rung (QEMU's gdbstub cannot pend an interrupt).
    serial: Option<SerialPipe>,
}

impl VirtualBoard {
    /// Starts `machine`, empty and halted, or running `preloaded`.
    pub fn start(machine: &'static Machine, preloaded: Option<&Path>) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("asyncmon-probe-")
            .tempdir()
            .map_err(|e| format!("cannot make a directory for QEMU's files: {e}"))?;
        let ram = if machine.shared_ram {
            let file =
                machine.ram_file(dir.path()).map_err(|e| format!("cannot make the guest's RAM file: {e}"))?;
            Some((file, 0))
        } else {
            None
        };
        let mut command = command(machine, dir.path(), preloaded);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", machine.qemu))?;
        if let Some(stderr) = child.stderr.take() {
            // What QEMU says of itself (a guest that locked up, say) goes to the daemon's log.
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                    tracing::warn!(target: "qemu", "{line}");
                }
            });
        }
        let serial = child
            .stdin
            .take()
            .map(SerialPipe::new)
            .transpose()
            .map_err(|e| format!("QEMU's serial port: {e}"))?;
        tracing::info!(pid = child.id(), machine = machine.name, "QEMU started behind a virtual probe");
        let mut board = VirtualBoard {
            machine,
            dir,
            process: Process::Started(child),
            gdb: None,
            qmp: None,
            ram,
            unplugged: false,
            serial,
        };
        board.plug_in(false)?;
        if board.ram.is_none() {
            board.find_private_ram()?;
        }
        if preloaded.is_some() {
            // A board flashed earlier runs its firmware whether a probe is there or not.
            board.gdb()?.resume().map_err(|e| e.to_string())?;
        }
        Ok(board)
    }

    /// The machine.
    pub fn machine(&self) -> &'static Machine {
        self.machine
    }

    /// Sends the machine's first serial port a byte (a serial doorbell's ring; see `QemuSerial`).
    pub fn send_serial_byte(&mut self) -> std::io::Result<()> {
        let Some(pipe) = &mut self.serial else {
            return Err(std::io::Error::other("the virtual board has no serial port"));
        };
        let socket = self.dir.path().join("qmp.sock");
        QemuSerial { pipe, qmp: &mut self.qmp, socket: &socket }.send_byte()
    }

    /// Connects the gdbstub (the probe's cable) to a guest that `runs` or not; it is halted then.
    fn plug_in(&mut self, runs: bool) -> Result<(), String> {
        if self.gdb.is_none() {
            let gdb = Gdb::connect(&self.dir.path().join("gdb.sock"), Duration::from_secs(5), runs)
                .map_err(|e| format!("cannot reach QEMU's gdbstub: {e}"))?;
            self.gdb = Some(gdb);
        }
        Ok(())
    }

    /// How QEMU ended, if it has (semihosting exit: the firmware's code).
    pub fn exited(&mut self) -> Option<Exit> {
        self.process.try_exit()
    }

    /// Whether QEMU has ended or ends within a moment: a failed read then is the firmware's exit
    /// (its RAM went with QEMU), not a probe that broke.
    pub fn ending(&mut self) -> bool {
        self.process.gone_soon()
    }

    /// Finds a machine's private RAM in QEMU's memory: a marker written through the gdbstub before
    /// the guest ran, looked for among QEMU's mappings, then the RAM's bytes put back.
    fn find_private_ram(&mut self) -> Result<(), String> {
        let window = self.machine.ram;
        let marker: Vec<u8> = format!(
            "asyncmon:{:016x}",
            std::process::id() as u64 ^ self.dir.path().as_os_str().len() as u64 ^ 0x5eed_cafe
        )
        .into_bytes();
        let mut saved = vec![0; marker.len()];
        self.gdb_op(|gdb| gdb.read_memory(window.base, &mut saved))?;
        self.gdb_op(|gdb| gdb.write_memory(window.base, &marker))?;
        let pid = self.process.id();
        let found = crate::backend::qemu::process_ram::find_marked(pid, window, &marker);
        self.gdb_op(|gdb| gdb.write_memory(window.base, &saved))?;
        let host_base = found
            .map_err(|e| format!("cannot read QEMU's memory (/proc/{pid}/mem: {e}): {} keeps its RAM to itself, and reading it needs the permission ptrace needs", self.machine.name))?
            .ok_or_else(|| format!("the guest RAM of {} is not among QEMU's mappings", self.machine.name))?;
        let mem = File::options()
            .read(true)
            .write(true)
            .open(format!("/proc/{pid}/mem"))
            .map_err(|e| format!("cannot open QEMU's memory: {e}"))?;
        tracing::info!(pid, host_base = format_args!("{host_base:#x}"), "guest RAM found in QEMU's memory");
        self.ram = Some((mem, host_base));
        Ok(())
    }

    /// Pulls the probe's cable (`false`) or plugs it back in (`true`). Unplugged, every access
    /// fails and the probe is not listed; the machine runs on, as a board does — QEMU keeps a guest
    /// paused when its debugger goes, so it is let run first.
    pub fn set_cable(&mut self, plugged: bool) {
        if !plugged && !self.unplugged {
            if let Some(gdb) = self.gdb.as_mut() {
                let _ = gdb.resume();
            }
            self.gdb = None;
        }
        self.unplugged = !plugged;
    }

    /// Whether the probe's cable is in.
    pub fn plugged(&self) -> bool {
        !self.unplugged
    }

    /// Connects the probe again after its connection broke: the guest goes on where it was
    /// (running, unless a debugger had halted it), as a board does when a probe is plugged in.
    pub fn reconnect(&mut self) -> Result<(), String> {
        if self.unplugged {
            return Err(UNPLUGGED.into());
        }
        if self.gdb.is_some() {
            return Ok(());
        }
        let status =
            self.qmp()?.execute("query-status").map_err(|e| format!("cannot ask QEMU its state: {e}"))?;
        let runs = status.get("running").and_then(|r| r.as_bool()).unwrap_or(false);
        self.plug_in(runs)?;
        if runs {
            self.gdb()?.resume().map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn gdb(&mut self) -> Result<&mut Gdb, String> {
        if self.unplugged {
            return Err(UNPLUGGED.into());
        }
        if let Some(exit) = self.process.try_exit() {
            self.gdb = None;
            return Err(format!("QEMU ({}) ended: {}", self.machine.name, exit.description));
        }
        self.gdb.as_mut().ok_or_else(|| "the virtual probe is not connected".to_string())
    }

    fn gdb_op<R>(&mut self, op: impl FnOnce(&mut Gdb) -> Result<R, GdbError>) -> Result<R, String> {
        let result = op(self.gdb()?);
        if let Err(GdbError::Io(_)) = &result {
            // The connection broke (QEMU ended, or the cable was pulled): connect again next time.
            self.gdb = None;
        }
        result.map_err(|e| e.to_string())
    }

    /// Where `address..address + len` is in the RAM's file, if it is all there.
    fn in_ram(&self, address: u64, len: usize) -> Option<u64> {
        let RamWindow { base, size } = self.machine.ram;
        let offset = address.checked_sub(base)?;
        let (_, host_base) = self.ram.as_ref()?;
        (offset.checked_add(len as u64)? <= size).then_some(host_base + offset)
    }

    /// Reads guest memory: RAM without pausing the guest, anything else through the gdbstub.
    pub fn read(&mut self, address: u64, buf: &mut [u8]) -> Result<(), String> {
        if self.unplugged {
            return Err(UNPLUGGED.into());
        }
        if let Some(offset) = self.in_ram(address, buf.len()) {
            let (ram, _) = self.ram.as_ref().expect("checked by in_ram");
            return ram.read_exact_at(buf, offset).map_err(|e| format!("the guest's RAM file: {e}"));
        }
        self.gdb_op(|gdb| gdb.paused(|gdb| gdb.read_memory(address, buf)))
    }

    /// Writes guest memory, the same way.
    pub fn write(&mut self, address: u64, data: &[u8]) -> Result<(), String> {
        if self.unplugged {
            return Err(UNPLUGGED.into());
        }
        if let Some(offset) = self.in_ram(address, data.len()) {
            let (ram, _) = self.ram.as_ref().expect("checked by in_ram");
            return ram.write_all_at(data, offset).map_err(|e| format!("the guest's RAM file: {e}"));
        }
        self.gdb_op(|gdb| gdb.paused(|gdb| gdb.write_memory(address, data)))
    }

    fn qmp(&mut self) -> Result<&mut Qmp, String> {
        if self.qmp.is_none() {
            let qmp = Qmp::connect(&self.dir.path().join("qmp.sock"), Duration::from_secs(2))
                .map_err(|e| format!("cannot reach QEMU to reset it: {e}"))?;
            self.qmp = Some(qmp);
        }
        Ok(self.qmp.as_mut().expect("just connected"))
    }
}

impl CoreAccess for VirtualBoard {
    fn is_halted(&mut self) -> Result<bool, String> {
        self.gdb_op(|gdb| gdb.is_halted())
    }

    fn halt(&mut self) -> Result<(), String> {
        self.gdb_op(|gdb| gdb.halt())
    }

    fn resume(&mut self) -> Result<(), String> {
        self.gdb_op(|gdb| gdb.resume())
    }

    fn step(&mut self) -> Result<(), String> {
        self.gdb_op(|gdb| gdb.step())
    }

    fn reset(&mut self, halt: bool) -> Result<(), String> {
        // Paused first, so the guest runs no instruction after the reset unless asked to.
        self.gdb_op(|gdb| gdb.halt())?;
        self.qmp()?.execute("system_reset").map_err(|e| {
            self.qmp = None;
            format!("cannot reset QEMU: {e}")
        })?;
        if !halt {
            self.gdb_op(|gdb| gdb.resume())?;
        }
        Ok(())
    }

    fn read_register(&mut self, name: &str) -> Result<Option<u64>, String> {
        let Some(register) = self.gdb()?.register(name) else { return Ok(None) };
        self.gdb_op(|gdb| gdb.paused(|gdb| gdb.read_register(register))).map(Some)
    }

    fn write_register(&mut self, name: &str, value: u64) -> Result<bool, String> {
        let Some(register) = self.gdb()?.register(name) else { return Ok(false) };
        self.gdb_op(|gdb| gdb.paused(|gdb| gdb.write_register(register, value))).map(|()| true)
    }

    fn breakpoint(&mut self, address: u64, set: bool) -> Result<(), String> {
        self.gdb_op(|gdb| gdb.paused(|gdb| gdb.breakpoint(address, set)))
    }

    fn read_u16(&mut self, address: u64) -> Result<u16, String> {
        let mut bytes = [0; 2];
        self.read(address, &mut bytes)?;
        Ok(u16::from_le_bytes(bytes))
    }
}

impl Drop for VirtualBoard {
    fn drop(&mut self) {
        self.process.end();
    }
}

/// QEMU's command line for a virtual board whose files are in `dir`: halted at the start, the
/// gdbstub on `gdb.sock`, the serial port on stdin and stdout.
fn command(machine: &Machine, dir: &Path, preloaded: Option<&Path>) -> Command {
    let mut command = machine.command(dir, "stdio");
    command.arg("-gdb").arg(format!("unix:{},server=on,wait=off", dir.join("gdb.sock").display())).arg("-S");
    if let Some(elf) = preloaded {
        command.arg("-kernel").arg(PathBuf::from(elf));
    }
    command
}
