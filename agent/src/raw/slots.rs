//! What the executor does to a slot: poll it, settle it when its task ended, cancel it, drop it.

use super::header::{SlotState, TaskHeader};
use super::{hooks, ExecutorCore, RawExecutor};
use crate::exception::{Context, Exception};
use crate::handler::call_exception_handler;
use asyncmon_protocol::device::{FailurePath, TaskOutcome};
use embassy_time::Instant;

/// The handler message for a failure nobody retrieved (asyncio's wording).
const UNRETRIEVED: &str = "Task exception was never retrieved";
/// The handler message for a failure raised while a stop request was being carried out.
const DURING_SHUTDOWN: &str = "Task exception was raised during shutdown";

/// How a task ended, from its error (if any) and whether it had been asked to cancel.
pub(crate) fn classify(failure: Option<&dyn Exception>, cancel_requested: bool) -> TaskOutcome {
    match failure {
        None => TaskOutcome::Completed,
        Some(e) if e.is_cancellation() => TaskOutcome::Cancelled,
        Some(_) if cancel_requested => TaskOutcome::FailedDuringCleanup,
        Some(_) => TaskOutcome::Failed,
    }
}

/// The path and message a failure nobody retrieved takes to the handler.
pub(crate) fn unretrieved_path(exec: RawExecutor) -> (FailurePath, &'static str) {
    if exec.core().endings.borrow().recording {
        (FailurePath::DuringShutdown, DURING_SHUTDOWN)
    } else {
        (FailurePath::Unretrieved, UNRETRIEVED)
    }
}

/// Polls the task in slot `index` once; on completion reports it and settles the slot.
///
/// As in asyncio, a task asked to cancel before it was ever polled ends cancelled without running,
/// and one that returns `Ok` while a cancellation waits undelivered (no awaitable could tell it)
/// ends cancelled too.
pub(crate) fn poll(exec: RawExecutor, index: usize) {
    let header = &exec.headers()[index];
    let Some(vtable) = header.vtable.get() else {
        return;
    };
    let id = header.id.get();
    let storage = exec.storage(index);
    if !header.started.get() && header.signal.cancel_requested() {
        header.signal.deliver_cancel();
        // SAFETY: the slot is Running and was never polled: its storage holds the future `vtable`
        // was made for, and room for its output.
        unsafe { (vtable.cancel_future)(storage) };
    } else {
        header.started.set(true);
        let waker = header.signal.waker();
        let mut cx = core::task::Context::from_waker(&waker);
        let start = hooks::poll_begin(exec.core(), id, Some(header));
        // SAFETY: the slot is Running, so its storage holds the pinned future `vtable` was made for.
        let poll = unsafe { (vtable.poll)(storage, &mut cx) };
        hooks::poll_end(exec.core(), Some(header), start, poll.is_pending());
        if poll.is_pending() {
            return;
        }
        if header.signal.deliver_cancel() {
            // SAFETY: the future finished: the storage holds the output `vtable` was made for.
            unsafe { (vtable.cancel_output)(storage) };
        }
    }
    header.state.set(SlotState::Finished);
    // SAFETY: the slot is Finished: its storage holds the output `vtable` was made for; the
    // reference is used only within this statement.
    let outcome =
        classify(unsafe { (vtable.failure)(storage).map(|e| &*e) }, header.signal.cancel_requested());
    hooks::task_ended(exec.core(), id, outcome, Some(header));
    header.wake_awaiter();
    settle(exec, index);
}

/// A finished task whose handle is gone: report a failure nobody retrieved, then free the slot.
pub(crate) fn settle(exec: RawExecutor, index: usize) {
    let header = &exec.headers()[index];
    if header.state.get() != SlotState::Finished || header.handle_alive.get() {
        return;
    }
    let (Some(vtable), meta) = (header.vtable.get(), header.meta.get()) else {
        return;
    };
    let storage = exec.storage(index);
    // SAFETY: the slot is Finished: its storage holds the output `vtable` was made for, and the
    // exception reference does not outlive this block (the output is dropped after the handler).
    unsafe {
        if let Some(exception) = (vtable.failure)(storage).map(|e| &*e) {
            if !exception.is_cancellation() {
                let (path, message) = unretrieved_path(exec);
                call_exception_handler(&Context { message, exception: Some(exception), task: meta, path });
            }
        }
        (vtable.drop_output)(storage);
    }
    free(exec, index);
}

