//! [`cancellable`]: make any future see the task's cancellation (for futures from other crates,
//! such as an `embassy-sync` channel's `receive()`).

use crate::exception::Cancelled;
use crate::raw::signal::take_cancellation;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// Wraps `future` so that it returns `Err(Cancelled)` when the task awaiting it is cancelled, like
/// the agent's own awaitables. Without it, a foreign future simply sees the drop at the deadline.
pub fn cancellable<F: Future>(future: F) -> Cancellable<F> {
    Cancellable { future }
}

/// The future of [`cancellable`].
#[must_use = "futures do nothing unless awaited"]
pub struct Cancellable<F> {
    future: F,
}

impl<F: Future> Future for Cancellable<F> {
    type Output = Result<F::Output, Cancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if take_cancellation(cx) {
            return Poll::Ready(Err(Cancelled));
        }
        // SAFETY: `future` is structurally pinned: it is never moved out of `Cancellable`.
        let future = unsafe { self.map_unchecked_mut(|c| &mut c.future) };
        future.poll(cx).map(Ok)
    }
}
