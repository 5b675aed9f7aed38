//! A transport that plays a script: each call the pump makes takes the next step. For the pump's
//! tests and its fuzz target — a stand-in for a target, never a backend. When the script runs
//! out it behaves: the link opens, a hello comes, and nothing breaks any more, so a test can see
//! that the pump recovered whatever happened before.

use super::command::TargetCommand;
use super::error::TargetError;
use super::process::Exit;
use super::sink::Sink;
use super::transport::{AfterReset, Timing, Transport};
use crate::memory::{NoMemory, TargetMemory};
use crate::rtt::RttError;
use asyncmon_protocol::host::{SessionEvent, TargetDescription};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One step of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The call works (a read returns nothing).
    Fine,
    /// `connect` cannot reach the target; `open_link` finds no block yet.
    NotThere,
    /// The control block makes no sense.
    Corrupt,
    /// The target is gone.
    Gone,
    /// The firmware cannot be served.
    Unusable,
    /// This machine cannot open what the link needs now (out of file descriptors).
    Busy,
    /// A read returns these bytes.
    Bytes(Vec<u8>),
    /// The firmware exits.
    Exit,
    /// The daemon sends this command.
    Command(TargetCommand),
}

/// What the scripted target's link is doing, shared with a test's sink.
#[derive(Debug, Default)]
pub struct LinkFlags {
    /// The link is open: frames can flow.
    pub open: AtomicBool,
    /// A call just failed with a broken link or a lost target; the pump's next event must say so.
    pub broke: AtomicBool,
    /// The script ran out: from now on the target behaves.
    pub script_done: AtomicBool,
}

/// See the module documentation.
pub struct Scripted {
    steps: VecDeque<Step>,
    commands: Sender<TargetCommand>,
    flags: Arc<LinkFlags>,
    /// The firmware's hello, said again after each start.
    hello: Vec<u8>,
    /// What `read` returns once the script ran out: a hello, then nothing.
    epilogue: Option<Vec<u8>>,
    exited: bool,
    written: Vec<u8>,
    started: Instant,
    reset_relinks: bool,
    no_memory: NoMemory,
}

impl Scripted {
    /// Plays `steps`, sending `Command` steps to `commands`; `hello` is read once the script ran
    /// out. A reset re-opens the link in place when `reset_relinks`, or reconnects.
    pub fn new(
        steps: Vec<Step>,
        commands: Sender<TargetCommand>,
        hello: Vec<u8>,
        reset_relinks: bool,
    ) -> Self {
        Scripted {
            steps: steps.into(),
            commands,
            flags: Arc::default(),
            epilogue: Some(hello.clone()),
            hello,
            exited: false,
            written: Vec::new(),
            started: Instant::now(),
            reset_relinks,
            no_memory: NoMemory,
        }
    }

    /// The link's flags, for a sink that checks what the pump says against them.
    pub fn flags(&self) -> Arc<LinkFlags> {
        self.flags.clone()
    }

    fn next(&mut self) -> Step {
        let step = self.steps.pop_front().unwrap_or(Step::Fine);
        if self.steps.is_empty() {
            self.flags.script_done.store(true, Ordering::SeqCst);
        }
        if let Step::Command(command) = step {
            let _ = self.commands.send(command);
            return Step::Fine;
        }
        step
    }

    fn broke(&self, error: TargetError) -> TargetError {
        self.flags.open.store(false, Ordering::SeqCst);
        if !self.exited {
            self.flags.broke.store(true, Ordering::SeqCst);
        }
        error
    }
}

impl Transport for Scripted {
    fn describe(&self) -> TargetDescription {
        TargetDescription { backend: "scripted".into(), name: "a script".into() }
    }

    fn timing(&self) -> Timing {
        Timing {
            poll_interval: Duration::ZERO,
            attach_timeout: Duration::from_millis(5),
            reconnect_backoff: Duration::ZERO,
            relink_backoff: Duration::ZERO,
        }
    }

    fn clock(&self) -> Instant {
        self.started
    }

    fn connect(&mut self, _: &Sink) -> Result<(), TargetError> {
        self.exited = false;
        self.epilogue = Some(self.hello.clone());
        match self.next() {
            Step::NotThere => Err(TargetError::Unavailable("nothing to connect to".into())),
            Step::Gone => Err(TargetError::Gone("gone while connecting".into())),
            _ => Ok(()),
        }
    }

    fn open_link(&mut self) -> Result<bool, TargetError> {
        let result = match self.next() {
            Step::NotThere => Ok(false),
            Step::Corrupt => Err(TargetError::Link(RttError::Corrupted("a scripted bad offset".into()))),
            Step::Gone => Err(TargetError::Gone("gone while opening".into())),
            Step::Unusable => Err(TargetError::Firmware("a scripted firmware without RTT".into())),
            Step::Busy => Err(TargetError::Unavailable("Too many open files (trying again)".into())),
            Step::Exit => {
                self.exited = true;
                Ok(false)
            }
            _ => Ok(true),
        };
        self.flags.open.store(matches!(result, Ok(true)), Ordering::SeqCst);
        result
    }

