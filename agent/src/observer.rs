//! What an observer of another executor needs from the agent (`asyncmon-embassy`, which watches
//! embassy-executor through its trace hooks): the same RTT link and frames, the host's commands,
//! and the task a panic frame names. An agent firmware never calls these; its executor does the
//! same work itself.

use asyncmon_protocol::device::{DeviceMessage, HostCommand};
use portable_atomic::{AtomicU32, Ordering};

/// No task running (the observed executor is between polls).
const NONE: u32 = asyncmon_protocol::device::NO_RUNNING_TASK;

/// The observed task being polled now, for the panic frame; exported by name
/// ([`asyncmon_protocol::device::RUNNING_TASK_SYMBOL`]) so that the host can read it after a panic
/// another handler (panic-probe) took.
#[export_name = "ASYNCMON_RUNNING_TASK"]
static RUNNING: AtomicU32 = AtomicU32::new(NONE);

/// Whether the link exists ([`crate::link::init`] was called).
pub fn link_ready() -> bool {
    crate::link::enabled()
}

/// Encodes and writes one frame; a frame that does not fit is dropped and counted, as the agent's
/// own are. Never blocks; does nothing before [`crate::link::init`].
pub fn send(msg: &DeviceMessage<'_>) {
    crate::link::send(msg);
}

/// A poll of `task` ran from `start` to `end` (the time driver's ticks, modulo 2³²): kept for the
/// next `PollSlices` frame, sent when the batch is full (the `poll-trace` feature; nothing
/// without it).
#[inline]
pub fn record_poll(task: asyncmon_protocol::device::TaskId, start: u32, end: u32) {
    crate::poll_trace::record(task, start, end);
}

/// Sends the polls recorded so far (the `poll-trace` feature; nothing without it).
pub fn flush_polls() {
    crate::poll_trace::flush();
}

/// The host's commands waiting in the down channel (at most eight).
pub fn commands() -> heapless::Vec<HostCommand, 8> {
    crate::link::poll_commands()
}

/// Starts over with a host that knows nothing (after [`HostCommand::Resync`]): the hello is sent
/// again; the observer then announces its tasks. (An observer's frames carry no interned strings,
/// so there are none to forget, and its firmware keeps no table of them.)
pub fn resync() {
    crate::link::say_hello_again();
}

/// A roll call's answer starts ([`HostCommand::RollCall`]): announce each running task, then call
/// [`end_roll_call`].
pub fn start_roll_call() {
    crate::link::send(&DeviceMessage::RollCallStarted);
}

/// A roll call's answer is complete: `announced` tasks were named.
pub fn end_roll_call(announced: u32) {
    crate::link::end_roll_call(announced);
}

/// Says which observed task is being polled: its id, or
/// [`NO_RUNNING_TASK`](asyncmon_protocol::device::NO_RUNNING_TASK) between polls. The panic frame
/// names it. A plain word, read and written with one instruction each: the hooks of every poll
/// set it.
#[inline(always)]
pub fn set_running(task: u32) {
    RUNNING.store(task, Ordering::Relaxed);
}

/// The observed task being polled now, as [`set_running`] said: its id, or
/// [`NO_RUNNING_TASK`](asyncmon_protocol::device::NO_RUNNING_TASK). An observer whose poll
/// interrupts another's puts it back when its poll ends.
#[inline(always)]
pub fn running_word() -> u32 {
    RUNNING.load(Ordering::Relaxed)
}

/// The observed task being polled now.
#[cfg(any(feature = "std", feature = "panic-handler"))]
pub(crate) fn running() -> Option<asyncmon_protocol::device::TaskId> {
    let task = running_word();
    (task != NONE).then_some(task)
}
