//! The QEMU target: the daemon starts QEMU itself on one of the [`machine`]s, with the machine RAM
//! in a shared file (`-object memory-backend-file,share=on`) — or, for a machine that keeps its RAM
//! to itself, found in QEMU's process memory ([`process_ram`]) — and reads the RTT control block
//! there while the guest runs: what a probe does with a board's RAM, at no cost to the guest
//! ([`guest_memory`]).
//! It never touches the gdbstub, which halts the guest for every access ([`gdb`] serves the virtual
//! probe). The firmware's doorbell is its serial port: the machine's UART is QEMU's stdin
//! (`-serial stdio`), and a byte written there after a command raises the UART's receive
//! interrupt. (QEMU's gdbstub cannot ring the NVIC: it drops writes to anything but RAM.) Resets
//! go through QMP ([`qmp`]); ending the target ends QEMU. What QEMU prints (the firmware's UART and
//! semihosting output) becomes log lines; QEMU's exit code is the firmware's (semihosting exit).

pub mod args;
pub mod gdb;
pub mod guest_memory;
pub mod machine;
pub mod process_ram;
pub mod qmp;

use super::doorbell::{SerialLine, SerialPipe};
use super::elf::{find_rtt_symbol, RttSymbol};
use super::error::TargetError;
use super::process::{forward_lines, Exit, Process};
use super::rtt_channels::{Blocks, RttChannels};
use super::sink::Sink;
use super::traces::DebugElf;
use super::transport::{AfterReset, Timing, Transport};
use crate::defmt_logs::TableLoad;
use crate::elf_memory::ElfMemory;
use crate::memory::{NoMemory, TargetMemory};
use asyncmon_protocol::host::{LogSource, SessionEvent, TargetDescription};
use guest_memory::GuestMemory;
use machine::Machine;
use qmp::Qmp;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How to run a firmware on QEMU.
#[derive(Debug, Clone)]
pub struct QemuConfig {
    /// The firmware's ELF.
    pub elf: PathBuf,
    /// The machine it is built for.
    pub machine: &'static Machine,
    /// `-icount` (e.g. `shift=4,sleep=off`): instructions drive the clock, for runs that must
    /// repeat exactly; `None` runs in real time, as interactive sessions should.
    pub icount: Option<String>,
    /// How long the firmware has to create its RTT control block.
    pub attach_timeout: Duration,
    /// How long to sleep between reads when no data came.
    pub poll_interval: Duration,
}

impl QemuConfig {
    /// Runs `elf` on `machine` in real time, with default timings.
    pub fn new(elf: impl Into<PathBuf>, machine: &'static Machine) -> Self {
        QemuConfig {
            elf: elf.into(),
            machine,
            icount: None,
            attach_timeout: Duration::from_secs(5),
            poll_interval: Duration::from_millis(10),
        }
    }
}

/// Refuses, before anything starts, a firmware QEMU cannot serve: no QEMU installed (saying which
/// package has it), no ELF, no control block, or a control block outside the shared RAM.
pub fn check(config: &QemuConfig) -> Result<RttSymbol, TargetError> {
    let machine = config.machine;
    require_qemu(machine, std::env::var_os("PATH").as_deref())?;
    let symbol = find_rtt_symbol(&config.elf).map_err(|e| TargetError::Firmware(e.to_string()))?;
    let ram = machine.ram;
    if symbol.address < ram.base || symbol.address >= ram.base + ram.size {
        return Err(TargetError::Firmware(format!(
            "{}: the RTT control block is at {:#x}, outside {}'s RAM at {:#x}..{:#x}: is the firmware built for this machine (its memory.x)?",
            config.elf.display(),
            symbol.address,
            machine.name,
            ram.base,
            ram.base + ram.size
        )));
    }
    Ok(symbol)
}

