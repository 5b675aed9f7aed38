//! Device-link messages: what the agent tells the host, and what the host asks of the agent.
//!
//! Every type here is borrowed (`'a`) so that the agent can encode without a heap and the daemon can
//! decode without copying. postcard is not self-describing: fields and variants are only ever
//! appended, and `protocol/tests/golden.rs` pins the bytes of every message.

use serde::{Deserialize, Serialize};

/// The symbol of the static where an observer of another executor (`asyncmon-embassy`) keeps the
/// id of the task being polled (`u32`, little-endian; `u32::MAX` between polls). When the firmware
/// panics through a handler that is not asyncmon's (panic-probe), the host reads it to name the task
/// that panicked.
pub const RUNNING_TASK_SYMBOL: &str = "ASYNCMON_RUNNING_TASK";
/// [`RUNNING_TASK_SYMBOL`]'s value between polls.
pub const NO_RUNNING_TASK: u32 = u32::MAX;

/// The device-link protocol version this crate speaks. Bumped when a message changes incompatibly.
pub const PROTOCOL_VERSION: u16 = 1;

/// The longest inline text, in bytes, the agent sends. Longer text is truncated (see
/// [`TRUNCATION_MARKER`]).
pub const MAX_INLINE_TEXT: usize = 120;

/// Appended to inline text that was cut to fit [`MAX_INLINE_TEXT`].
pub const TRUNCATION_MARKER: &str = "…";

/// The most task ids an [`InterruptAck`] lists; the rest are counted in `cancelled_total`.
pub const MAX_ACK_TASKS: usize = 32;

/// The most polls a [`DeviceMessage::PollSlices`] frame carries (at most 15 bytes each on the
/// wire, so a full batch always fits a frame).
pub const MAX_POLL_SLICES: usize = 24;

/// A task's id, unique within one run of the firmware. Main is task 0.
pub type TaskId = u32;

/// The id the agent gives the `main` future passed to `run`.
pub const MAIN_TASK_ID: TaskId = 0;

/// A string on the device link: a reference to static firmware memory, or text sent inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Text<'a> {
    /// Text made at run time, at most [`MAX_INLINE_TEXT`] bytes.
    #[serde(borrow)]
    Inline(&'a str),
    /// A `&'static str` in the firmware's memory, resolved by the host (target memory or ELF).
    Static {
        /// The address of the first byte in the target's address space.
        addr: u64,
        /// The length in bytes.
        len: u32,
    },
    /// A string defined earlier in this session by [`DeviceMessage::DefineText`].
    Interned(u16),
}

impl Text<'static> {
    /// A reference to a string that lives for the whole program, to be resolved by the host.
    pub fn from_static(s: &'static str) -> Self {
        Text::Static { addr: s.as_ptr() as usize as u64, len: s.len() as u32 }
    }
}

impl<'a> Text<'a> {
    /// Inline text, cut at a character boundary to fit [`MAX_INLINE_TEXT`] including the marker.
    ///
    /// The returned text borrows `s`; when it is cut, the caller must send the marker too, which is
    /// why [`Text::inline_truncated`] is the form the agent uses.
    pub fn inline(s: &'a str) -> (Self, bool) {
        if s.len() <= MAX_INLINE_TEXT {
            return (Text::Inline(s), false);
        }
        let mut end = MAX_INLINE_TEXT - TRUNCATION_MARKER.len();
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        (Text::Inline(&s[..end]), true)
    }

    /// Inline text from `s`, copied into `buf` with the truncation marker when it was cut.
    pub fn inline_truncated(s: &str, buf: &'a mut heapless::String<MAX_INLINE_TEXT>) -> Self {
        buf.clear();
        let (text, cut) = Text::inline(s);
        if let Text::Inline(part) = text {
            // Both pushes fit: `inline` leaves room for the marker.
            let _ = buf.push_str(part);
            if cut {
                let _ = buf.push_str(TRUNCATION_MARKER);
            }
        }
        Text::Inline(buf.as_str())
    }
}

/// A place in the firmware's source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLocation<'a> {
    /// The source file as the compiler saw it (relative to the crate, or absolute).
    #[serde(borrow)]
    pub file: Text<'a>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl SourceLocation<'static> {
    /// The location of a `#[track_caller]` call site.
    pub fn from_core(loc: &'static core::panic::Location<'static>) -> Self {
        SourceLocation { file: Text::from_static(loc.file()), line: loc.line(), column: loc.column() }
    }
}

