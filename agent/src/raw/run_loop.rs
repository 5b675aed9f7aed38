//! The run loop: poll what is ready, look for stop requests, carry out a shutdown, sleep.
//!
//! A shutdown has two steps, as in asyncio: main is cancelled first; when main has finished, every
//! task still running is cancelled, and the loop goes on until they have all finished. The cancel
//! deadline (from the stop request) or a second stop request ends it hard: what is still running is
//! dropped.

use super::header::{SlotState, TaskHeader};
use super::signal::TaskSignal;
use super::{hooks, slots, RawExecutor};
use crate::exception::{Context, Exception, KeyboardInterrupt, TaskMeta};
use crate::handler::call_exception_handler;
use asyncmon_protocol::device::{FutureLocation, HostCommand, TaskOutcome, MAIN_TASK_ID};
use core::future::Future;
use core::pin::{pin, Pin};
use core::sync::atomic::Ordering;
use core::task::Poll;
use embassy_time::{Instant, Timer};

/// Where a stop stands.
#[derive(Default)]
struct Stop {
    /// The stop request being carried out.
    request: Option<u32>,
    /// Drop whatever still runs, now: a second request (a hard stop).
    hard: bool,
    /// When what still runs is dropped, each task reported as dropped at the deadline (a stop that
    /// still ends as asked, not a hard one).
    deadline: Option<Instant>,
    /// That deadline has passed.
    overdue: bool,
}