/// Whether the machine's QEMU is on `path`; if not, says which package has it.
fn require_qemu(machine: &Machine, path: Option<&std::ffi::OsStr>) -> Result<(), TargetError> {
    if path.is_some_and(|path| std::env::split_paths(path).any(|dir| dir.join(machine.qemu).is_file())) {
        return Ok(());
    }
    Err(TargetError::Unavailable(format!(
        "{} is not installed: it runs the {} machine; install the {} package (Debian, Ubuntu: sudo apt-get install {})",
        machine.qemu, machine.name, machine.package, machine.package
    )))
}

/// One QEMU run: its private directory (the RAM file and the QMP socket), the process, the memory.
struct Run {
    dir: tempfile::TempDir,
    process: Process,
    memory: GuestMemory,
    qmp: Option<Qmp>,
    /// The machine's first serial port, where the firmware's doorbell is rung.
    serial: Option<SerialPipe>,
}

/// The firmware's serial doorbell on a QEMU machine: the machine's first serial port (QEMU's stdin)
/// and the QMP session that wakes QEMU's main loop after a byte. That loop watches the port's input
/// only while the UART could take a byte when it last went round; a UART enabled since (the
/// firmware's doorbell, set up at start-up) is not watched until something else wakes the loop — on
/// an idle micro:bit or mps2-an386, a second later. A QMP command is such a wake: the loop goes
/// round, watches the port, and the byte reaches the UART at once.
pub struct QemuSerial<'a> {
    /// QEMU's stdin.
    pub pipe: &'a mut SerialPipe,
    /// The run's QMP session, connected at the first ring if it is not yet.
    pub qmp: &'a mut Option<Qmp>,
    /// Where QEMU's QMP socket is.
    pub socket: &'a Path,
}

impl SerialLine for QemuSerial<'_> {
    fn send_byte(&mut self) -> std::io::Result<()> {
        self.pipe.send_byte()?;
        let qmp = match self.qmp {
            Some(qmp) => qmp,
            None => self
                .qmp
                .insert(Qmp::connect(self.socket, Duration::from_secs(2)).map_err(std::io::Error::other)?),
        };
        if let Err(e) = qmp.execute("query-status") {
            *self.qmp = None;
            return Err(std::io::Error::other(e));
        }
        Ok(())
    }
}

/// The QEMU transport.
pub struct Qemu {
    config: QemuConfig,
    symbol: RttSymbol,
    /// Where the firmware's doorbell static is, if it has one.
    doorbell: Option<u64>,
    started: Instant,
    run: Option<Run>,
    channels: Option<RttChannels>,
    defmt: TableLoad,
    no_memory: NoMemory,
}

impl Qemu {
    /// A transport for `config`, whose control block [`check`] found at `symbol`.
    pub fn new(config: QemuConfig, symbol: RttSymbol) -> Self {
        let defmt = TableLoad::start(config.elf.clone());
        let doorbell =
            super::elf::symbol_address(&config.elf, asyncmon_protocol::doorbell::SYMBOL).ok().flatten();
        Qemu {
            config,
            symbol,
            doorbell,
            started: Instant::now(),
            run: None,
            channels: None,
            defmt,
            no_memory: NoMemory,
        }
    }

    /// QEMU's command line for a run whose files are in `dir`.
    fn command(&self, dir: &Path) -> Command {
        let mut command = self.config.machine.command(dir, "stdio");
        command.arg("-kernel").arg(&self.config.elf);
        if let Some(icount) = &self.config.icount {
            command.args(["-icount", icount]);
        }
        command
    }
}

impl Transport for Qemu {
    fn describe(&self) -> TargetDescription {
        TargetDescription {
            backend: "qemu".into(),
            name: format!("{}: {}", self.config.machine.name, self.config.elf.display()),
        }
    }

    fn timing(&self) -> Timing {
        Timing::polled(self.config.poll_interval, self.config.attach_timeout)
    }

    fn clock(&self) -> Instant {
        self.started
    }

