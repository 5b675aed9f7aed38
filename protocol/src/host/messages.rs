//! The host-link message types: resolved, owned versions of what the device reported, plus the
//! daemon's own view of the target and the link.

use serde::{Deserialize, Serialize};
use std::string::String;
use std::vec::Vec;

pub use crate::device::{FailurePath, TaskId, TaskOutcome, TaskRunState};

/// A place in the firmware's source, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The file as the firmware's compiler saw it.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column; 0 when the source gives only a line (defmt's log locations).
    pub column: u32,
}

impl core::fmt::Display for Location {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match (self.file.is_empty(), self.line, self.column) {
            // No place was said (an embassy task whose function the debug info did not give).
            (true, 0, _) => f.write_str("unknown"),
            (_, _, 0) => write!(f, "{}:{}", self.file, self.line),
            (_, _, column) => write!(f, "{}:{}:{column}", self.file, self.line),
        }
    }
}

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskState {
    /// Spawned and not finished.
    Running,
    /// Finished: see the outcome.
    Finished(TaskOutcome),
    /// Its end was never seen: it belonged to an earlier session epoch (the target reset or
    /// restarted, or a host attached again), the firmware ended with it running, or its end frame
    /// was lost and the firmware's roll call no longer named it.
    Gone,
    /// It was running when the firmware halted (a panic): it will not run again until a reset.
    Halted,
}

/// A task as the host knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// The session epoch the task belongs to.
    pub epoch: u32,
    /// Its id within the epoch.
    pub id: TaskId,
    /// Its name.
    pub name: String,
    /// Where it was spawned.
    pub spawned_at: Location,
    /// The task that spawned it (`None` for main).
    pub parent: Option<TaskId>,
    /// Its state.
    pub state: TaskState,
    /// The bytes of static storage its slot holds, when the agent reports it.
    pub storage_bytes: Option<u32>,
    /// The bytes its future (or output) really needs, of those, when the agent reports it.
    #[serde(default)]
    pub future_bytes: Option<u32>,
    /// How it has been polled, when the agent samples it (its `task-stats` feature).
    #[serde(default)]
    pub stats: Option<PollStats>,
}

/// A task's poll statistics, as last sampled on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PollStats {
    /// How many times it was polled.
    pub polls: u32,
    /// Microseconds spent inside its polls, in total.
    pub busy_us: u64,
    /// The longest single poll, in microseconds.
    pub max_poll_us: u32,
    /// Polls after which it was ready again at once because it woke itself.
    pub self_wakes: u32,
    /// Microseconds since its last poll, when sampled.
    pub idle_us: u32,
    /// When the sample arrived (milliseconds since the daemon started).
    pub sampled_at_ms: u64,
    /// Where the task was when sampled.
    #[serde(default)]
    pub state: TaskRunState,
}

impl PollStats {
    /// The share of polls that followed a wake by the task itself, in percent.
    pub fn self_wake_percent(&self) -> u32 {
        (u64::from(self.self_wakes) * 100 / u64::from(self.polls.max(1))) as u32
    }
}

/// The exception a task failed with, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exception {
    /// The error type's name.
    pub type_name: String,
    /// The rendered error.
    pub message: String,
    /// Where it was raised, when known.
    pub raised_at: Option<Location>,
}

/// A failure the exception handler received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Numbered from 1 in the order the daemon received failures.
    pub seq: u64,
    /// The session epoch it happened in.
    pub epoch: u32,
    /// Milliseconds since the daemon started when it arrived.
    pub at_ms: u64,
    /// The handler's message ("Task exception was never retrieved").
    pub message: String,
    /// The exception, when there is one.
    pub exception: Option<Exception>,
    /// The task, when the failure belongs to one.
    pub task: Option<Task>,
    /// The path the failure took.
    pub path: FailurePath,
}

/// What the firmware said about itself in its hello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirmwareInfo {
    /// The firmware's name.
    pub name: String,
    /// Its build id.
    pub build_id: String,
    /// The device-link protocol version it speaks.
    pub protocol_version: u16,
}

