//! The simulated target: a firmware built for the host (the agent's `std` platform), run as a child
//! process. The daemon finds `_SEGGER_RTT` through the ELF and the process's memory map, and reads
//! and writes the RTT buffers in the process's memory, the way a probe reads a chip's RAM.

use super::elf::{locate_in_process, LocateError};
use super::process::{Exit, Process};
use super::TargetCommand;
use crate::defmt_logs::TableLoad;
use crate::device_link::DeviceLink;
use crate::hub::Hub;
use crate::memory::ProcessMemory;
use crate::rtt::{ControlBlock, DownChannel, RttError, UpChannel};
use crate::text_channels::TextChannels;
use asyncmon_protocol::host::{LogLine, LogSource, Problem, SessionEvent, TargetState};
use asyncmon_protocol::HostCommand;
use std::cell::RefCell;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The RTT channel names the agent creates.
pub const UP_CHANNEL: &str = "asyncmon";
/// See [`UP_CHANNEL`].
pub const DOWN_CHANNEL: &str = "asyncmon-control";

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

/// Runs the simulated target on its own thread until the firmware exits or `Shutdown` arrives.
pub fn spawn(
    config: SimConfig,
    hub: Arc<Hub>,
    commands: Receiver<TargetCommand>,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("asyncmon-sim".into())
        .spawn(move || {
            Sim { config, hub, commands, started: Instant::now(), defmt: RefCell::new(None) }.run()
        })
        .expect("spawning the simulator thread")
}

struct Sim {
    config: SimConfig,
    hub: Arc<Hub>,
    commands: Receiver<TargetCommand>,
    started: Instant,
    /// The defmt table of the executable with this inode: read once, not at every restart.
    defmt: RefCell<Option<(u64, TableLoad)>>,
}

/// A firmware process's memory and channels, once its control block is found.
struct Attached {
    mem: ProcessMemory,
    up: UpChannel,
    down: DownChannel,
    text: TextChannels,
}

/// How the attached loop ended.
enum End {
    /// The firmware process ended; `stopped`: after a stop request.
    Exited {
        exit: Exit,
        stopped: bool,
    },
    Shutdown,
    Reset,
}

/// The longest wait between two restarts of a firmware that keeps ending.
const MAX_RESTART_BACKOFF: Duration = Duration::from_secs(5);

impl Sim {
    fn run(self) {
        // One link for the whole run: each start of the firmware says hello and gets a new epoch.
        let mut link = DeviceLink::new(self.started);
        if let Some(pid) = self.config.attach_to {
            return self.run_found(pid, &mut link);
        }
        let mut restarts = 0u32;
        // A firmware that keeps ending is restarted less and less often.
        let mut backoff = super::Backoff::new(Duration::from_millis(200), MAX_RESTART_BACKOFF);
        loop {
            self.hub.publish(SessionEvent::TargetState(TargetState::Starting));
            let child = match Command::new(&self.config.program)
                .args(&self.config.args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
            {
                Ok(child) => child,
                Err(e) => {
                    return self
                        .fail(format!("cannot start the firmware {}: {e}", self.config.program.display()));
                }
            };
            tracing::info!(pid = child.id(), program = %self.config.program.display(), "firmware started");
            let mut child = Process::Started(child);
            if let Process::Started(c) = &mut child {
                self.forward_output(c);
            }
            let end = match self.attach(child.id()) {
                Ok(attached) => self.serve(&mut child, &mut link, attached, false),
                Err(reason) => {
                    self.fail(reason);
                    self.wait_without_link(&mut child)
                }
            };
            link.discard_partial_frame();
            match end {
                End::Shutdown => return child.end(),
                End::Reset => {
                    child.end();
                    self.problem("the firmware was reset: restarting it".into());
                }
                End::Exited { exit: Exit { code, description }, stopped } => {
                    self.hub.publish(SessionEvent::TargetState(TargetState::Exited {
                        code,
                        description: description.clone(),
                    }));
                    if self.config.restart && !stopped {
                        restarts += 1;
                        let wait = backoff.next();
                        self.problem(format!(
                            "the firmware ended ({description}); restarting it in {wait:.1?} (restart {restarts})"
                        ));
                        if !self.pause(wait) {
                            return;
                        }
                    } else if !self.wait_for_reset() {
                        return;
                    }
                }
            }
        }
    }

    /// Follows a firmware process that was running before this daemon started: attaches to its
    /// control block as it is, asks the agent to resync (this daemon knows none of its strings or
    /// tasks), and never kills, resets or restarts it.
    fn run_found(&self, pid: u32, link: &mut DeviceLink) {
        self.hub.publish(SessionEvent::TargetState(TargetState::Starting));
        let mut process = Process::Found(pid);
        let end = match self.attach(pid) {
            Ok(attached) => self.serve(&mut process, link, attached, true),
            Err(reason) => {
                self.fail(reason);
                self.wait_without_link(&mut process)
            }
        };
        match end {
            End::Shutdown => {}
            End::Reset | End::Exited { .. } => {
                if let End::Exited { exit: Exit { code, description }, .. } = end {
                    self.hub.publish(SessionEvent::TargetState(TargetState::Exited { code, description }));
                }
                // Nothing to restart: wait for the daemon's shutdown.
                while !matches!(self.commands.recv(), Ok(TargetCommand::Shutdown) | Err(_)) {
                    self.problem(format!(
                        "process {pid} was not started by this daemon: it cannot reset or stop it now"
                    ));
                }
            }
        }
    }

    /// Waits `time`, answering commands; `false` if the daemon is shutting down.
    fn pause(&self, time: Duration) -> bool {
        let until = Instant::now() + time;
        loop {
            match self.commands.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok(TargetCommand::Shutdown) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return false
                }
                Ok(TargetCommand::Reset) => return true,
                Ok(TargetCommand::Stop { .. }) => {
                    self.problem("cannot send a stop request: the firmware is not running".into())
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => return true,
            }
        }
    }