/// Runs `main` and every task until main and all tasks have ended, or a hard stop.
pub(crate) fn run<F, T, E>(
    exec: RawExecutor,
    main_meta: TaskMeta,
    main: F,
) -> Result<Result<T, E>, KeyboardInterrupt>
where
    F: Future<Output = Result<T, E>>,
    E: Exception,
{
    let core = exec.core();
    let headers: &'static [TaskHeader] = exec.headers();
    let main_waker = core.main.waker();
    let control_waker = core.control.waker();
    let mut main = pin!(Some(main));
    // Main's future lives on this stack, pinned: what it reserves is what it needs, and its
    // address is known from here on.
    let main_future = match main.as_mut().as_pin_mut() {
        Some(future) => hooks::future_location::<F>(&*future),
        None => unreachable!("main was just put there"),
    };
    let main_announcement = (&main_meta, core::mem::size_of::<F>(), main_future);
    hooks::task_spawned(&main_meta, main_announcement.1, main_announcement.1, main_future);
    let mut main_output: Option<Result<T, E>> = None;
    let mut stop = Stop::default();
    let mut next_stats = Instant::now() + crate::stats::STATS_INTERVAL;
    // Without a doorbell the host cannot wake the executor: it looks for itself, this often.
    let fallback_poll = (!crate::link::doorbell::configured()).then(|| core.fallback_poll.get());
    core.main.set();
    core.control.set();
    loop {
        core.passes.store(core.passes.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        // The control work: on the doorbell, on its timer, or when something asked (a cancel
        // deadline was set). Never on a bare clock tick when there is a doorbell and nothing due.
        if core.control.take() | crate::link::doorbell::take_ring() {
            let now = Instant::now();
            let running_main = main.is_some().then_some(main_announcement);
            handle_commands(exec, &mut stop, now, running_main);
            crate::link::report_losses();
            let mut next = fallback_poll.map(|interval| now + interval);
            if cfg!(feature = "task-stats") && core.polled_since_sample.get() {
                if now >= next_stats {
                    next_stats = now + crate::stats::STATS_INTERVAL;
                    core.polled_since_sample.set(false);
                    slots::report_stats(exec);
                }
                next = earliest(next, Some(next_stats));
            }
            stop.overdue |= stop.deadline.is_some_and(|d| now >= d);
            next = earliest(next, stop.deadline.filter(|_| !stop.overdue));
            next = earliest(next, slots::drop_overdue(exec, now));
            // One wake-up for whatever is due next; none when nothing is. (A polled timer stays in
            // embassy-time's queue until it fires; one left from an earlier pass only brings an
            // early, harmless pass.)
            if let Some(at) = next {
                let mut cx = core::task::Context::from_waker(&control_waker);
                if Pin::new(&mut Timer::at(at)).poll(&mut cx).is_ready() {
                    core.control.set();
                }
            }
        }
        if stop.hard || stop.overdue {
            if main.is_some() {
                main.set(None);
                hooks::task_ended(core, MAIN_TASK_ID, TaskOutcome::DroppedAtDeadline, None);
            }
            slots::drop_all(exec);
            break;
        }
        if core.main.take() {
            if let Some(future) = main.as_mut().as_pin_mut() {
                let mut cx = core::task::Context::from_waker(&main_waker);
                let start = hooks::poll_begin(core, MAIN_TASK_ID, None);
                let poll = future.poll(&mut cx);
                hooks::poll_end(core, None, start, poll.is_pending());
                if let Poll::Ready(output) = poll {
                    main.set(None);
                    main_finished(exec, &main_meta, &output);
                    main_output = Some(output);
                    // As asyncio.run does: cancel whatever is still running, and wait for it.
                    core.shutting_down.set(true);
                    stop.deadline.get_or_insert(Instant::now() + core.cancel_deadline.get());
                    for header in headers {
                        slots::request_cancel(exec.core(), header);
                    }
                }
            }
        }
        poll_ready(exec);
        if main.is_none() && core.live.get() == 0 {
            break;
        }
        let ready = || {
            core.main.is_set()
                || core.control.is_set()
                || !core.ready.is_empty()
                || crate::link::doorbell::rung()
        };
        if !ready() {
            crate::platform::sleep_unless(ready);
        }
    }
    core.shutting_down.set(false);
    if let Some(request_id) = stop.request {
        let endings = core::mem::replace(&mut *core.endings.borrow_mut(), super::Endings::new());
        crate::link::send_shutdown_ack(request_id, endings.tasks, endings.total, stop.hard);
        return Err(KeyboardInterrupt { request_id, hard_stop: stop.hard });
    }
    match main_output {
        Some(output) => Ok(output),
        // Only a stop can end the loop before main finished.
        None => Err(KeyboardInterrupt { request_id: 0, hard_stop: true }),
    }
}

/// The earlier of two times, either of which may be missing.
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Polls what was woken, and only that: a pass costs the ready tasks, not the slots. A wake whose
/// task has ended since (a timer that fires after its task was cancelled) is taken off the queue
/// like any other, so it cannot keep the executor awake.
#[inline]
fn poll_ready(exec: RawExecutor) {
    let headers = exec.headers();
    for link in exec.core().ready.take_all() {
        let signal = TaskSignal::of_link(link);
        // Cleared before the poll: a wake during it queues the task again.
        signal.dequeued();
        let index = exec.index_of(signal);
        let header = &headers[index];
        if header.state.get() == SlotState::Running {
            slots::poll(exec, index);
        }
        if header.orphaned.get() {
            header.orphaned.set(false);
            slots::settle(exec, index);
        }
    }
}

/// Carries out what the host asked on the down channel. `main`: main's meta, size and future, while
/// it runs.
fn handle_commands(
    exec: RawExecutor,
    stop: &mut Stop,
    now: Instant,
    main: Option<(&TaskMeta, usize, FutureLocation)>,
) {
    let core = exec.core();
    for command in crate::link::poll_commands() {
        match command {
            HostCommand::Stop { request_id } if stop.request.is_none() => {
                stop.request = Some(request_id);
                stop.deadline = Some(now + core.cancel_deadline.get());
                core.endings.borrow_mut().recording = true;
                if main.is_some() {
                    core.main.request_cancel();
                }
            }
            HostCommand::Stop { request_id } | HostCommand::HardStop { request_id } => {
                stop.request.get_or_insert(request_id);
                core.endings.borrow_mut().recording = true;
                stop.hard = true;
            }
            HostCommand::Resync | HostCommand::RollCall => {
                if command == HostCommand::Resync {
                    crate::link::resync();
                } else {
                    crate::link::start_roll_call();
                }
                if let Some((meta, bytes, future)) = main {
                    hooks::task_spawned(meta, bytes, bytes, future);
                }
                let announced = u32::from(main.is_some()) + slots::announce_running(exec);
                if command == HostCommand::RollCall {
                    crate::link::end_roll_call(announced);
                }
            }
        }
    }
}

/// Reports how main ended; a failure during its cleanup goes to the handler, since `run` then
/// returns `KeyboardInterrupt` and the failure would otherwise be lost.
fn main_finished<T, E: Exception>(exec: RawExecutor, meta: &TaskMeta, output: &Result<T, E>) {
    let core = exec.core();
    let failure = output.as_ref().err().map(|e| e as &dyn Exception);
    let outcome = slots::classify(failure, core.main.cancel_requested());
    hooks::task_ended(core, MAIN_TASK_ID, outcome, None);
    if let (TaskOutcome::FailedDuringCleanup, Some(exception)) = (outcome, failure) {
        let (path, message) = slots::unretrieved_path(exec);
        call_exception_handler(&Context { message, exception: Some(exception), task: Some(*meta), path });
    }
}