/// The first message of every session: who is talking, in which protocol version.
///
/// `version` stays the first field of the first variant forever, so that a daemon can read it
/// from any firmware (see [`crate::frame::peek_hello_version`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello<'a> {
    /// The firmware's [`PROTOCOL_VERSION`].
    pub version: u16,
    /// The firmware's name.
    #[serde(borrow)]
    pub firmware: Text<'a>,
    /// A build id (a version string or a hash) so the host can tell builds apart.
    pub build_id: Text<'a>,
}

/// What the host needs to know about a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskInfo<'a> {
    /// The task's id.
    pub id: TaskId,
    /// The name given at spawn.
    #[serde(borrow)]
    pub name: Text<'a>,
    /// Where `spawn` was called.
    pub spawned_at: SourceLocation<'a>,
    /// The task that spawned it; `None` only for main.
    pub parent: Option<TaskId>,
}

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskOutcome {
    /// It returned `Ok`.
    Completed,
    /// It returned `Err`: the failure is stored on its handle.
    Failed,
    /// It was cancelled (by a gather, a timeout, or a stop request) and its cleanup ran.
    Cancelled,
    /// It was cancelled and failed with another error during its cleanup.
    FailedDuringCleanup,
    /// It was cancelled and did not finish before the deadline: its future was dropped.
    DroppedAtDeadline,
}

/// The way a failure reached the exception handler, or where it was retrieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailurePath {
    /// The task failed and nobody retrieved the failure from its handle.
    Unretrieved,
    /// The failure was retrieved by awaiting the task's handle.
    Awaited,
    /// The failure came out of a gather.
    Gathered,
    /// The task failed while it was being cancelled by a stop request.
    DuringShutdown,
    /// The firmware panicked (fatal on a microcontroller).
    Panic,
}

/// How one task ended during a shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskEnding {
    /// The task.
    pub id: TaskId,
    /// How it ended.
    pub outcome: TaskOutcome,
}

/// The agent's answer to a stop request: every task that ended during the shutdown, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShutdownAck {
    /// The `request_id` of the stop request being answered.
    pub request_id: u32,
    /// The tasks that ended during the shutdown (main first), at most [`MAX_ACK_TASKS`].
    pub tasks: heapless::Vec<TaskEnding, MAX_ACK_TASKS>,
    /// How many tasks ended during the shutdown in all.
    pub total: u32,
    /// A second stop request cut the shutdown short (a task dropped at the cancel deadline does
    /// not make a stop hard: its ending says so).
    pub hard_stop: bool,
}

/// The exception a task failed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionInfo<'a> {
    /// The error type's name (`core::any::type_name`).
    #[serde(borrow)]
    pub type_name: Text<'a>,
    /// The rendered error (`Display`), inline and bounded.
    pub message: Text<'a>,
    /// Where it was raised, when the error type records it.
    pub raised_at: Option<SourceLocation<'a>>,
}

/// Everything the exception handler was given, as sent to the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureContext<'a> {
    /// What happened, in words ("Task exception was never retrieved").
    #[serde(borrow)]
    pub message: Text<'a>,
    /// The exception, when there is one.
    pub exception: Option<ExceptionInfo<'a>>,
    /// The task that failed, when the failure belongs to one.
    pub task: Option<TaskInfo<'a>>,
    /// How the failure got here.
    pub path: FailurePath,
}

/// The agent's answer to a stop request, sent when `run` is about to return `KeyboardInterrupt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterruptAck {
    /// The `request_id` of the stop request being answered.
    pub request_id: u32,
    /// The tasks that were cancelled (main included), at most [`MAX_ACK_TASKS`].
    pub cancelled: heapless::Vec<TaskId, MAX_ACK_TASKS>,
    /// How many tasks were cancelled in all (may exceed `cancelled.len()`).
    pub cancelled_total: u32,
}

