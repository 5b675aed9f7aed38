//! Where the executor tells the rest of the agent what its tasks do, one function per event (as
//! embassy's `raw/trace.rs`): a task was spawned, a poll begins, a poll ends, a task ended. The host
//! link, the poll statistics, the panic frame's running task and a stop's record of endings hang
//! off these, and nowhere else in the executor.

use super::header::TaskHeader;
use super::{ExecutorCore, NO_TASK};
use crate::exception::TaskMeta;
use crate::stats::PollStart;
use asyncmon_protocol::device::{FutureLocation, TaskId, TaskOutcome, TaskRunState};
use portable_atomic::{AtomicPtr, Ordering};

/// The core of the executor that last started running, for the panic frame.
static RUNNING_EXECUTOR: AtomicPtr<ExecutorCore> = AtomicPtr::new(core::ptr::null_mut());

/// An executor starts running.
pub(crate) fn executor_started(core: &'static ExecutorCore) {
    RUNNING_EXECUTOR.store(core as *const ExecutorCore as *mut ExecutorCore, Ordering::Relaxed);
}

/// The task being polled when a panic struck, if any.
#[cfg(any(feature = "std", feature = "panic-handler"))]
pub(crate) fn panicking_task() -> Option<TaskId> {
    // SAFETY: null or a `&'static ExecutorCore` (see `executor_started`).
    let Some(core) = (unsafe { RUNNING_EXECUTOR.load(Ordering::Relaxed).as_ref() }) else {
        // No agent executor: another executor's observer may know (`observer::set_running`).
        return crate::observer::running();
    };
    let task = core.current_task();
    (task != NO_TASK).then_some(task)
}

/// A task was spawned (or is announced again, after a resync or in a roll call): its future (or
/// output) needs `future_bytes` of the `reserved_bytes` its storage has, and lives at `future`.
pub(crate) fn task_spawned(
    meta: &TaskMeta,
    reserved_bytes: usize,
    future_bytes: usize,
    future: FutureLocation,
) {
    crate::link::send_task_spawned(meta, reserved_bytes, future_bytes, future);
}

/// Where the future `F` at `addr` lives, for the host's await traces: the type marker is the
/// executor's poll function for `F`, whose debug info names `F`. Costs nothing at run time beyond
/// the two words in the spawn frame.
pub(crate) fn future_location<F: core::future::Future>(addr: *const F) -> FutureLocation {
    let poll: unsafe fn(*mut u8, &mut core::task::Context<'_>) -> core::task::Poll<()> =
        super::vtable::poll_future::<F>;
    FutureLocation { addr: addr as usize as u64, type_marker: poll as usize as u64 }
}

/// [`future_location`] for a slot's future, from its type-erased vtable.
pub(crate) fn slot_future_location(storage: *const u8, vtable: &super::vtable::TaskVTable) -> FutureLocation {
    FutureLocation { addr: storage as usize as u64, type_marker: vtable.poll as usize as u64 }
}

/// Task `id` is about to be polled; the statistics of a task with a slot (`header`) start counting
/// (with `poll-trace`, main's poll is timed too).
#[inline]
pub(crate) fn poll_begin(core: &ExecutorCore, id: TaskId, header: Option<&TaskHeader>) -> Option<PollStart> {
    core.set_current_task(id);
    if cfg!(feature = "poll-trace") {
        return Some(PollStart::now());
    }
    header.map(|header| header.stats.poll_started())
}

/// The poll begun by [`poll_begin`] returned; `pending`: the task has not finished.
#[inline]
pub(crate) fn poll_end(
    core: &'static ExecutorCore,
    header: Option<&TaskHeader>,
    start: Option<PollStart>,
    pending: bool,
) {
    #[cfg(feature = "poll-trace")]
    let id = core.current_task();
    core.set_current_task(NO_TASK);
    let Some(start) = start else { return };
    let span = match header {
        Some(header) => header.stats.poll_ended(start, || pending && header.signal.is_set()),
        None => start.ended_now(),
    };
    #[cfg(feature = "poll-trace")]
    {
        let (start, end) = span.ticks();
        crate::poll_trace::record(id, start, end);
    }
    #[cfg(not(feature = "poll-trace"))]
    let _ = span;
    // The first poll of a task since a sample asks for a control pass, which arms the statistics
    // timer: without it, a firmware with a doorbell and nothing else to do would never sample (nor
    // send its polls). Main's polls arm nothing: `poll-trace` adds no wake-up of its own, and main's
    // polls go with the next batch.
    if cfg!(feature = "task-stats") && header.is_some() && !core.polled_since_sample.replace(true) {
        core.control.set();
    }
}

/// Task `id` ended as `outcome`: the host is told (with a last statistics sample, for a task with
/// a slot), and a stop in progress records it for its acknowledgement.
pub(crate) fn task_ended(core: &ExecutorCore, id: TaskId, outcome: TaskOutcome, header: Option<&TaskHeader>) {
    if let Some(header) = header {
        stats_sample(header, true);
    }
    crate::link::send_task_finished(id, outcome);
    core.record_ending(id, outcome);
}

/// Sends a statistics sample of `header`'s task if its numbers changed since the last (or `always`).
pub(crate) fn stats_sample(header: &TaskHeader, always: bool) {
    let state = || {
        if header.signal.cancel_requested() {
            TaskRunState::Cancelling
        } else if header.signal.is_set() {
            TaskRunState::Ready
        } else {
            TaskRunState::Waiting
        }
    };
    header.stats.report(header.id.get(), state, always);
}