/// How one task ended during a shutdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskEndingReport {
    /// The task.
    pub id: TaskId,
    /// Its name.
    pub name: String,
    /// How it ended (cleanly cancelled, failed during cleanup, dropped at the deadline).
    pub outcome: TaskOutcome,
}

/// The answer to a stop request, with task names resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterruptReport {
    /// The stop request it answers.
    pub request_id: u32,
    /// Each task that ended during the shutdown (main first) and how.
    pub tasks: Vec<TaskEndingReport>,
    /// How many tasks ended in all (may exceed `tasks.len()`).
    pub total: u32,
    /// A second stop request or the deadline cut the shutdown short.
    pub hard_stop: bool,
}

/// Which kind of target a daemon owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetDescription {
    /// `sim`, `probe-rs` or `tcp`.
    pub backend: String,
    /// What the target is (a firmware path, a chip name, an address).
    pub name: String,
}

impl core::fmt::Display for TargetDescription {
    /// `backend: name` (`sim: target/debug/app`), as every client names a target.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.backend, self.name)
    }
}

/// The daemon's connection to its target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TargetState {
    /// Starting the target.
    Starting,
    /// Running; waiting for the firmware to create its RTT control block.
    WaitingForControlBlock,
    /// RTT is attached and frames are read.
    Attached,
    /// The firmware process ended (simulator) with this exit code, described in words.
    Exited {
        /// The exit code, `None` when killed by a signal.
        code: Option<i32>,
        /// What the code means ("KeyboardInterrupt (130)").
        description: String,
    },
    /// The target cannot be used; the reason says why and what to do.
    Failed {
        /// Why, in words.
        reason: String,
    },
    /// The firmware halted (a panic): nothing runs, nothing can be stopped, until a reset.
    Halted {
        /// Why, in words ("panic in faulty").
        reason: String,
    },
}

/// Counters of the device link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStats {
    /// Bytes read from the up channel.
    pub bytes: u64,
    /// Frames decoded.
    pub frames: u64,
    /// Frames the firmware reported it dropped because its up buffer was full.
    pub frames_lost_on_device: u64,
    /// Frames rejected by the host (bad COBS, CRC or message).
    pub frames_rejected: u64,
    /// Bytes thrown away with rejected frames.
    pub bytes_rejected: u64,
}

/// Where a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogSource {
    /// The firmware's standard output (simulated target).
    FirmwareStdout,
    /// The firmware's standard error (simulated target).
    FirmwareStderr,
    /// The daemon itself (flash progress, attach messages).
    Daemon,
    /// A text channel of the firmware's RTT (everything but the asyncmon channel).
    RttText,
    /// The firmware's defmt channel, decoded with the table in its ELF.
    Defmt,
}

/// A log line's severity, as defmt (and most loggers) rank them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LogLevel {
    /// Tracing detail.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected that the firmware handled.
    Warn,
    /// Something failed.
    Error,
}

impl LogLevel {
    /// The level's name in lower case, as defmt writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }

    /// Parses a level's name (any case).
    pub fn parse(name: &str) -> Option<LogLevel> {
        [LogLevel::Trace, LogLevel::Debug, LogLevel::Info, LogLevel::Warn, LogLevel::Error]
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(name))
    }
}

/// A line of firmware output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// Milliseconds since the daemon started.
    pub at_ms: u64,
    /// Where it came from.
    pub source: LogSource,
    /// The text, without the newline.
    pub text: String,
    /// The severity, when the source has one (defmt).
    #[serde(default)]
    pub level: Option<LogLevel>,
    /// The statement that logged it, when the source tells (defmt, from the ELF's debug info).
    #[serde(default)]
    pub location: Option<Location>,
    /// The firmware's own timestamp, as it formats it (defmt's `timestamp!`).
    #[serde(default)]
    pub device_time: Option<String>,
}

impl LogLine {
    /// A line with no level, location or device time: plain text output.
    pub fn plain(at_ms: u64, source: LogSource, text: String) -> LogLine {
        LogLine { at_ms, source, text, level: None, location: None, device_time: None }
    }
}

