//! The run loop: poll what is ready, look for stop requests, carry out a shutdown, sleep.
//!
//! A shutdown has two steps, as in asyncio: main is cancelled first; when main has finished, every
//! task still running is cancelled, and the loop goes on until they have all finished. The cancel
//! deadline (from the stop request) or a second stop request ends it hard: what is still running is
//! dropped.

use crate::exception::{call_exception_handler, Context, Exception, KeyboardInterrupt};
use crate::executor::RawExecutor;
use crate::slots;
use crate::task::{SlotState, TaskHeader, TaskMeta};
use asyncmon_protocol::device::{HostCommand, TaskOutcome, MAIN_TASK_ID};
use core::future::Future;
use core::pin::{pin, Pin};
use core::sync::atomic::Ordering;
use core::task::Poll;
use embassy_time::{Duration, Instant, Timer};

/// How often the executor looks at the RTT down channel and at cancel deadlines.
pub const CONTROL_POLL_INTERVAL: Duration = Duration::from_millis(20);

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
    let mut main_output: Option<Result<T, E>> = None;
    let mut stop: Option<u32> = None;
    let mut hard = false;
    let mut deadline: Option<Instant> = None;
    let mut control_timer: Option<Timer> = None;
    let mut next_stats = Instant::now() + crate::stats::STATS_INTERVAL;
    core.main.set();
    core.control.set();
    loop {
        core.passes.store(core.passes.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        if core.control.take() {
            let mut cx = core::task::Context::from_waker(&control_waker);
            let due = control_timer.as_mut().is_none_or(|t| Pin::new(t).poll(&mut cx).is_ready());
            if due {
                let now = Instant::now();
                for command in crate::link::poll_commands() {
                    match command {
                        HostCommand::Stop { request_id } if stop.is_none() => {
                            stop = Some(request_id);
                            deadline = Some(now + core.cancel_deadline.get());
                            core.endings.borrow_mut().recording = true;
                            if main.is_some() {
                                core.main.request_cancel();
                            }
                        }
                        HostCommand::Stop { request_id } | HostCommand::HardStop { request_id } => {
                            stop.get_or_insert(request_id);
                            core.endings.borrow_mut().recording = true;
                            hard = true;
                        }
                        HostCommand::Resync | HostCommand::RollCall => {
                            if command == HostCommand::Resync {
                                crate::link::resync();
                            } else {
                                crate::link::start_roll_call();
                            }
                            let mut announced = 0;
                            if main.is_some() {
                                crate::link::send_task_spawned(&main_meta, core::mem::size_of::<F>());
                                announced += 1;
                            }
                            announced += slots::announce_running(exec);
                            if command == HostCommand::RollCall {
                                crate::link::end_roll_call(announced);
                            }
                        }
                    }
                }
                crate::link::report_losses();
                if cfg!(feature = "task-stats") && now >= next_stats {
                    next_stats = now + crate::stats::STATS_INTERVAL;
                    slots::report_stats(exec);
                }
                hard |= deadline.is_some_and(|d| now >= d);
                slots::drop_overdue(exec, now);
                let mut timer = Timer::after(CONTROL_POLL_INTERVAL);
                let _ = Pin::new(&mut timer).poll(&mut cx);
                control_timer = Some(timer);
            }
        }
        if hard {
            if main.is_some() {
                main.set(None);
                crate::link::send_task_finished(MAIN_TASK_ID, TaskOutcome::DroppedAtDeadline);
                core.record_ending(MAIN_TASK_ID, TaskOutcome::DroppedAtDeadline);
            }
            slots::drop_all(exec);
            break;
        }
        if core.main.take() {
            if let Some(future) = main.as_mut().as_pin_mut() {
                core.current.set(MAIN_TASK_ID);
                let mut cx = core::task::Context::from_waker(&main_waker);
                crate::panic::set_running_task(MAIN_TASK_ID);
                let poll = future.poll(&mut cx);
                crate::panic::set_running_task(crate::panic::NO_TASK);
                if let Poll::Ready(output) = poll {
                    main.set(None);
                    main_finished(exec, &output);
                    main_output = Some(output);
                    // As asyncio.run does: cancel whatever is still running, and wait for it.
                    core.shutting_down.set(true);
                    deadline.get_or_insert(Instant::now() + core.cancel_deadline.get());
                    for header in headers {
                        slots::request_cancel(exec, header);
                    }
                }
            }
        }
        // What was woken, and only that: a pass costs the ready tasks, not the slots. A wake
        // whose task has ended since (a timer that fires after its task was cancelled) is taken
        // off the queue like any other, so it cannot keep the executor awake.
        for signal in core.ready.take_all() {
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
        if main.is_none() && core.live.get() == 0 {
            break;
        }
        let ready = || core.main.is_set() || core.control.is_set() || !core.ready.is_empty();
        if !ready() {
            crate::platform::sleep_unless(ready);
        }
    }
    core.shutting_down.set(false);
    if let Some(request_id) = stop {
        let endings = core::mem::replace(&mut *core.endings.borrow_mut(), crate::executor::Endings::new());
        crate::link::send_shutdown_ack(request_id, endings.tasks, endings.total, hard);
        return Err(KeyboardInterrupt { request_id, hard_stop: hard });
    }
    match main_output {
        Some(output) => Ok(output),
        // Only a stop can end the loop before main finished.
        None => Err(KeyboardInterrupt { request_id: 0, hard_stop: true }),
    }
}

/// Reports how main ended; a failure during its cleanup goes to the handler, since `run` then
/// returns `KeyboardInterrupt` and the failure would otherwise be lost.
fn main_finished<T, E: Exception>(exec: RawExecutor, output: &Result<T, E>) {
    let core = exec.core();
    let failure = output.as_ref().err().map(|e| e as &dyn Exception);
    let outcome = slots::classify(failure, core.main.cancel_requested());
    crate::link::send_task_finished(MAIN_TASK_ID, outcome);
    core.record_ending(MAIN_TASK_ID, outcome);
    if let (TaskOutcome::FailedDuringCleanup, Some(exception)) = (outcome, failure) {
        let (path, message) = slots::unretrieved_path(exec);
        call_exception_handler(&Context { message, exception: Some(exception), task: None, path });
    }
}
