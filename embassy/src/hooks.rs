//! embassy-executor's trace hooks (its `trace` feature calls them by name).
//!
//! The hooks of every poll — its begin and end, a wake, the executor's round and idle — only
//! record: the polled task's place, a clock read at each end of the poll, a flag. They take no
//! critical section and send nothing (but with `poll-trace`, where a poll's end also goes into a
//! batch under a critical section, and a full batch is sent). The idle hook, at most every
//! [`IDLE_CHECK`], sends the samples that are due (and the batch of polls, with the executor's
//! sample) and takes the host's commands; a task's spawn and end are announced at once. None of
//! them blocks: a frame that does not fit the RTT buffer is dropped and counted.

use crate::clock::{self, Ticks};
use crate::executors;
use crate::table::{MAX_TASKS, TABLE};
use crate::STATS_INTERVAL;
use asyncmon_agent::observer;
use asyncmon_protocol::device::{DeviceMessage, HostCommand, TaskId, TaskOutcome, NO_RUNNING_TASK};

/// How often the idle hook looks for due samples and the host's commands: a stop is taken within
/// this (and one wake-up; without a doorbell the executor sleeps until its next timer).
const IDLE_CHECK: embassy_time::Duration = embassy_time::Duration::from_millis(10);
const IDLE_CHECK_TICKS: Ticks = clock::ticks(IDLE_CHECK);
const STATS_INTERVAL_TICKS: Ticks = clock::ticks(STATS_INTERVAL);

/// How long a stop waits for the host to read its answer before the firmware's hook runs. A host
/// is attached (it sent the stop) and reads within milliseconds, but a loaded one can take longer:
/// 200 ms once lost the answer on a busy CI machine.
const STOP_ANSWER_DRAIN: embassy_time::Duration = embassy_time::Duration::from_millis(1000);

/// A task was spawned: a place in the table, and its announcement.
#[no_mangle]
fn _embassy_trace_task_new(executor_id: u32, task_id: u32) {
    let added = critical_section::with(|cs| {
        let executor = executors::claim(cs, executor_id)?;
        TABLE.add(cs, task_id, executor)
    });
    match added {
        Some((_, id)) => announce(id, task_id),
        None => say_not_watched(),
    }
}

/// Tells the host how many tasks run unseen, the table having been full when they were spawned.
fn say_not_watched() {
    let total = TABLE.overflowed();
    if total > 0 {
        observer::send(&DeviceMessage::TasksNotWatched { total, capacity: MAX_TASKS as u32 });
    }
}

fn announce(id: TaskId, header: u32) {
    observer::send(&DeviceMessage::EmbassyTaskSpawned { id, header: u64::from(header) });
}

/// A task ended (inside its last poll, before the poll's end): that poll counted, its last
/// counters, then its end (embassy tasks return `()`: they complete).
#[no_mangle]
fn _embassy_trace_task_end(executor_id: u32, task_id: u32) {
    let (Some((_, executor)), Some(place)) = (executors::find(executor_id), TABLE.find(task_id)) else {
        return;
    };
    let entry = TABLE.entry(place);
    let now = clock::now();
    if let Some((start, woke_itself)) = executor.task_ended(place) {
        entry.poll_ended(start, now, woke_itself);
        #[cfg(feature = "poll-trace")]
        observer::record_poll(entry.id(), start, now);
    }
    let last = entry.sample(now, STATS_INTERVAL_TICKS, true);
    executor.retire(entry.busy());
    let id = entry.id();
    critical_section::with(|cs| TABLE.remove(cs, place));
    if let Some(stats) = last {
        observer::send(&DeviceMessage::TaskStats(stats));
    }
    observer::send(&DeviceMessage::TaskFinished { id, outcome: TaskOutcome::Completed });
}

/// A poll begins: which task, and when; the running task for a panic frame.
#[no_mangle]
fn _embassy_trace_task_exec_begin(executor_id: u32, task_id: u32) {
    let Some((_, executor)) = executors::find(executor_id) else { return };
    let place = TABLE.find(task_id);
    let id = place.map_or(NO_RUNNING_TASK, |p| TABLE.entry(p).id());
    executor.poll_begins(place, task_id, id);
}

/// A poll ended: counted and timed in the task's counters.
#[no_mangle]
fn _embassy_trace_task_exec_end(executor_id: u32, _task_id: u32) {
    let Some((_, executor)) = executors::find(executor_id) else { return };
    let end = clock::now();
    if let Some((place, start, woke_itself)) = executor.poll_ends(end) {
        let entry = TABLE.entry(place);
        entry.poll_ended(start, end, woke_itself);
        #[cfg(feature = "poll-trace")]
        observer::record_poll(entry.id(), start, end);
    }
}

/// A task was woken (maybe in an interrupt): a self-wake if it is the one being polled.
#[no_mangle]
fn _embassy_trace_task_ready_begin(executor_id: u32, task_id: u32) {
    if let Some((_, executor)) = executors::find(executor_id) {
        executor.woken(task_id);
    }
}

/// The executor starts a round of polls: nothing to record (its idle time is the time outside its
/// polls).
#[no_mangle]
fn _embassy_trace_poll_start(_executor_id: u32) {}

/// The executor ran out of work: at most every [`IDLE_CHECK`], send the samples that are due and
/// take the host's commands.
#[no_mangle]
fn _embassy_trace_executor_idle(executor_id: u32) {
    let Some((index, executor)) = executors::find(executor_id) else { return };
    let Some(now) = executor.idle_check_due(IDLE_CHECK_TICKS) else { return };
    if observer::link_ready() {
        look_around(index, executor, now);
    }
}

/// The idle hook's work when it is due: samples, then commands.
#[inline(never)]
fn look_around(index: usize, executor: &executors::Executor, now: Ticks) {
    // This executor's tasks only: their counters are its to read.
    for (entry, _) in TABLE.tasks().filter(|(entry, _)| entry.executor() == index) {
        if let Some(stats) = entry.sample(now, STATS_INTERVAL_TICKS, false) {
            observer::send(&DeviceMessage::TaskStats(stats));
        }
    }
    let live_busy =
        || TABLE.tasks().filter(|(entry, _)| entry.executor() == index).map(|(e, _)| e.busy()).sum();
    if let Some((idle_us, elapsed_us)) =
        executor.sample(now, STATS_INTERVAL_TICKS, clock::now_wide, live_busy)
    {
        observer::send(&DeviceMessage::ExecutorStats { idle_us, elapsed_us });
        // Polls one by one (`poll-trace`) go at the executor's sample too, if no batch filled.
        observer::flush_polls();
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
    let mut announced = 0;
    for (entry, header) in TABLE.tasks() {
        announce(entry.id(), header);
        announced += 1;
    }
    say_not_watched();
    announced
}

/// The host asked to stop: the firmware's hook decides what that means; the host is told whether
/// one ran (before it runs: a hook may reset the core).
fn stop(request_id: u32, hard: bool) {
    let hook = crate::stop_hook();
    observer::flush_polls();
    observer::send(&DeviceMessage::StopHandled { request_id, hook_ran: hook.is_some(), hard });
    if let Some(hook) = hook {
        // The answer reaches the host before a hook that powers down or resets (bounded: a
        // firmware with no host attached is not held up).
        asyncmon_agent::link::drain(STOP_ANSWER_DRAIN);
        hook(hard);
    }
}