/// Something a user should know about the link: bad input, a version mismatch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Milliseconds since the daemon started.
    pub at_ms: u64,
    /// What happened and what to do, in words.
    pub text: String,
}

/// A change to a session; [`crate::host::SessionState::apply`] folds these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionEvent {
    /// The daemon's connection to the target changed.
    TargetState(TargetState),
    /// A firmware said hello: a new session epoch starts, earlier tasks are gone.
    SessionStarted {
        /// The new epoch.
        epoch: u32,
        /// The firmware.
        firmware: FirmwareInfo,
    },
    /// A task was spawned.
    TaskSpawned(Task),
    /// A task of the current epoch ended.
    TaskFinished {
        /// The task.
        id: TaskId,
        /// How.
        outcome: TaskOutcome,
    },
    /// The exception handler was called.
    Failure(Failure),
    /// A stop request was carried out.
    Interrupted(InterruptReport),
    /// New link counters.
    Stats(LinkStats),
    /// Firmware output.
    Log(LogLine),
    /// Something went wrong on the link.
    Problem(Problem),
    /// New poll statistics for a task of the current epoch.
    TaskStats {
        /// The task.
        id: TaskId,
        /// Its statistics.
        stats: PollStats,
    },
    /// After frames were lost, the firmware named every task still running in the current epoch:
    /// a task shown running that it did not name ended unseen and is gone.
    RollCall {
        /// The tasks running now.
        running: Vec<TaskId>,
    },
    /// Where every running task is waiting, read again from target memory (sent when it changed,
    /// or when a client asked).
    AwaitTraces(AwaitTraces),
    /// The firmware runs another executor than the agent's (seen from its frames): what a stop and
    /// a failure mean depend on it.
    ExecutorObserved(Executor),
    /// An embassy firmware answered a stop request: its stop hook ran, or it has none and nothing
    /// was stopped (its tasks cannot be cancelled from outside). Never a KeyboardInterrupt.
    StopHandled {
        /// The stop request answered.
        request_id: u32,
        /// Whether the firmware's stop hook ran.
        hook_ran: bool,
        /// It answered a hard stop.
        hard: bool,
    },
    /// How much of the time the observed executor slept, as last sampled.
    ExecutorLoad(ExecutorLoad),
    /// Where a task of the current epoch was declared, for a task whose spawn frame said no place
    /// (an embassy task: the device sends only its header's address): its task function, from the
    /// firmware's debug info. It becomes the task's `spawned_at`.
    TaskDeclared {
        /// The task.
        id: TaskId,
        /// Its task function's declaration.
        at: Location,
    },
    /// Polls one by one, as a firmware with the `poll-trace` feature sends them (a timeline's
    /// slices); they change nothing in the session model.
    Polls(Polls),
}

/// A batch of polls, in the device's clock (nanoseconds since it started counting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Polls {
    /// The device's clock when the batch was sent: with the time the daemon read it, this maps the
    /// device's clock to the host's.
    pub device_now_ns: u64,
    /// The polls, in the order they ran.
    pub slices: Vec<PollSlice>,
}

/// One poll of a task of the current epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollSlice {
    /// The task.
    pub task: TaskId,
    /// When the poll started, in the device's clock.
    pub start_ns: u64,
    /// How long it took.
    pub busy_ns: u64,
}

/// How much of the time an executor slept (from `asyncmon-embassy`'s samples).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExecutorLoad {
    /// Time spent idle, in total.
    pub idle_us: u64,
    /// Time since the first round of polls.
    pub elapsed_us: u64,
}

impl ExecutorLoad {
    /// The share of the time spent idle, in percent.
    pub fn idle_percent(&self) -> f64 {
        if self.elapsed_us == 0 {
            return 100.0;
        }
        (self.idle_us.min(self.elapsed_us) as f64) * 100.0 / self.elapsed_us as f64
    }
}