    /// After the firmware ended: waits for a reset (start it again, `true`) or the daemon's
    /// shutdown (`false`).
    fn wait_for_reset(&self) -> bool {
        loop {
            match self.commands.recv() {
                Ok(TargetCommand::Reset) => return true,
                Ok(TargetCommand::Shutdown) | Err(_) => return false,
                Ok(TargetCommand::Stop { .. }) => {
                    self.problem("cannot send a stop request: the firmware is not running".into())
                }
            }
        }
    }

    fn fail(&self, reason: String) {
        tracing::error!("{reason}");
        self.problem(reason.clone());
        self.hub.publish(SessionEvent::TargetState(TargetState::Failed { reason }));
    }

    fn problem(&self, text: String) {
        let at_ms = self.started.elapsed().as_millis() as u64;
        self.hub.publish(SessionEvent::Problem(Problem { at_ms, text }));
    }

    /// Publishes the firmware's stdout and stderr lines as log events.
    fn forward_output(&self, child: &mut Child) {
        fn pump(stream: impl Read + Send + 'static, source: LogSource, hub: Arc<Hub>, started: Instant) {
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(text) = line else { break };
                    let at_ms = started.elapsed().as_millis() as u64;
                    hub.publish(SessionEvent::Log(LogLine::plain(at_ms, source, text)));
                }
            });
        }
        if let Some(out) = child.stdout.take() {
            pump(out, LogSource::FirmwareStdout, self.hub.clone(), self.started);
        }
        if let Some(err) = child.stderr.take() {
            pump(err, LogSource::FirmwareStderr, self.hub.clone(), self.started);
        }
    }

    /// Finds the control block in process `pid` and attaches to the asyncmon channels.
    fn attach(&self, pid: u32) -> Result<Attached, String> {
        let deadline = Instant::now() + self.config.attach_timeout;
        // The kernel lets `spawn` return before the new program's segments are mapped (the exec
        // releases the parent first): until they are, the executable is not in the memory map yet.
        let (addr, width) = loop {
            match locate_in_process(pid) {
                Ok(found) => break found,
                Err(LocateError::NotMapped(_)) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Err(e) => return Err(e.to_string()),
            }
        };
        let mut mem = ProcessMemory::open(pid).map_err(|e| {
            format!("cannot open the memory of process {pid}: {e} (the daemon needs ptrace access to its firmware)")
        })?;
        self.hub.publish(SessionEvent::TargetState(TargetState::WaitingForControlBlock));
        loop {
            match ControlBlock::is_initialised(&mut mem, addr) {
                Ok(true) => break,
                Ok(false) if Instant::now() < deadline => std::thread::sleep(self.config.poll_interval),
                Ok(false) => {
                    return Err(format!(
                        "the firmware did not create its RTT control block within {:.1?}: does it call asyncmon_agent::link::init?",
                        self.config.attach_timeout
                    ))
                }
                // Until the new program's segments are all mapped, its .bss reads fail: a process
                // still alive is worth another look.
                Err(_) if Instant::now() < deadline && super::process::alive(pid) => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Err(e) => return Err(format!("the firmware went away before RTT was up: {e}")),
            }
        }
        let block = ControlBlock::read(&mut mem, addr, width).map_err(|e| e.to_string())?;
        let up = UpChannel::attach(&mut mem, block.up_channel(UP_CHANNEL).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        let down = DownChannel::attach(block.down_channel(DOWN_CHANNEL).map_err(|e| e.to_string())?);
        let text = TextChannels::attach(&mut mem, &block, UP_CHANNEL, self.started, &self.defmt_table(pid));
        tracing::info!(addr = format_args!("{addr:#x}"), "RTT attached");
        self.hub.publish(SessionEvent::TargetState(TargetState::Attached));
        Ok(Attached { mem, up, down, text })
    }

    /// The defmt table of process `pid`'s executable, read the first time that executable runs.
    fn defmt_table(&self, pid: u32) -> TableLoad {
        let exe = PathBuf::from(format!("/proc/{pid}/exe"));
        let inode = std::fs::metadata(&exe).map(|m| std::os::unix::fs::MetadataExt::ino(&m)).unwrap_or(0);
        let mut cache = self.defmt.borrow_mut();
        match &*cache {
            Some((cached, table)) if *cached == inode => table.clone(),
            _ => {
                // Resolve the link now: the process (and its /proc entry) may be gone by the time
                // the table is read.
                let table = TableLoad::start(std::fs::read_link(&exe).unwrap_or(exe));
                *cache = Some((inode, table.clone()));
                table
            }
        }
    }

    /// Reads frames and carries out commands until the firmware exits or the daemon shuts down.
    fn serve(&self, child: &mut Process, link: &mut DeviceLink, attached: Attached, resync: bool) -> End {
        let Attached { mut mem, mut up, mut down, mut text } = attached;
        let mut stopped = false;
        // A firmware that ran before this daemon attached is asked to say hello again and
        // announce its tasks.
        let mut outgoing: Vec<u8> =
            if resync { super::control_frame(&HostCommand::Resync).to_vec() } else { Vec::new() };
        let mut bytes = Vec::with_capacity(4096);
        let mut events = Vec::new();
        let mut last_stats = link.stats();
        let mut last_stats_sent = Instant::now();
        let mut link_broken = false;
        loop {
            match self.commands.try_recv() {
                Ok(TargetCommand::Reset) => return End::Reset,
                Ok(TargetCommand::Stop { request_id, hard }) => {
                    stopped = true;
                    let command = if hard {
                        HostCommand::HardStop { request_id }
                    } else {
                        HostCommand::Stop { request_id }
                    };
                    outgoing.extend_from_slice(&super::control_frame(&command));
                    tracing::info!(request_id, hard, "stop request queued");
                }
                Ok(TargetCommand::Shutdown) | Err(TryRecvError::Disconnected) => return End::Shutdown,
                Err(TryRecvError::Empty) => {}
            }
            // Check for exit before reading: the last read after exit is not possible, so the final
            // read happens while the process is still there.
            let status = child.try_exit();
            bytes.clear();
            if !link_broken {
                if !outgoing.is_empty() {
                    match down.write(&mut mem, &outgoing) {
                        Ok(n) => drop(outgoing.drain(..n)),
                        Err(e) => tracing::debug!("down channel: {e}"),
                    }
                }
                match up.read(&mut mem, &mut bytes).and_then(|_| text.read(&mut mem, &mut events)) {
                    Ok(_) => {}
                    Err(RttError::Memory { .. }) if status.is_some() || child_gone(child) => {}
                    Err(e) => {
                        link_broken = true;
                        self.problem(format!("RTT link lost: {e}"));
                    }
                }
            }
            for event in events.drain(..) {
                self.hub.publish(event);
            }
            if !bytes.is_empty() {
                link.ingest(&bytes, &mut mem, &mut events);
                for event in events.drain(..) {
                    self.hub.publish(event);
                }
                if link.take_resync_request() {
                    tracing::info!(
                        "the firmware referred to strings this daemon never saw: asking it to resync"
                    );
                    outgoing.extend_from_slice(&super::control_frame(&HostCommand::Resync));
                }
            }
            let stats = link.stats();
            if stats != last_stats
                && (last_stats_sent.elapsed() >= Duration::from_millis(100) || status.is_some())
            {
                self.hub.publish(SessionEvent::Stats(stats));
                last_stats = stats;
                last_stats_sent = Instant::now();
            }
            if let Some(exit) = status.or_else(|| child.try_exit()) {
                if link.pending_bytes() > 0 {
                    let lost = link.discard_partial_frame();
                    self.problem(format!(
                        "the firmware exited in the middle of a frame: {lost} bytes of an unfinished frame were lost"
                    ));
                }
                // The final counters, before the exit is published.
                self.hub.publish(SessionEvent::Stats(link.stats()));
                text.finish_in_background(self.hub.clone());
                return End::Exited { exit, stopped };
            }
            if bytes.is_empty() {
                std::thread::sleep(self.config.poll_interval);
            }
        }
    }

    /// Without a link, only waits for the firmware to exit (or the daemon to shut down).
    fn wait_without_link(&self, child: &mut Process) -> End {
        loop {
            if let Some(exit) = child.try_exit() {
                return End::Exited { exit, stopped: false };
            }
            match self.commands.recv_timeout(Duration::from_millis(50)) {
                Ok(TargetCommand::Stop { .. }) => {
                    self.problem("cannot send a stop request: the RTT link is not attached".into())
                }
                Ok(TargetCommand::Shutdown) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return End::Shutdown
                }
                Ok(TargetCommand::Reset) => return End::Reset,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
    }
}

/// Whether a read failed because the firmware is exiting: its memory goes away a moment before it
/// can be reaped, so give it that moment (bounded) before calling the link lost.
fn child_gone(child: &mut Process) -> bool {
    let deadline = Instant::now() + Duration::from_millis(250);
    loop {
        if !std::path::Path::new(&format!("/proc/{}/mem", child.id())).exists() || child.try_exit().is_some()
        {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
