//! [`gather`] and [`gather_all`]: await several tasks at once (asyncio's `gather`).

use crate::exception::{Cancelled, Exception};
use crate::join::JoinHandle;
use crate::raw::signal::take_cancellation;
use asyncmon_protocol::device::FailurePath;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// Awaits every task; the first failure cancels the others, waits for their cleanup, and comes out
/// of the gather. All succeed: their values, in order. If the gathering task is cancelled, every
/// task is cancelled and the gather returns `Cancelled`.
pub fn gather<T, E, const N: usize>(handles: [JoinHandle<T, E>; N]) -> Gather<T, E, N> {
    Gather {
        handles: handles.map(Some),
        values: core::array::from_fn(|_| None),
        failure: None,
        cancelled: false,
    }
}

/// The future of [`gather`].
#[must_use = "futures do nothing unless awaited"]
pub struct Gather<T, E, const N: usize> {
    handles: [Option<JoinHandle<T, E>>; N],
    values: [Option<T>; N],
    failure: Option<E>,
    cancelled: bool,
}

impl<T, E, const N: usize> Unpin for Gather<T, E, N> {}

impl<T, E, const N: usize> Gather<T, E, N> {
    fn cancel_remaining(&self) {
        for handle in self.handles.iter().flatten() {
            handle.cancel();
        }
    }
}

impl<T, E: Exception + From<Cancelled>, const N: usize> Future for Gather<T, E, N> {
    type Output = Result<[T; N], E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if !this.cancelled && take_cancellation(cx) {
            this.cancelled = true;
            this.cancel_remaining();
        }
        for i in 0..N {
            let Some(handle) = this.handles[i].as_mut() else { continue };
            let Poll::Ready(result) = handle.poll_result(cx, FailurePath::Gathered) else { continue };
            this.handles[i] = None;
            match result {
                Ok(value) => this.values[i] = Some(value),
                Err(e) if this.failure.is_none() && !this.cancelled => {
                    this.failure = Some(e);
                    this.cancel_remaining();
                }
                // A sibling ending while the gather is cancelling: its result is not wanted.
                Err(_) => {}
            }
        }
        if this.handles.iter().any(Option::is_some) {
            return Poll::Pending;
        }
        if this.cancelled {
            return Poll::Ready(Err(E::from(Cancelled)));
        }
        if let Some(e) = this.failure.take() {
            return Poll::Ready(Err(e));
        }
        let values = core::mem::replace(&mut this.values, core::array::from_fn(|_| None));
        // Every handle ended with Ok here, so every value is present.
        Poll::Ready(Ok(values.map(|v| v.expect("a value for every task"))))
    }
}

/// Awaits every task and returns every result, failures included; nothing is cancelled (asyncio's
/// `gather(..., return_exceptions=True)`). If the gathering task is cancelled, every task is
/// cancelled and their results (mostly `Cancelled`) are returned once they have finished.
pub fn gather_all<T, E, const N: usize>(handles: [JoinHandle<T, E>; N]) -> GatherAll<T, E, N> {
    GatherAll { handles: handles.map(Some), results: core::array::from_fn(|_| None), cancelled: false }
}

/// The future of [`gather_all`].
#[must_use = "futures do nothing unless awaited"]
pub struct GatherAll<T, E, const N: usize> {
    handles: [Option<JoinHandle<T, E>>; N],
    results: [Option<Result<T, E>>; N],
    cancelled: bool,
}

impl<T, E, const N: usize> Unpin for GatherAll<T, E, N> {}

impl<T, E: Exception + From<Cancelled>, const N: usize> Future for GatherAll<T, E, N> {
    type Output = [Result<T, E>; N];

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if !this.cancelled && take_cancellation(cx) {
            this.cancelled = true;
            for handle in this.handles.iter().flatten() {
                handle.cancel();
            }
        }
        for i in 0..N {
            let Some(handle) = this.handles[i].as_mut() else { continue };
            if let Poll::Ready(result) = handle.poll_result(cx, FailurePath::Gathered) {
                this.handles[i] = None;
                this.results[i] = Some(result);
            }
        }
        if this.handles.iter().any(Option::is_some) {
            return Poll::Pending;
        }
        let results = core::mem::replace(&mut this.results, core::array::from_fn(|_| None));
        Poll::Ready(results.map(|r| r.unwrap_or_else(|| Err(E::from(Cancelled)))))
    }
}