/// Which executor a firmware runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Executor {
    /// asyncmon-agent's: failures are routed as asyncio's are, a stop is a KeyboardInterrupt.
    #[default]
    Agent,
    /// embassy-executor, watched by asyncmon-embassy: tasks return `()`, so failures are panics; a
    /// stop calls the firmware's stop hook, if it has one.
    Embassy,
}

/// Where every running task of an epoch is waiting: each task's await trace, read by the daemon
/// from target memory with the firmware's debug info (the device runs no code for it).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AwaitTraces {
    /// The session epoch the traces belong to.
    pub epoch: u32,
    /// When they were read (milliseconds since the daemon started).
    pub at_ms: u64,
    /// One per running task whose future the firmware located, in task id order.
    pub tasks: Vec<TaskTrace>,
    /// Why there are no traces, when there are none to be had (no debug info, a firmware whose
    /// agent does not say where its futures are, a target whose memory cannot be read), in words
    /// that say what to do.
    pub unavailable: Option<String>,
}

impl AwaitTraces {
    /// The trace of task `id`, if it has one.
    pub fn task(&self, id: TaskId) -> Option<&TaskTrace> {
        self.tasks.iter().find(|t| t.task == id)
    }
}

/// One task's await trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskTrace {
    /// The task.
    pub task: TaskId,
    /// The futures it is inside, outermost (the task's own) first, as a tree flattened in
    /// depth-first order: a frame's `depth` is one more than its parent's (a combinator such as a
    /// join or select has several children).
    pub frames: Vec<AwaitFrame>,
    /// Since when (milliseconds since the daemon started) the task has been waiting where it
    /// waits now: the first read that found its innermost frame there.
    pub since_ms: u64,
}

impl TaskTrace {
    /// The innermost frame along the first branch: where the task waits.
    pub fn innermost(&self) -> Option<&AwaitFrame> {
        let mut innermost: Option<&AwaitFrame> = None;
        for frame in &self.frames {
            match innermost {
                Some(last) if frame.depth <= last.depth => break,
                _ => innermost = Some(frame),
            }
        }
        innermost
    }

    /// The innermost frame that is an `.await` in the firmware's source, along the first branch:
    /// the app's own, rather than one inside a dependency's async fn (embassy-sync's
    /// `Receiver::changed`, from cargo's registry), unless there is no other.
    pub fn innermost_await(&self) -> Option<&AwaitFrame> {
        let (mut ours, mut any) = (None, None);
        let mut depth = None;
        for frame in &self.frames {
            if depth.is_some_and(|d| frame.depth <= d) {
                break;
            }
            depth = Some(frame.depth);
            if let Some(location) = &frame.location {
                any = Some(frame);
                if !is_dependency_source(&location.file) {
                    ours = Some(frame);
                }
            }
        }
        ours.or(any)
    }
}

/// One future in an await trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwaitFrame {
    /// How deep in the tree (0: the task's own future).
    pub depth: u16,
    /// The async fn or block (`asyncmon_demo::demo::telemetry`,
    /// `asyncmon_demo::demo::main_task::{async_block#0}`), or the future's type name.
    pub function: String,
    /// Where it waits: the `.await` in the source (for an async fn or block not started yet, its
    /// first line).
    pub location: Option<Location>,
    /// What state it is in.
    pub state: FrameState,
}

/// The state of one future in an await trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FrameState {
    /// An async fn or block suspended at an `.await`.
    Awaiting,
    /// An async fn or block not polled yet.
    NotStarted,
    /// An async fn or block that has returned (its task is about to end).
    Returned,
    /// An async fn or block that panicked.
    Panicked,
    /// A future that is not an async fn or block (a timer, a join handle, a combinator): what it
    /// waits for, in words where the daemon knows the type.
    Waiting {
        /// What it waits for ("join task #12", "gather of #5 #6 #7"), when known.
        description: Option<String>,
    },
    /// What the memory held made no sense for the type (a state no variant has, a field outside
    /// the future): the trace stops here rather than make something up.
    Unknown {
        /// Why, in words.
        reason: String,
    },
}

