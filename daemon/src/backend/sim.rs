//! The simulated board: a firmware built for the host (the agent's `std` platform), run as a child
//! process. The transport finds `_SEGGER_RTT` through the ELF and the process's memory map, and
//! reads and writes the RTT buffers in the process's memory, the way a probe reads a chip's RAM.
//! The firmware's standard output and error are shown as log lines (lossily, whatever bytes come).

use super::doorbell::ProcessDoorbell;
use super::elf::{locate_executable, LocateError, Located};
use super::error::TargetError;
use super::exe_strings::ExeStrings;
use super::process::{alive, forward_lines, Exit, Process};
use super::rtt_channels::{Blocks, RttChannels};
use super::sink::Sink;
use super::traces::DebugElf;
use super::transport::{AfterReset, Timing, Transport};
use crate::defmt_logs::TableLoad;
use crate::memory::{NoMemory, ProcessMemory, TargetMemory};
use asyncmon_protocol::host::{LogSource, SessionEvent, TargetDescription};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use super::rtt_channels::{DOWN_CHANNEL, UP_CHANNEL};

/// How to run a simulated target.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The firmware executable (built for the host).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// How long to wait for the firmware to create its RTT control block.
    pub attach_timeout: Duration,
    /// How long to sleep between reads when no data came.
    pub poll_interval: Duration,
    /// Start the firmware again (with backoff) when it ends, unless a stop request ended it.
    pub restart: bool,
    /// Attach to this process, already running, instead of starting `program` (a daemon restarted
    /// while its firmware runs). It is never killed, reset or restarted by the daemon.
    pub attach_to: Option<u32>,
}

impl SimConfig {
    /// Runs `program` with `args`, with default timings.
    pub fn new(program: impl Into<PathBuf>, args: Vec<String>) -> Self {
        SimConfig {
            program: program.into(),
            args,
            attach_timeout: Duration::from_secs(5),
            poll_interval: Duration::from_millis(10),
            restart: false,
            attach_to: None,
        }
    }
}

/// The simulated board's transport.
pub struct Sim {
    config: SimConfig,
    started: Instant,
    process: Option<Process>,
    mem: Option<ProcessMemory>,
    /// Where `_SEGGER_RTT` is in the current process, and its executable.
    located: Option<Located>,
    /// Where the current process's static strings are read (its memory, then its executable).
    strings: Option<ExeStrings>,
    channels: Option<RttChannels>,
    /// The firmware's doorbell, rung after each write to its down channel.
    doorbell: Option<ProcessDoorbell>,
    /// The defmt table of the executable with this inode: read once, not at every restart.
    defmt: Option<(u64, TableLoad)>,
    no_memory: NoMemory,
    /// This daemon's claim on the firmware process (see [`claim`]).
    claim: Option<std::os::unix::net::UnixListener>,
}

impl Sim {
    /// A transport for `config`.
    pub fn new(config: SimConfig) -> Self {
        Sim {
            config,
            started: Instant::now(),
            process: None,
            mem: None,
            located: None,
            strings: None,
            channels: None,
            doorbell: None,
            defmt: None,
            no_memory: NoMemory,
            claim: None,
        }
    }

    fn pid(&self) -> u32 {
        self.process.as_ref().map_or(0, Process::id)
    }

    /// The defmt table of process `pid`'s executable, read the first time that executable runs.
    fn defmt_table(&mut self, pid: u32) -> TableLoad {
        let exe = PathBuf::from(format!("/proc/{pid}/exe"));
        let inode = std::fs::metadata(&exe).map(|m| std::os::unix::fs::MetadataExt::ino(&m)).unwrap_or(0);
        match &self.defmt {
            Some((cached, table)) if *cached == inode => table.clone(),
            _ => {
                // Resolve the link now: the process (and its /proc entry) may be gone by the time
                // the table is read.
                let table = TableLoad::start(std::fs::read_link(&exe).unwrap_or(exe));
                self.defmt = Some((inode, table.clone()));
                table
            }
        }
    }

    /// A memory error while the process is going away is its exit, not a broken link.
    fn exiting(&mut self) -> bool {
        match &mut self.process {
            Some(process) => process.gone_soon(),
            None => true,
        }
    }
}

impl Transport for Sim {
    fn describe(&self) -> TargetDescription {
        TargetDescription { backend: "sim".into(), name: self.config.program.display().to_string() }
    }

    fn clock(&self) -> Instant {
        self.started
    }

    fn timing(&self) -> Timing {
        Timing::polled(self.config.poll_interval, self.config.attach_timeout)
    }