/// Asks the task in `header` to cancel: its next agent awaitable returns `Cancelled`. If it has not
/// finished by the executor's cancel deadline, it is dropped. Returns whether it asked (`false`:
/// the task has finished, or was asked already).
pub(crate) fn request_cancel(core: &'static ExecutorCore, header: &'static TaskHeader) -> bool {
    if header.state.get() == SlotState::Running && header.signal.request_cancel() {
        header.cancel_deadline.set(Some(Instant::now() + core.cancel_deadline.get()));
        // The run loop sets a timer for the deadline.
        core.control.set();
        true
    } else {
        false
    }
}

/// Drops the future of a running task (its `Drop` runs) and reports it as `outcome`.
pub(crate) fn drop_task(exec: RawExecutor, index: usize, outcome: TaskOutcome) {
    let header = &exec.headers()[index];
    if header.state.get() != SlotState::Running {
        return;
    }
    if let (Some(vtable), Some(meta)) = (header.vtable.get(), header.meta.get()) {
        // SAFETY: Running: the storage holds the future; it is dropped once and the slot is freed
        // right after, so it is never polled or dropped again.
        unsafe { (vtable.drop_future)(exec.storage(index)) };
        hooks::task_ended(exec.core(), meta.id, outcome, Some(header));
    }
    header.wake_awaiter();
    free(exec, index);
}

/// Drops every cancelled task whose deadline has passed; returns the next deadline still ahead.
pub(crate) fn drop_overdue(exec: RawExecutor, now: Instant) -> Option<Instant> {
    let mut next: Option<Instant> = None;
    for (index, header) in exec.headers().iter().enumerate() {
        match header.cancel_deadline.get() {
            Some(deadline) if header.state.get() == SlotState::Running => {
                if now >= deadline {
                    drop_task(exec, index, TaskOutcome::DroppedAtDeadline);
                } else {
                    next = Some(next.map_or(deadline, |n| n.min(deadline)));
                }
            }
            _ => {}
        }
    }
    next
}

/// Drops every task at once (a hard stop): running futures are dropped, waiting outputs settled.
pub(crate) fn drop_all(exec: RawExecutor) {
    let headers = exec.headers();
    // Dropping one task can drop handles of others (and, rarely, spawn): sweep until nothing is
    // left, at most once per slot.
    for _ in 0..=headers.len() {
        let mut busy = false;
        for (index, header) in headers.iter().enumerate() {
            match header.state.get() {
                SlotState::Free => {}
                SlotState::Running => {
                    busy = true;
                    drop_task(exec, index, TaskOutcome::DroppedAtDeadline);
                }
                SlotState::Finished => {
                    busy = true;
                    header.handle_alive.set(false);
                    settle(exec, index);
                }
            }
        }
        if !busy {
            break;
        }
    }
}

/// Marks a slot free for reuse; its storage must already be dropped or moved out.
pub(crate) fn free(exec: RawExecutor, index: usize) {
    let header = &exec.headers()[index];
    header.state.set(SlotState::Free);
    header.generation.set(header.generation.get().wrapping_add(1));
    header.vtable.set(None);
    header.meta.set(None);
    header.handle_alive.set(false);
    header.started.set(false);
    header.orphaned.set(false);
    header.awaiter.set(None);
    header.cancel_deadline.set(None);
    header.signal.reset();
    header.stats.reset();
    exec.release_slot(index);
}

/// Samples the statistics of every running task that was polled since its last sample.
pub(crate) fn report_stats(exec: RawExecutor) {
    for header in exec.headers() {
        if header.state.get() == SlotState::Running {
            hooks::stats_sample(header, false);
        }
    }
    crate::poll_trace::flush();
}

/// Sends a spawn frame for every running task (after a resync or in a roll call); returns how many.
pub(crate) fn announce_running(exec: RawExecutor) -> u32 {
    let mut announced = 0;
    for (index, header) in exec.headers().iter().enumerate() {
        if let (SlotState::Running, Some(meta), Some(vtable)) =
            (header.state.get(), header.meta.get(), header.vtable.get())
        {
            let future = hooks::slot_future_location(exec.storage(index), vtable);
            hooks::task_spawned(&meta, exec.slot_bytes(), vtable.bytes, future);
            announced += 1;
        }
    }
    announced
}