/// A message from the device to the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceMessage<'a> {
    /// Starts a session. Must stay variant 0.
    #[serde(borrow)]
    Hello(Hello<'a>),
    /// A task was spawned (main included).
    TaskSpawned(TaskInfo<'a>),
    /// A task ended.
    TaskFinished {
        /// The task.
        id: TaskId,
        /// How it ended.
        outcome: TaskOutcome,
    },
    /// The exception handler was called.
    Failure(FailureContext<'a>),
    /// A stop request was carried out.
    InterruptAck(InterruptAck),
    /// Frames the agent could not write because the up buffer was full, since the last report.
    FramesLost {
        /// How many frames were dropped.
        count: u32,
    },
    /// A stop request was carried out; replaces `InterruptAck` from agents that send it.
    ShutdownAck(ShutdownAck),
    /// A task was spawned, with the bytes of static storage its slot holds; replaces
    /// `TaskSpawned` from agents that send it.
    Spawned {
        /// The task.
        task: TaskInfo<'a>,
        /// The size of the task's storage slot in bytes.
        storage_bytes: u32,
    },
    /// The firmware panicked; this is its last frame.
    Panic {
        /// The panic message, inline and bounded.
        message: Text<'a>,
        /// Where it panicked.
        location: Option<SourceLocation<'a>>,
        /// The task that was running.
        task: Option<TaskId>,
    },
    /// Gives a static string a short id for the rest of the session; later frames refer to it as
    /// [`Text::Interned`].
    DefineText {
        /// The id.
        id: u16,
        /// The string (a static reference).
        text: Text<'a>,
    },
    /// The exception handler was called; the task is named by id (the host knows it from its
    /// spawn frame). Replaces `Failure` from agents that send it: a failure whose strings are all
    /// interned fits in under 32 bytes.
    TaskFailure {
        /// What happened, in words.
        message: Text<'a>,
        /// The exception, when there is one.
        exception: Option<ExceptionInfo<'a>>,
        /// The task that failed.
        task: Option<TaskId>,
        /// How the failure got here.
        path: FailurePath,
    },
    /// How a task has been polled so far: sampled by the agent at a bounded rate (at most one per
    /// task per sampling interval, and one when the task ends) with its `task-stats` feature.
    TaskStats(TaskStats),
    /// The answer to [`HostCommand::RollCall`] starts: the spawn frames up to `RollCallDone` name the
    /// tasks running now.
    RollCallStarted,
    /// The answer to [`HostCommand::RollCall`] is complete.
    RollCallDone {
        /// How many tasks were named (main included). A host that received fewer spawn frames
        /// since `RollCallStarted` lost some of them and asks again.
        announced: u32,
    },
    /// A task was spawned: what its future (or output) really needs, and what its storage
    /// reserves; replaces `Spawned` from agents that send it.
    SpawnedSized {
        /// The task.
        task: TaskInfo<'a>,
        /// The bytes its storage reserves (a slot's size; for main, its future on the stack).
        reserved_bytes: u32,
        /// The bytes its future, or its output, needs (the larger).
        future_bytes: u32,
    },
    /// A task was spawned: as [`DeviceMessage::SpawnedSized`], and where its future lives, so that
    /// the host can read where the task is waiting (its await trace) with no further device cost.
    /// Replaces `SpawnedSized` from agents that send it.
    SpawnedAt {
        /// The task.
        task: TaskInfo<'a>,
        /// The bytes its storage reserves (a slot's size; for main, its future on the stack).
        reserved_bytes: u32,
        /// The bytes its future, or its output, needs (the larger).
        future_bytes: u32,
        /// Where its future lives, and of which type.
        future: FutureLocation,
    },
    /// An embassy-executor task was spawned (from `asyncmon-embassy`, the observer of firmware that
    /// runs embassy's executor): the id the observer gave it, and its header's address (embassy's
    /// task id), inside the `#[task]` function's task pool. The host names the task from the
    /// firmware's symbols; the device sends no string.
    EmbassyTaskSpawned {
        /// The id the observer gave the task (the other frames name it by this).
        id: TaskId,
        /// The address of its `TaskHeader`, at the start of its `TaskStorage`.
        header: u64,
    },
    /// The answer of an embassy firmware (`asyncmon-embassy`) to a stop request: embassy tasks
    /// cannot be cancelled from outside, so the firmware's stop hook ran (`hook_ran`: it decides
    /// what stopping means), or there is none and nothing was stopped. Never a KeyboardInterrupt.
    StopHandled {
        /// The stop request answered.
        request_id: u32,
        /// Whether a stop hook was registered and ran.
        hook_ran: bool,
        /// It answered a hard stop.
        hard: bool,
    },
    /// How much of the time the observed executor slept (`asyncmon-embassy`): the time between its
    /// last poll and its next round of polls, summed, since `elapsed_us` ago (the first round).
    /// Sampled at a bounded rate.
    ExecutorStats {
        /// Time spent idle, in total.
        idle_us: u64,
        /// Time since the first round of polls.
        elapsed_us: u64,
    },
    /// Tasks an observer (`asyncmon-embassy`) could not watch because its table was full: they run,
    /// but the host never hears of them. Sent when it happens and again with each answer to a resync
    /// or a roll call, so that a host that attaches later is told too.
    TasksNotWatched {
        /// Tasks not watched since the firmware started.
        total: u32,
        /// How many tasks the observer's table holds.
        capacity: u32,
    },
    /// Polls, one by one, in the order they ran (the agent's and the observer's `poll-trace`
    /// feature): what a timeline draws as slices. Times are in the device's clock (its time
    /// driver's ticks); each poll starts `gap` ticks after the previous one's end.
    PollSlices {
        /// The device clock's ticks per second.
        tick_hz: u32,
        /// When the first poll started.
        start: u64,
        /// When the frame was sent (the host maps the device's clock to its own with it).
        sent_at: u64,
        /// The polls.
        slices: heapless::Vec<PollSlice, MAX_POLL_SLICES>,
    },
}

/// [`DeviceMessage::PollSlices`] as the device writes it, borrowing its polls where they are kept:
/// the same bytes on the wire (`tests/golden.rs`), without copying a batch into a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollBatch<'a> {
    /// The device clock's ticks per second.
    pub tick_hz: u32,
    /// When the first poll started.
    pub start: u64,
    /// When the frame was sent.
    pub sent_at: u64,
    /// The polls, at most [`MAX_POLL_SLICES`].
    pub slices: &'a [PollSlice],
}

/// One poll in a [`DeviceMessage::PollSlices`] frame, in ticks of the device's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PollSlice {
    /// The task polled.
    pub task: TaskId,
    /// From the previous poll's end (or the frame's `start`, for the first) to this poll's start.
    pub gap: u32,
    /// How long the poll took.
    pub busy: u32,
}