    fn connect(&mut self, sink: &Sink) -> Result<(), TargetError> {
        self.mem = None;
        self.located = None;
        self.strings = None;
        self.channels = None;
        self.doorbell = None;
        if let Some(pid) = self.config.attach_to {
            if !alive(pid) {
                return Err(TargetError::Gone(format!("process {pid} is not running")));
            }
            self.claim = Some(claim(pid)?);
            self.process = Some(Process::Found(pid));
            return Ok(());
        }
        let mut child = Command::new(&self.config.program)
            .args(&self.config.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                TargetError::Unavailable(format!(
                    "cannot start the firmware {}: {e}",
                    self.config.program.display()
                ))
            })?;
        tracing::info!(pid = child.id(), program = %self.config.program.display(), "firmware started");
        if let Some(out) = child.stdout.take() {
            forward_lines(out, LogSource::FirmwareStdout, sink.clone(), self.started);
        }
        if let Some(err) = child.stderr.take() {
            forward_lines(err, LogSource::FirmwareStderr, sink.clone(), self.started);
        }
        self.claim = claim(child.id()).ok();
        self.process = Some(Process::Started(child));
        Ok(())
    }

    fn open_link(&mut self) -> Result<bool, TargetError> {
        let pid = self.pid();
        let located = match &self.located {
            Some(found) => found.clone(),
            // The kernel lets `spawn` return before the new program's segments are mapped (the
            // exec releases the parent first): until they are, the executable is not in the map.
            None => match locate_executable(pid) {
                Ok(found) => self.located.insert(found).clone(),
                Err(LocateError::NotMapped(_)) => return Ok(false),
                Err(e) => return Err(TargetError::Firmware(e.to_string())),
            },
        };
        let blocks = Blocks { main: located.address, app: located.app_block, width: located.width };
        let addr = located.address;
        if self.mem.is_none() {
            let open = || {
                ProcessMemory::open(pid).map_err(|e| {
                    let what = format!(
                        "cannot open the memory of process {pid} (the daemon needs ptrace access to its firmware)"
                    );
                    TargetError::opening(what, &e)
                })
            };
            self.mem = Some(open()?);
            self.strings = Some(ExeStrings::new(open()?, located.executable, located.bias));
        }
        let defmt = self.defmt_table(pid);
        let mem = self.mem.as_mut().expect("opened above");
        match RttChannels::open(mem, blocks, &defmt, self.started) {
            Ok(Some(channels)) => {
                self.channels = Some(channels);
                self.doorbell = located.doorbell.map(|at| ProcessDoorbell::new(pid, at));
                tracing::info!(addr = format_args!("{addr:#x}"), "RTT attached");
                Ok(true)
            }
            Ok(None) => Ok(false),
            // Until the new program's segments are all mapped its .bss cannot be read: a process
            // still there is worth another look; its exit is seen by the pump.
            Err(TargetError::Gone(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn read(&mut self, bytes: &mut Vec<u8>, events: &mut Vec<SessionEvent>) -> Result<(), TargetError> {
        let (Some(channels), Some(mem)) = (self.channels.as_mut(), self.mem.as_mut()) else {
            return Ok(());
        };
        match channels.read(mem, bytes, events) {
            Err(TargetError::Gone(_)) if self.exiting() => Ok(()),
            other => other,
        }
    }

    fn write(&mut self, data: &[u8]) -> Result<usize, TargetError> {
        let (Some(channels), Some(mem)) = (self.channels.as_mut(), self.mem.as_mut()) else {
            return Ok(0);
        };
        let written = channels.write(mem, data);
        if let (Ok(1..), Some(doorbell)) = (&written, self.doorbell.as_mut()) {
            // The command is in; now the executor should look (rather than on its next poll).
            if let Err(e) = doorbell.ring(mem) {
                tracing::debug!(error = %e, "the firmware's doorbell did not ring; it finds the command on its own poll");
            }
        }
        match written {
            Err(TargetError::Gone(_)) if self.exiting() => Ok(0),
            other => other,
        }
    }

    fn strings(&mut self) -> &mut dyn TargetMemory {
        match self.strings.as_mut() {
            Some(strings) => strings,
            None => &mut self.no_memory,
        }
    }

    fn debug_elf(&self) -> Option<DebugElf> {
        self.located.as_ref().map(|located| DebugElf { path: located.executable.clone(), bias: located.bias })
    }

    fn exited(&mut self) -> Option<Exit> {
        self.process.as_mut().and_then(Process::try_exit)
    }

    fn reset(&mut self) -> Result<AfterReset, TargetError> {
        self.can_restart()?;
        Ok(AfterReset::Reconnect)
    }

    fn disconnect(&mut self, sink: &Sink) {
        if let Some(channels) = self.channels.take() {
            channels.into_text().finish_in_background(sink.clone());
        }
        self.mem = None;
        self.strings = None;
        if let Some(mut process) = self.process.take() {
            process.end();
        }
        self.claim = None;
    }

    fn restarts_on_exit(&self) -> bool {
        self.config.restart && self.config.attach_to.is_none()
    }

    fn can_restart(&self) -> Result<(), TargetError> {
        match self.config.attach_to {
            Some(pid) => Err(TargetError::Unsupported(format!(
                "process {pid} was not started by this daemon: it cannot reset or restart it"
            ))),
            None => Ok(()),
        }
    }

    fn ran_before_attach(&self) -> bool {
        self.config.attach_to.is_some()
    }
}

/// Claims firmware process `pid` for this daemon: binds an abstract Unix socket named after the
/// process (its pid and start time, so a reused pid is another name). Only one daemon can hold it;
/// the kernel releases it when that daemon lets go or dies. Two daemons reading one control block
/// would each take frames the other never sees, so the second is refused.
fn claim(pid: u32) -> Result<std::os::unix::net::UnixListener, TargetError> {
    use std::os::linux::net::SocketAddrExt;
    let started = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(19).map(String::from))
        })
        .unwrap_or_default();
    let name = format!("asyncmon-firmware-{pid}-{started}");
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
        .map_err(|e| TargetError::Unavailable(format!("cannot claim process {pid}: {e}")))?;
    std::os::unix::net::UnixListener::bind_addr(&addr).map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => TargetError::Unavailable(format!(
            "process {pid} is already served by another asyncmond: stop that daemon first (two daemons reading one control block would each take frames the other never sees)"
        )),
        _ => TargetError::Unavailable(format!("cannot claim process {pid}: {e}")),
    })
}
