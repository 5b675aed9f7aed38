//! embassy-executor's trace hooks (its `trace` feature calls them by name): each one updates the
//! task table and, when there is something to say, sends a frame. They never block: a critical
//! section around the table, a frame dropped and counted when the RTT buffer is full.

use crate::table::{self, MAX_TASKS};
use crate::STATS_INTERVAL;
use asyncmon_agent::observer;
use asyncmon_protocol::device::{DeviceMessage, HostCommand, TaskId, TaskOutcome};
use embassy_time::Instant;

/// How often the idle hook looks for due samples and the host's commands: a stop is taken within
/// this (and one wake-up; without a doorbell the executor sleeps until its next timer).
const IDLE_CHECK: embassy_time::Duration = embassy_time::Duration::from_millis(10);

/// How long a stop waits for the host to read its answer before the firmware's hook runs. A host
/// is attached (it sent the stop) and reads within milliseconds, but a loaded one can take longer:
/// 200 ms once lost the answer on a busy CI machine.
const STOP_ANSWER_DRAIN: embassy_time::Duration = embassy_time::Duration::from_millis(1000);

/// A task was spawned: a place in the table, and its announcement.
#[no_mangle]
fn _embassy_trace_task_new(_executor_id: u32, task_id: u32) {
    if let Some(id) = table::with(|t, _| t.add(task_id)) {
        announce(id, task_id);
    }
}

fn announce(id: TaskId, header: u32) {
    observer::send(&DeviceMessage::EmbassyTaskSpawned { id, header: u64::from(header) });
}

/// A task ended: its last counters, then its end (embassy tasks return `()`: they complete).
#[no_mangle]
fn _embassy_trace_task_end(_executor_id: u32, task_id: u32) {
    let now = Instant::now();
    if let Some((id, sample)) = table::with(|t, _| t.remove(task_id, now)) {
        if let Some(stats) = sample {
            observer::send(&DeviceMessage::TaskStats(stats));
        }
        observer::send(&DeviceMessage::TaskFinished { id, outcome: TaskOutcome::Completed });
    }
}

/// A poll begins: its start time, and the running task for a panic frame.
#[no_mangle]
fn _embassy_trace_task_exec_begin(_executor_id: u32, task_id: u32) {
    let now = Instant::now();
    let id = table::with(|t, _| t.poll_begins(task_id, now));
    observer::set_running(id);
}

/// A poll ended: counted and timed; a sample when one is due.
#[no_mangle]
fn _embassy_trace_task_exec_end(_executor_id: u32, task_id: u32) {
    let now = Instant::now();
    let sample = table::with(|t, _| t.poll_ends(task_id, now, STATS_INTERVAL));
    observer::set_running(None);
    if let Some(stats) = sample {
        observer::send(&DeviceMessage::TaskStats(stats));
    }
}

/// A task was woken (maybe in an interrupt): a self-wake if it is the one being polled.
#[no_mangle]
fn _embassy_trace_task_ready_begin(_executor_id: u32, task_id: u32) {
    table::with(|t, _| t.woken(task_id));
}

/// The executor starts a round of polls: the time since its last work was idle.
#[no_mangle]
fn _embassy_trace_poll_start(_executor_id: u32) {
    let now = Instant::now();
    table::with(|t, _| t.round_starts(now));
}

/// The executor ran out of work: send the samples that are due, and take the host's commands.
#[no_mangle]
fn _embassy_trace_executor_idle(_executor_id: u32) {
    if !observer::link_ready() {
        return;
    }
    let Some(now) = table::with(|t, _| t.idle_check_due(IDLE_CHECK)) else { return };
    // Sent after the critical section: at most one per task.
    let mut due: heapless::Vec<asyncmon_protocol::device::TaskStats, MAX_TASKS> = heapless::Vec::new();
    table::with(|t, _| {
        t.due_samples(now, STATS_INTERVAL, |s| {
            let _ = due.push(s);
        })
    });
    for stats in due {
        observer::send(&DeviceMessage::TaskStats(stats));
    }
    if let Some((idle_us, elapsed_us)) = table::with(|t, _| t.executor_sample(now, STATS_INTERVAL)) {
        observer::send(&DeviceMessage::ExecutorStats { idle_us, elapsed_us });
    }
    for command in observer::commands() {
        match command {
            HostCommand::Resync => {
                observer::resync();
                announce_all();
            }
            HostCommand::RollCall => {
                observer::start_roll_call();
                let announced = announce_all();
                observer::end_roll_call(announced);
            }
            HostCommand::Stop { request_id } => stop(request_id, false),
            HostCommand::HardStop { request_id } => stop(request_id, true),
        }
    }
}

/// Announces every watched task again; how many.
pub(crate) fn announce_all() -> u32 {
    let mut tasks: heapless::Vec<(TaskId, u32), MAX_TASKS> = heapless::Vec::new();
    table::with(|t, _| tasks.extend(t.tasks()));
    for (id, header) in &tasks {
        announce(*id, *header);
    }
    tasks.len() as u32
}

/// The host asked to stop: the firmware's hook decides what that means; the host is told whether
/// one ran (before it runs: a hook may reset the core).
fn stop(request_id: u32, hard: bool) {
    let hook = crate::stop_hook();
    observer::send(&DeviceMessage::StopHandled { request_id, hook_ran: hook.is_some(), hard });
    if let Some(hook) = hook {
        // The answer reaches the host before a hook that powers down or resets (bounded: a
        // firmware with no host attached is not held up).
        asyncmon_agent::link::drain(STOP_ANSWER_DRAIN);
        hook(hard);
    }
}