/// Where a task's future lives in target memory, and what names its type: the host reads the
/// future there and decodes it with the firmware's debug info.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FutureLocation {
    /// The address of the future's first byte (a slot's storage; main's on the stack).
    pub addr: u64,
    /// The address of a function monomorphised for the future's type (the executor's poll
    /// function for it): its debug info names the type. On thumb targets the low bit is set.
    pub type_marker: u64,
}

/// A task's poll statistics since it was spawned. Durations are in microseconds of the device's
/// clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TaskStats {
    /// The task.
    pub task: TaskId,
    /// How many times it was polled.
    pub polls: u32,
    /// The time spent inside its polls, in total.
    pub busy_us: u64,
    /// The longest single poll: a long one held up every other task.
    pub max_poll_us: u32,
    /// Polls after which the task was ready again at once, because it woke itself.
    pub self_wakes: u32,
    /// The time since its last poll ended, when sampled.
    pub idle_us: u32,
    /// Where it was when sampled.
    pub state: TaskRunState,
}

/// Where a running task is, when sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TaskRunState {
    /// Waiting for a wake.
    #[default]
    Waiting,
    /// Woken, waiting for its poll.
    Ready,
    /// Asked to cancel and not finished yet (its cleanup runs).
    Cancelling,
}

/// A message from the host to the device (the RTT down channel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HostCommand {
    /// Stop the program: `run` cancels everything and returns `KeyboardInterrupt`.
    Stop {
        /// Echoed in the acknowledgement.
        request_id: u32,
    },
    /// Stop now: drop every task without waiting for its cleanup.
    HardStop {
        /// Echoed in the acknowledgement.
        request_id: u32,
    },
    /// The host (re)attached and knows nothing: forget the interned strings, say hello again and
    /// announce every running task.
    Resync,
    /// Frames were lost in this session: forget the interned strings and name every running task
    /// again, between [`DeviceMessage::RollCallStarted`] and [`DeviceMessage::RollCallDone`]. Unlike
    /// `Resync` this keeps the session: the host resolves tasks whose end frame was lost and keeps
    /// the failures it has.
    RollCall,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_sent_whole() {
        let mut buf = heapless::String::new();
        assert_eq!(Text::inline_truncated("sensor timeout", &mut buf), Text::Inline("sensor timeout"));
    }

    #[test]
    fn long_text_is_cut_at_a_char_boundary_and_marked() {
        let long: heapless::String<400> = core::iter::repeat_n('é', 150).collect();
        let mut buf = heapless::String::new();
        let Text::Inline(sent) = Text::inline_truncated(&long, &mut buf) else {
            panic!("inline text expected");
        };
        assert!(sent.len() <= MAX_INLINE_TEXT);
        assert!(sent.ends_with(TRUNCATION_MARKER));
        assert!(sent.trim_end_matches(TRUNCATION_MARKER).chars().all(|c| c == 'é'));
    }
}