    fn connect(&mut self, sink: &Sink) -> Result<(), TargetError> {
        self.channels = None;
        let unavailable = |what: String| TargetError::Unavailable(what);
        // A private directory (0700): nobody else can read the guest's RAM or drive its QMP.
        let dir = tempfile::Builder::new()
            .prefix("asyncmon-qemu-")
            .tempdir()
            .map_err(|e| unavailable(format!("cannot make a directory for QEMU's files: {e}")))?;
        let machine = self.config.machine;
        let flash = ElfMemory::open(&self.config.elf).map_err(|e| TargetError::Firmware(e.to_string()))?;
        let memory = if machine.shared_ram {
            // The RAM file exists, at the machine's size, before QEMU maps it: the daemon holds it
            // open from the start, and the last frames stay readable after QEMU ends.
            let ram = machine
                .ram_file(dir.path())
                .map_err(|e| unavailable(format!("cannot make the guest's RAM file: {e}")))?;
            GuestMemory::shared(ram, machine.ram, flash)
        } else {
            GuestMemory::private(machine.ram, flash)
        };
        let mut child = self
            .command(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| unavailable(format!("cannot start {}: {e}", self.config.machine.qemu)))?;
        tracing::info!(pid = child.id(), machine = self.config.machine.name, elf = %self.config.elf.display(), "QEMU started");
        if let Some(out) = child.stdout.take() {
            forward_lines(out, LogSource::FirmwareStdout, sink.clone(), self.started);
        }
        if let Some(err) = child.stderr.take() {
            forward_lines(err, LogSource::FirmwareStderr, sink.clone(), self.started);
        }
        // The UART's receiving side: the doorbell (a firmware that names none ignores the byte).
        let serial = child.stdin.take().and_then(|stdin| match SerialPipe::new(stdin) {
            Ok(serial) => Some(serial),
            Err(e) => {
                tracing::warn!(error = %e, "QEMU's serial port cannot ring a doorbell; the firmware finds commands when it next wakes");
                None
            }
        });
        self.run = Some(Run { dir, process: Process::Started(child), memory, qmp: None, serial });
        Ok(())
    }

