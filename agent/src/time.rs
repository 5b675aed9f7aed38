//! Time-based awaitables that know about cancellation: [`sleep`], [`wait_for`] and
//! [`JoinHandle::wait_for`]. Time itself comes from `embassy-time`.

use crate::exception::{Cancelled, Exception};
use crate::join::JoinHandle;
use crate::raw::signal::take_cancellation;
use asyncmon_protocol::device::FailurePath;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use embassy_time::{Duration, Timer};

/// Waits for `duration`; returns `Err(Cancelled)` at once if the task is cancelled meanwhile.
pub fn sleep(duration: Duration) -> Sleep {
    Sleep { timer: Timer::after(duration) }
}

/// The future of [`sleep`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    timer: Timer,
}

impl Future for Sleep {
    type Output = Result<(), Cancelled>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if take_cancellation(cx) {
            return Poll::Ready(Err(Cancelled));
        }
        Pin::new(&mut self.timer).poll(cx).map(Ok)
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

/// Runs `future` for at most `duration` (asyncio's `wait_for`): its output, or `Err(Timeout)`
/// after the future is dropped. Agent awaitables inside it still see the task's cancellation.
///
/// To give a *task* a timeout, use [`JoinHandle::wait_for`], which cancels the task (its cleanup
/// runs) instead of letting it go on detached.
pub fn wait_for<F: Future>(duration: Duration, future: F) -> WaitFor<F> {
    WaitFor { future, timer: Timer::after(duration), after: duration }
}

/// The future of [`wait_for`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitFor<F> {
    future: F,
    timer: Timer,
    after: Duration,
}

impl<F: Future> Future for WaitFor<F> {
    type Output = Result<F::Output, Timeout>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of `WaitFor` and is
        // dropped in place with it; the other fields are `Unpin` and not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        if let Poll::Ready(output) = future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        Pin::new(&mut this.timer).poll(cx).map(|()| Err(Timeout { after: this.after }))
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