/// A client's request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientRequest {
    /// The first message: the client's host-link version and name.
    Hello {
        /// [`crate::host::HOST_PROTOCOL_VERSION`].
        version: u16,
        /// Who is connecting ("asyncmon monitor").
        client: String,
    },
    /// Send a snapshot, then every event.
    Subscribe,
    /// Ask the firmware to stop (KeyboardInterrupt).
    Stop,
    /// Ask the firmware to stop now, without waiting for cleanup.
    HardStop,
    /// Reset the target (the simulator restarts its firmware process): a new session epoch.
    Reset,
    /// Like `Subscribe`, for the daemon's target number `target` (0 is the first).
    SubscribeTarget {
        /// Which target.
        target: u32,
    },
    /// Snapshots of every target (`TargetSnapshot`), then every target's events (`TargetEvent`).
    SubscribeAll,
    /// Like `Stop` / `HardStop`, for target number `target`.
    StopTarget {
        /// Which target.
        target: u32,
        /// Without waiting for cleanup.
        hard: bool,
    },
    /// Like `Reset`, for target number `target`.
    ResetTarget {
        /// Which target.
        target: u32,
    },
    /// Read every running task's await trace now (target `target`; 0 is the first): an
    /// `AwaitTraces` event follows, also when nothing changed.
    RefreshTraces {
        /// Which target.
        target: u32,
    },
}

/// A daemon's message to a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerMessage {
    /// Answer to `Hello`.
    Welcome {
        /// The daemon's host-link version.
        version: u16,
        /// The (first) target it owns.
        target: TargetDescription,
        /// Every target it owns, in order (target numbers are indices here).
        #[serde(default)]
        targets: Vec<TargetDescription>,
    },
    /// The request was refused; the reason says why.
    Refused {
        /// Why, in words.
        reason: String,
    },
    /// The whole session as it is now.
    Snapshot(std::boxed::Box<crate::host::SessionState>),
    /// One change.
    Event(SessionEvent),
    /// The client fell behind and missed this many events; a fresh snapshot follows.
    Missed {
        /// How many events were lost to this client.
        events: u64,
    },
    /// A stop request was written to the target.
    StopSent {
        /// Its id, echoed in the `Interrupted` event.
        request_id: u32,
    },
    /// One target's whole session (after `SubscribeAll`).
    TargetSnapshot {
        /// Which target.
        target: u32,
        /// Its session.
        snapshot: std::boxed::Box<crate::host::SessionState>,
    },
    /// One target's change (after `SubscribeAll`).
    TargetEvent {
        /// Which target.
        target: u32,
        /// The change.
        event: SessionEvent,
    },
}

/// Whether `file` is a dependency's source, not the firmware's own: cargo's registry or git
/// checkouts, or Rust's standard library.
pub fn is_dependency_source(file: &str) -> bool {
    file.contains("/.cargo/registry/")
        || file.contains("/.cargo/git/checkouts/")
        || file.starts_with("/rustc/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    fn frame(depth: u16, file: Option<&str>) -> AwaitFrame {
        AwaitFrame {
            depth,
            function: "f".into(),
            location: file.map(|file| Location { file: file.into(), line: 3, column: 0 }),
            state: FrameState::Awaiting,
        }
    }

    #[test]
    fn the_innermost_await_is_the_apps_own_not_a_dependencys() {
        let registry = "/root/.cargo/registry/src/index.crates.io-1/embassy-sync-0.8.0/src/watch.rs";
        let trace = TaskTrace {
            task: 1,
            frames: vec![frame(0, Some("src/app.rs")), frame(1, Some(registry)), frame(2, None)],
            since_ms: 0,
        };
        assert_eq!(trace.innermost_await().unwrap().location.as_ref().unwrap().file, "src/app.rs");
        // Only a dependency's: that one, rather than none.
        let trace =
            TaskTrace { task: 1, frames: vec![frame(0, Some(registry)), frame(1, None)], since_ms: 0 };
        assert_eq!(trace.innermost_await().unwrap().location.as_ref().unwrap().file, registry);
    }
}