    fn open_link(&mut self) -> Result<bool, TargetError> {
        let Some(run) = self.run.as_mut() else { return Ok(false) };
        if !run.memory.has_ram() {
            let pid = run.process.id();
            let found = process_ram::find(pid, self.config.machine.ram, self.symbol.address, self.symbol.id)
                .map_err(|e| {
                    TargetError::Unavailable(format!(
                        "cannot read QEMU's memory (/proc/{pid}/mem: {e}): {} keeps its RAM to itself, and reading it needs the permission ptrace needs (a parent may read its child unless kernel.yama.ptrace_scope is 2 or more)",
                        self.config.machine.name
                    ))
                })?;
            let Some(host_base) = found else { return Ok(false) };
            run.memory
                .found_in_process(pid, host_base)
                .map_err(|e| TargetError::Gone(format!("cannot open QEMU's memory (process {pid}): {e}")))?;
            tracing::info!(
                pid,
                host_base = format_args!("{host_base:#x}"),
                "guest RAM found in QEMU's memory"
            );
        }
        match RttChannels::open(&mut run.memory, Blocks::of(&self.symbol, 0), &self.defmt, self.started)? {
            Some(channels) => {
                self.channels = Some(channels);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn read(&mut self, bytes: &mut Vec<u8>, events: &mut Vec<SessionEvent>) -> Result<(), TargetError> {
        let (Some(channels), Some(run)) = (self.channels.as_mut(), self.run.as_mut()) else { return Ok(()) };
        match channels.read(&mut run.memory, bytes, events) {
            // RAM in QEMU's process memory goes with QEMU: that is its exit, not a broken link.
            Err(TargetError::Gone(_)) if run.process.gone_soon() => Ok(()),
            other => other,
        }
    }

    fn write(&mut self, data: &[u8]) -> Result<usize, TargetError> {
        let (Some(channels), Some(run)) = (self.channels.as_mut(), self.run.as_mut()) else { return Ok(0) };
        let written = match channels.write(&mut run.memory, data) {
            Err(TargetError::Gone(_)) if run.process.gone_soon() => return Ok(0),
            other => other?,
        };
        // The command is in: ring the firmware's doorbell, if it has one.
        if let (1.., Some(at)) = (written, self.doorbell) {
            let socket = run.dir.path().join("qmp.sock");
            let mut serial =
                run.serial.as_mut().map(|pipe| QemuSerial { pipe, qmp: &mut run.qmp, socket: &socket });
            let serial = serial.as_mut().map(|s| s as &mut dyn super::doorbell::SerialLine);
            if let Err(e) = super::doorbell::ring(&mut run.memory, at, serial) {
                tracing::debug!(error = %e, "the firmware's doorbell did not ring; it finds the command when it next wakes");
            }
        }
        Ok(written)
    }

    fn strings(&mut self) -> &mut dyn TargetMemory {
        match self.run.as_mut() {
            Some(run) => &mut run.memory,
            None => &mut self.no_memory,
        }
    }

    fn debug_elf(&self) -> Option<DebugElf> {
        Some(DebugElf { path: self.config.elf.clone(), bias: 0 })
    }

    fn exited(&mut self) -> Option<Exit> {
        self.run.as_mut().and_then(|run| run.process.try_exit())
    }

    fn reset(&mut self) -> Result<AfterReset, TargetError> {
        self.channels = None;
        let Some(run) = self.run.as_mut() else {
            return Err(TargetError::Gone(format!("QEMU ({}) is not running", self.config.machine.name)));
        };
        let socket = run.dir.path().join("qmp.sock");
        // The old control block's id goes first: the link opens again only once the restarted
        // firmware has written a new one, never on the old block before the reset took effect.
        run.memory.write(self.symbol.address, &[0; 16]).map_err(|e| TargetError::Gone(e.to_string()))?;
        let qmp = match &mut run.qmp {
            Some(qmp) => qmp,
            None => run.qmp.insert(
                Qmp::connect(&socket, Duration::from_secs(2))
                    .map_err(|e| TargetError::Gone(format!("cannot reach QEMU to reset it: {e}")))?,
            ),
        };
        qmp.execute("system_reset").map_err(|e| {
            run.qmp = None;
            TargetError::Gone(format!("cannot reset QEMU: {e}"))
        })?;
        tracing::info!("QEMU reset");
        Ok(AfterReset::Relink)
    }

    fn disconnect(&mut self, sink: &Sink) {
        if let Some(channels) = self.channels.take() {
            channels.into_text().finish_in_background(sink.clone());
        }
        if let Some(mut run) = self.run.take() {
            // A clean quit where QMP is connected already (after a reset), else the hard way:
            // nothing of the guest needs saving, and the RAM file is the daemon's.
            let quit = run.qmp.as_mut().map(|qmp| qmp.execute("quit").is_ok()).unwrap_or(false);
            if quit {
                let deadline = Instant::now() + Duration::from_secs(1);
                while run.process.try_exit().is_none() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            run.process.end();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_qemu_names_the_package_that_has_it() {
        let virt = machine::find("virt").unwrap();
        let err =
            require_qemu(virt, Some(std::ffi::OsStr::new("/nonexistent:/also-not"))).unwrap_err().to_string();
        assert!(err.contains("qemu-system-riscv32 is not installed"), "{err}");
        assert!(err.contains("sudo apt-get install qemu-system-misc"), "{err}");
        assert!(require_qemu(virt, None).is_err());
    }

    #[test]
    fn a_firmware_not_built_for_the_machine_is_refused_before_qemu_starts() {
        // This test binary has no control block at all.
        let exe = std::env::current_exe().unwrap();
        let config = QemuConfig::new(exe, machine::find("mps2-an386").unwrap());
        if let Err(err) = check(&config) {
            let err = err.to_string();
            assert!(err.contains("no _ASYNCMON_RTT symbol") || err.contains("is not installed"), "{err}");
        } else {
            panic!("a firmware without a control block was accepted");
        }
    }
}
