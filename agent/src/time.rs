//! Time-based awaitables that know about cancellation: [`sleep`], [`yield_now`], [`wait_for`] and
//! [`JoinHandle::wait_for`]. Time itself comes from `embassy-time`.

use crate::exception::{Cancelled, Exception, Outcome};
use crate::join::JoinHandle;
use crate::raw::signal::{signal_of, take_cancellation};
use asyncmon_protocol::device::FailurePath;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use embassy_time::{Duration, Timer};

/// Waits for `duration`; returns `Err(Cancelled)` at once if the task is cancelled meanwhile.
/// `sleep(Duration::from_ticks(0))` is [`yield_now`], as asyncio's `sleep(0)` is one pass of the
/// loop: it never goes through the timer.
pub fn sleep(duration: Duration) -> Sleep {
    let timer = (duration.as_ticks() != 0).then(|| Timer::after(duration));
    Sleep { timer, yielded: false }
}

/// The future of [`sleep`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    /// `None` for a sleep of zero: a yield.
    timer: Option<Timer>,
    yielded: bool,
}

impl Future for Sleep {
    type Output = Result<(), Cancelled>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if take_cancellation(cx) {
            return Poll::Ready(Err(Cancelled));
        }
        let this = &mut *self;
        match this.timer.as_mut() {
            Some(timer) => Pin::new(timer).poll(cx).map(Ok),
            None => yield_once(&mut this.yielded, cx),
        }
    }
}

/// Lets every other ready task run once before this one goes on (asyncio's `sleep(0)`): the task
/// goes to the back of the ready queue, so tasks that yield in turn run in the order they were
/// woken, every time. Returns `Err(Cancelled)` if the task is cancelled.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = Result<(), Cancelled>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if take_cancellation(cx) {
            return Poll::Ready(Err(Cancelled));
        }
        yield_once(&mut self.yielded, cx)
    }
}

/// Pending once (woken at once, so back on the ready queue), then ready.
fn yield_once(yielded: &mut bool, cx: &mut Context<'_>) -> Poll<Result<(), Cancelled>> {
    if core::mem::replace(yielded, true) {
        Poll::Ready(Ok(()))
    } else {
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A [`wait_for`] ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout {
    /// The time that was allowed.
    pub after: Duration,
}

impl core::fmt::Display for Timeout {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "timed out after {} ms", self.after.as_millis())
    }
}

impl Exception for Timeout {
    fn is_cancellation(&self) -> bool {
        false
    }
}

/// Runs `future` for at most `duration` (asyncio's `wait_for`): its output if it ends in time.
/// Otherwise it is cancelled — its next agent awaitable returns `Cancelled`, as in a cancelled
/// task — and awaited while its cleanup runs (releasing a bus, powering a sensor down): the result
/// is `Err(Timeout)` if it let the cancellation through, or its output if it handled the
/// cancellation and returned one, as asyncio's does. A cleanup still running after
/// [`crate::DEFAULT_CANCEL_DEADLINE`] is cut short: the future is dropped (its `Drop` runs).
///
/// A future from another crate sees the cancellation through [`crate::cancellable`]. To give a
/// *task* a timeout, use [`JoinHandle::wait_for`].
pub fn wait_for<F>(duration: Duration, future: F) -> WaitFor<F>
where
    F: Future,
    F::Output: Outcome,
{
    WaitFor {
        future: Some(future),
        timer: Timer::after(duration),
        after: duration,
        cleanup: None,
        offering: false,
    }
}

/// The future of [`wait_for`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitFor<F> {
    /// `None` once dropped at the cleanup deadline.
    future: Option<F>,
    timer: Timer,
    after: Duration,
    /// Set at the timeout: the future is being cancelled, and its cleanup ends by this timer.
    cleanup: Option<Timer>,
    /// The cancellation waits for an awaitable in the future to take it.
    offering: bool,
}

impl<F> Future for WaitFor<F>
where
    F: Future,
    F::Output: Outcome,
{
    type Output = Result<F::Output, Timeout>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of `WaitFor`, and is
        // dropped in place (`Pin::set`) or with it; the other fields are `Unpin` and not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above.
        let mut future = unsafe { Pin::new_unchecked(&mut this.future) };
        let timeout = Timeout { after: this.after };
        if this.cleanup.is_none() {
            if let Some(Poll::Ready(output)) = future.as_mut().as_pin_mut().map(|f| f.poll(cx)) {
                return Poll::Ready(Ok(output));
            }
            if Pin::new(&mut this.timer).poll(cx).is_pending() {
                return Poll::Pending;
            }
            if signal_of(cx).is_none() {
                // Not in an agent task: nothing can tell the future, so it is dropped.
                future.set(None);
                return Poll::Ready(Err(timeout));
            }
            this.cleanup = Some(Timer::after(crate::DEFAULT_CANCEL_DEADLINE));
            this.offering = true;
        }
        let signal = signal_of(cx);
        if this.offering {
            signal.inspect(|s| s.offer_scoped());
        }
        let polled = future.as_mut().as_pin_mut().map(|f| f.poll(cx));
        if this.offering {
            this.offering = signal.is_some_and(|s| s.withdraw_scoped());
        }
        match polled {
            Some(Poll::Ready(output)) if output.is_cancelled() => Poll::Ready(Err(timeout)),
            Some(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            _ => match this.cleanup.as_mut().map(|t| Pin::new(t).poll(cx)) {
                Some(Poll::Ready(())) | None => {
                    future.set(None);
                    Poll::Ready(Err(timeout))
                }
                Some(Poll::Pending) => Poll::Pending,
            },
        }
    }
}

impl<T, E: Exception + From<Cancelled>> JoinHandle<T, E> {
    /// Waits at most `duration` for the task (asyncio's `wait_for(task, timeout)`): on time, its
    /// result; otherwise the task is cancelled, its cleanup runs (bounded by the cancel deadline),
    /// and the result is `Err(Timeout)`.
    pub fn wait_for(self, duration: Duration) -> TaskWaitFor<T, E> {
        TaskWaitFor { handle: self, timer: Timer::after(duration), after: duration, timed_out: false }
    }
}

/// The future of [`JoinHandle::wait_for`].
#[must_use = "futures do nothing unless awaited"]
pub struct TaskWaitFor<T, E> {
    handle: JoinHandle<T, E>,
    timer: Timer,
    after: Duration,
    timed_out: bool,
}

impl<T, E: Exception + From<Cancelled>> Future for TaskWaitFor<T, E> {
    type Output = Result<Result<T, E>, Timeout>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if !this.timed_out && Pin::new(&mut this.timer).poll(cx).is_ready() {
            this.timed_out = true;
            this.handle.cancel();
        }
        match this.handle.poll_result(cx, FailurePath::Awaited) {
            Poll::Pending => Poll::Pending,
            // The awaiting task's own cancellation wins over a timeout that came in the same pass:
            // it gets its `Cancelled` (as asyncio's wait_for re-raises CancelledError), never a
            // Timeout that would swallow it.
            Poll::Ready(result) if this.handle.awaiter_cancelled() => Poll::Ready(Ok(result)),
            Poll::Ready(_) if this.timed_out => Poll::Ready(Err(Timeout { after: this.after })),
            Poll::Ready(result) => Poll::Ready(Ok(result)),
        }
    }
}
