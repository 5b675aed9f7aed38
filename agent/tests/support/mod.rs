//! Shared by the agent's tests: an error type that records where it was raised, a recording
//! exception handler, and the host side of the RTT link, read out of this very process's memory
//! with the daemon's own RTT code (as the simulator reads a firmware).

#![allow(dead_code)]

use asyncmon_agent::{Cancelled, Context, Exception, FailurePath};
use asyncmon_daemon::backend::doorbell::ProcessDoorbell;
use asyncmon_daemon::backend::{locate_executable, locate_in_process};
use asyncmon_daemon::device_link::DeviceLink;
use asyncmon_daemon::memory::ProcessMemory;
use asyncmon_daemon::rtt::{ControlBlock, DownChannel, UpChannel};
use asyncmon_protocol::frame::{self, MAX_FRAME};
use asyncmon_protocol::host::SessionEvent;
use asyncmon_protocol::HostCommand;
use core::panic::Location;
use std::sync::{Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

/// The exception handler and the RTT link are global: tests in one binary take turns.
pub fn turn() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// The test's error type.
#[derive(Debug, PartialEq)]
pub enum AppError {
    Timeout(&'static Location<'static>),
    Cleanup(&'static str),
    Cancelled,
}

impl AppError {
    #[track_caller]
    pub fn timeout() -> Self {
        AppError::Timeout(Location::caller())
    }
}

impl core::fmt::Display for AppError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AppError::Timeout(_) => f.write_str("sensor did not answer within 50 ms"),
            AppError::Cleanup(what) => write!(f, "cleanup failed: {what}"),
            AppError::Cancelled => f.write_str("cancelled"),
        }
    }
}

impl Exception for AppError {
    fn raised_at(&self) -> Option<&'static Location<'static>> {
        match self {
            AppError::Timeout(at) => Some(at),
            _ => None,
        }
    }

    fn is_cancellation(&self) -> bool {
        *self == AppError::Cancelled
    }
}

impl From<Cancelled> for AppError {
    fn from(_: Cancelled) -> Self {
        AppError::Cancelled
    }
}

impl From<asyncmon_agent::SpawnError> for AppError {
    fn from(_: asyncmon_agent::SpawnError) -> Self {
        AppError::Cleanup("spawn failed")
    }
}

impl From<asyncmon_agent::Timeout> for AppError {
    fn from(_: asyncmon_agent::Timeout) -> Self {
        AppError::timeout()
    }
}

/// What a recording handler saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub message: String,
    pub type_name: String,
    pub rendered: String,
    pub raised_line: Option<u32>,
    pub task_name: Option<&'static str>,
    pub parent: Option<u32>,
    pub path: FailurePath,
}

pub static SEEN: Mutex<Vec<Seen>> = Mutex::new(Vec::new());

/// An exception handler that records what it was given.
pub fn record(ctx: &Context<'_>) {
    SEEN.lock().unwrap().push(Seen {
        message: ctx.message.to_string(),
        type_name: ctx.exception.map(|e| e.type_name().to_string()).unwrap_or_default(),
        rendered: ctx.exception.map(|e| e.to_string()).unwrap_or_default(),
        raised_line: ctx.exception.and_then(|e| e.raised_at()).map(|l| l.line()),
        task_name: ctx.task.map(|t| t.name),
        parent: ctx.task.and_then(|t| t.parent),
        path: ctx.path,
    });
}

/// Installs [`record`] with an empty record.
pub fn recording() {
    SEEN.lock().unwrap().clear();
    asyncmon_agent::set_exception_handler(Some(record));
}

pub fn seen() -> Vec<Seen> {
    SEEN.lock().unwrap().clone()
}

/// A shared, ordered log of what tasks did.
pub static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn log(line: impl Into<String>) {
    LOG.lock().unwrap().push(line.into());
}

pub fn take_log() -> Vec<String> {
    std::mem::take(&mut *LOG.lock().unwrap())
}

/// The host's end of this process's RTT link.
pub struct Host {
    mem: ProcessMemory,
    up: UpChannel,
    down: DownChannel,
    link: DeviceLink,
    doorbell: ProcessDoorbell,
    pub events: Vec<SessionEvent>,
}

impl Host {
    /// Initialises the agent's link (once per test binary) and attaches to it.
    pub fn attach() -> Host {
        static INIT: Once = Once::new();
        INIT.call_once(|| asyncmon_agent::link::init("agent-tests", "1"));
        let pid = std::process::id();
        let (addr, width) = locate_in_process(pid).unwrap();
        let mut mem = ProcessMemory::open(pid).unwrap();
        let block = ControlBlock::read(&mut mem, addr, width).unwrap();
        let mut up = UpChannel::attach(&mut mem, block.up_channel("asyncmon").unwrap()).unwrap();
        let down = DownChannel::attach(block.down_channel("asyncmon-control").unwrap());
        // Skip what earlier tests left in the buffer, and start over with the agent, as a host that
        // attaches to a running firmware does.
        up.read(&mut mem, &mut Vec::new()).unwrap();
        let doorbell = ProcessDoorbell::new(
            pid,
            locate_executable(pid).unwrap().doorbell.expect("the agent's doorbell"),
        );
        let mut host =
            Host { mem, up, down, link: DeviceLink::new(Instant::now()), doorbell, events: Vec::new() };
        host.command(HostCommand::Resync);
        host
    }

    /// Writes a stop (or hard stop) request to the down channel.
    pub fn stop(&mut self, request_id: u32, hard: bool) {
        self.command(if hard {
            HostCommand::HardStop { request_id }
        } else {
            HostCommand::Stop { request_id }
        });
    }

    /// Asks the agent to name its running tasks again, in the same session.
    pub fn roll_call(&mut self) {
        self.command(HostCommand::RollCall);
    }

    fn command(&mut self, command: HostCommand) {
        let mut out = [0u8; MAX_FRAME];
        let frame = frame::encode(&command, &mut out).unwrap();
        assert_eq!(self.down.write(&mut self.mem, frame).unwrap(), frame.len());
        // As the daemon does: the executor reads the command at once.
        assert!(self.doorbell.ring(&mut self.mem).unwrap(), "the agent has a doorbell on std");
    }

    /// What the host's side of the link counted: frames decoded, frames the firmware said it lost.
    pub fn link_stats(&self) -> asyncmon_protocol::host::LinkStats {
        self.link.stats()
    }

    /// Reads what the agent sent since the last read.
    pub fn read(&mut self) {
        let mut bytes = Vec::new();
        self.up.read(&mut self.mem, &mut bytes).unwrap();
        self.link.ingest(&bytes, &mut self.mem, &mut self.events);
    }

    /// Reads for up to `timeout` until `done` holds for the events.
    pub fn read_until(&mut self, timeout: Duration, done: impl Fn(&[SessionEvent]) -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            self.read();
            if done(&self.events) || Instant::now() > deadline {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Runs `host` on a thread of its own while the test thread runs the executor.
pub fn with_host<R: Send + 'static>(
    host: impl FnOnce(Host) -> R + Send + 'static,
) -> std::thread::JoinHandle<R> {
    let h = Host::attach();
    std::thread::spawn(move || host(h))
}