    fn read(&mut self, bytes: &mut Vec<u8>, _: &mut Vec<SessionEvent>) -> Result<(), TargetError> {
        if self.steps.is_empty() {
            bytes.extend(self.epilogue.take().unwrap_or_default());
            return Ok(());
        }
        match self.next() {
            Step::Bytes(data) => bytes.extend(data),
            Step::Corrupt => return Err(self.broke(TargetError::Link(RttError::Reinitialised))),
            Step::Gone => return Err(self.broke(TargetError::Gone("gone while reading".into()))),
            Step::Exit => self.exited = true,
            _ => {}
        }
        Ok(())
    }

    fn write(&mut self, data: &[u8]) -> Result<usize, TargetError> {
        self.written.extend_from_slice(data);
        Ok(data.len())
    }

    fn strings(&mut self) -> &mut dyn TargetMemory {
        &mut self.no_memory
    }

    fn exited(&mut self) -> Option<Exit> {
        // Exits and commands come whatever the pump is doing, even waiting out an unusable
        // firmware (the pump asks for an exit on every pass).
        while matches!(self.steps.front(), Some(Step::Exit | Step::Command(_))) {
            if self.next() == Step::Exit {
                self.exited = true;
            }
        }
        self.exited.then(|| Exit { code: Some(1), description: "a scripted exit".into() })
    }

    fn reset(&mut self) -> Result<AfterReset, TargetError> {
        self.flags.open.store(false, Ordering::SeqCst);
        self.epilogue = Some(self.hello.clone());
        Ok(if self.reset_relinks { AfterReset::Relink } else { AfterReset::Reconnect })
    }

    fn disconnect(&mut self, _: &Sink) {
        self.flags.open.store(false, Ordering::SeqCst);
    }

    fn restarts_on_exit(&self) -> bool {
        true
    }
}

/// A hello frame of a firmware called "scripted".
pub fn hello_frame() -> Vec<u8> {
    use asyncmon_protocol::device::{DeviceMessage, Hello, Text};
    use asyncmon_protocol::frame::{self, MAX_FRAME};
    let hello = DeviceMessage::Hello(Hello {
        version: asyncmon_protocol::PROTOCOL_VERSION,
        firmware: Text::Inline("scripted"),
        build_id: Text::Inline("1"),
    });
    let mut out = [0u8; MAX_FRAME];
    frame::encode(&hello, &mut out).expect("a hello fits").to_vec()
}

/// A sink that holds the pump to its word: `Attached` only while the link is open, and the first
/// event after the link broke is a state that is not `Attached`.
struct Checking {
    flags: Arc<LinkFlags>,
    events: std::sync::Mutex<Vec<SessionEvent>>,
}

impl super::EventSink for Checking {
    fn publish(&self, event: SessionEvent) {
        use asyncmon_protocol::host::TargetState;
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        if self.flags.broke.swap(false, Ordering::SeqCst) {
            assert!(
                matches!(&event, SessionEvent::TargetState(s) if *s != TargetState::Attached),
                "the link broke but the pump said {event:?} first"
            );
        }
        if let SessionEvent::TargetState(TargetState::Attached) = event {
            assert!(self.flags.open.load(Ordering::SeqCst), "Attached while the link is not open");
        }
        events.push(event);
    }
}

/// Runs a pump over `steps` and returns every event it published, once the firmware said hello
/// after the script ran out (the pump recovered). Panics if the pump broke its word (see
/// [`Checking`]), panicked, or did not recover within `deadline`.
pub fn play(steps: Vec<Step>, reset_relinks: bool, deadline: Duration) -> Vec<SessionEvent> {
    let (commands, commands_rx) = std::sync::mpsc::channel();
    let transport = Scripted::new(steps, commands.clone(), hello_frame(), reset_relinks);
    let flags = transport.flags();
    let sink = Arc::new(Checking { flags: flags.clone(), events: Default::default() });
    let thread = super::pump::spawn("scripted", transport, sink.clone(), commands_rx);
    let until = Instant::now() + deadline;
    let recovered = || {
        let events = sink.events.lock().unwrap_or_else(|e| e.into_inner());
        flags.script_done.load(Ordering::SeqCst)
            && events.iter().rev().take_while(|e| !matches!(e, SessionEvent::TargetState(s) if *s != asyncmon_protocol::host::TargetState::Attached)).any(|e| matches!(e, SessionEvent::SessionStarted { .. }))
    };
    let (mut nudged, mut seen) = (Instant::now(), 0);
    while !recovered() && !thread.is_finished() {
        assert!(Instant::now() < until, "the pump did not recover: {:#?}", sink.events.lock().unwrap());
        // A firmware that ended after a stop, or cannot be served, waits for a reset, as a user
        // would give it: one whenever nothing happened for a while.
        let count = sink.events.lock().unwrap_or_else(|e| e.into_inner()).len();
        if count != seen {
            (seen, nudged) = (count, Instant::now());
        } else if nudged.elapsed() > Duration::from_millis(100) {
            nudged = Instant::now();
            let _ = commands.send(TargetCommand::Reset);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = commands.send(TargetCommand::Shutdown);
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
    let events = sink.events.lock().unwrap_or_else(|e| e.into_inner()).clone();
    events
}
