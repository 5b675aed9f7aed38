//! [`gather`], [`gather_vec`] and [`gather_all`]: await several tasks at once (asyncio's `gather`).

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

impl<T, E: Exception + From<Cancelled>, const N: usize> Future for Gather<T, E, N> {
    type Output = Result<[T; N], E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut state = GatherState { failure: &mut this.failure, cancelled: &mut this.cancelled };
        match state.poll(&mut this.handles, &mut this.values, cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) => {
                let values = core::mem::replace(&mut this.values, core::array::from_fn(|_| None));
                // Every handle ended with Ok here, so every value is present.
                Poll::Ready(Ok(values.map(|v| v.expect("a value for every task"))))
            }
        }
    }
}

/// What a gather knows besides its handles and values, whatever holds them.
struct GatherState<'a, E> {
    failure: &'a mut Option<E>,
    cancelled: &'a mut bool,
}

impl<E: Exception + From<Cancelled>> GatherState<'_, E> {
    /// One poll of a gather over `handles`, filling `values`: ready with `Ok` when every task
    /// succeeded, with the first failure (the others cancelled and finished), or with `Cancelled`
    /// when the gathering task was cancelled (every task cancelled and finished).
    fn poll<T>(
        &mut self,
        handles: &mut [Option<JoinHandle<T, E>>],
        values: &mut [Option<T>],
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), E>> {
        let cancel_remaining = |handles: &[Option<JoinHandle<T, E>>]| {
            for handle in handles.iter().flatten() {
                handle.cancel();
            }
        };
        if !*self.cancelled && take_cancellation(cx) {
            *self.cancelled = true;
            cancel_remaining(handles);
        }
        for i in 0..handles.len() {
            let Some(handle) = handles[i].as_mut() else { continue };
            let Poll::Ready(result) = handle.poll_result(cx, FailurePath::Gathered) else { continue };
            handles[i] = None;
            match result {
                Ok(value) => values[i] = Some(value),
                Err(e) if self.failure.is_none() && !*self.cancelled => {
                    *self.failure = Some(e);
                    cancel_remaining(handles);
                }
                // A sibling ending while the gather is cancelling: its result is not wanted.
                Err(_) => {}
            }
        }
        if handles.iter().any(Option::is_some) {
            return Poll::Pending;
        }
        if *self.cancelled {
            return Poll::Ready(Err(E::from(Cancelled)));
        }
        match self.failure.take() {
            Some(e) => Poll::Ready(Err(e)),
            None => Poll::Ready(Ok(())),
        }
    }
}

/// [`gather`] over as many tasks as a `heapless::Vec` of capacity `N` holds, when their number is
/// known only at run time (asyncio's `gather(*tasks)`): their values in order, or the first
/// failure, the others cancelled and awaited.
pub fn gather_vec<T, E, const N: usize>(handles: heapless::Vec<JoinHandle<T, E>, N>) -> GatherVec<T, E, N> {
    let count = handles.len();
    GatherVec {
        handles: handles.into_iter().map(Some).collect(),
        values: (0..count).map(|_| None).collect(),
        failure: None,
        cancelled: false,
    }
}

/// The future of [`gather_vec`].
#[must_use = "futures do nothing unless awaited"]
pub struct GatherVec<T, E, const N: usize> {
    handles: heapless::Vec<Option<JoinHandle<T, E>>, N>,
    values: heapless::Vec<Option<T>, N>,
    failure: Option<E>,
    cancelled: bool,
}

impl<T, E, const N: usize> Unpin for GatherVec<T, E, N> {}

impl<T, E: Exception + From<Cancelled>, const N: usize> Future for GatherVec<T, E, N> {
    type Output = Result<heapless::Vec<T, N>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut state = GatherState { failure: &mut this.failure, cancelled: &mut this.cancelled };
        match state.poll(&mut this.handles, &mut this.values, cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) => {
                let values = core::mem::take(&mut this.values);
                Poll::Ready(Ok(values.into_iter().map(|v| v.expect("a value for every task")).collect()))
            }
        }
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
