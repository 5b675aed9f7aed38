//! [`gather`], [`gather_vec`], [`gather_tuple`] and [`gather_all`]: await several tasks at once
//! (asyncio's `gather`). The first three share one rule ([`GatherState`]) over their tasks, each
//! seen through [`Member`] whatever its value type.

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
    Gather { slots: handles.map(Slot::new), state: GatherState::new() }
}

/// The future of [`gather`].
#[must_use = "futures do nothing unless awaited"]
pub struct Gather<T, E, const N: usize> {
    slots: [Slot<T, E>; N],
    state: GatherState<E>,
}

impl<T, E, const N: usize> Unpin for Gather<T, E, N> {}

impl<T, E: Exception + From<Cancelled>, const N: usize> Future for Gather<T, E, N> {
    type Output = Result<[T; N], E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut members = this.slots.each_mut().map(|s| s as &mut dyn Member<E>);
        let polled = this.state.poll(&mut members, cx);
        polled.map(|done| done.map(|()| this.slots.each_mut().map(Slot::take_value)))
    }
}

/// [`gather`] over as many tasks as a `heapless::Vec` of capacity `N` holds, when their number is
/// known only at run time (asyncio's `gather(*tasks)`): their values in order, or the first
/// failure, the others cancelled and awaited.
pub fn gather_vec<T, E, const N: usize>(handles: heapless::Vec<JoinHandle<T, E>, N>) -> GatherVec<T, E, N> {
    GatherVec { slots: handles.into_iter().map(Slot::new).collect(), state: GatherState::new() }
}

/// The future of [`gather_vec`].
#[must_use = "futures do nothing unless awaited"]
pub struct GatherVec<T, E, const N: usize> {
    slots: heapless::Vec<Slot<T, E>, N>,
    state: GatherState<E>,
}

impl<T, E, const N: usize> Unpin for GatherVec<T, E, N> {}

impl<T, E: Exception + From<Cancelled>, const N: usize> Future for GatherVec<T, E, N> {
    type Output = Result<heapless::Vec<T, N>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut members: heapless::Vec<&mut dyn Member<E>, N> =
            this.slots.iter_mut().map(|s| s as &mut dyn Member<E>).collect();
        let polled = this.state.poll(&mut members, cx);
        drop(members);
        polled.map(|done| done.map(|()| this.slots.iter_mut().map(Slot::take_value).collect()))
    }
}

/// [`gather`] over tasks whose values differ in type (asyncio's `gather(read_temp(), read_id())`):
/// `gather_tuple((a, b)).await?` gives `(a_value, b_value)`; the first failure cancels the others,
/// as [`gather`]'s does. Takes a tuple of 2 to 8 handles that share the error type.
pub fn gather_tuple<H: HandleTuple<E>, E>(handles: H) -> GatherTuple<H::Slots, E> {
    GatherTuple { slots: handles.into_slots(), state: GatherState::new() }
}

/// The future of [`gather_tuple`].
#[must_use = "futures do nothing unless awaited"]
pub struct GatherTuple<S, E> {
    slots: S,
    state: GatherState<E>,
}

impl<S, E> Unpin for GatherTuple<S, E> {}

impl<S: SlotTuple<E>, E: Exception + From<Cancelled>> Future for GatherTuple<S, E> {
    type Output = Result<S::Values, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let polled = this.state.poll(&mut this.slots.members(), cx);
        polled.map(|done| done.map(|()| this.slots.take_values()))
    }
}

/// A tuple of [`JoinHandle`]s with one error type, which [`gather_tuple`] takes.
pub trait HandleTuple<E> {
    /// One [`Slot`] per handle.
    type Slots: SlotTuple<E>;
    /// Puts each handle in its slot.
    fn into_slots(self) -> Self::Slots;
}

/// The slots of a [`gather_tuple`], one per task, each with its own value type.
pub trait SlotTuple<E> {
    /// The tasks' values, in order.
    type Values;
    /// Every slot, as a gather polls them.
    fn members(&mut self) -> heapless::Vec<&mut dyn Member<E>, 8>;
    /// The values, once every task succeeded.
    fn take_values(&mut self) -> Self::Values;
}

macro_rules! tuples {
    ($($value:ident $index:tt),+) => {
        impl<E: Exception + From<Cancelled>, $($value),+> HandleTuple<E> for ($(JoinHandle<$value, E>,)+) {
            type Slots = ($(Slot<$value, E>,)+);
            fn into_slots(self) -> Self::Slots {
                ($(Slot::new(self.$index),)+)
            }
        }

        impl<E: Exception + From<Cancelled>, $($value),+> SlotTuple<E> for ($(Slot<$value, E>,)+) {
            type Values = ($($value,)+);
            fn members(&mut self) -> heapless::Vec<&mut dyn Member<E>, 8> {
                let mut members = heapless::Vec::new();
                $(let _ = members.push(&mut self.$index as &mut dyn Member<E>);)+
                members
            }
            fn take_values(&mut self) -> Self::Values {
                ($(self.$index.take_value(),)+)
            }
        }
    };
}

tuples!(A 0, B 1);
tuples!(A 0, B 1, C 2);
tuples!(A 0, B 1, C 2, D 3);
tuples!(A 0, B 1, C 2, D 3, F 4);
tuples!(A 0, B 1, C 2, D 3, F 4, G 5);
tuples!(A 0, B 1, C 2, D 3, F 4, G 5, H 6);
tuples!(A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7);

/// One task of a gather: its handle while it runs, then its value.
pub struct Slot<T, E> {
    handle: Option<JoinHandle<T, E>>,
    value: Option<T>,
}

impl<T, E> Slot<T, E> {
    fn new(handle: JoinHandle<T, E>) -> Self {
        Slot { handle: Some(handle), value: None }
    }

    /// The value, once the gather succeeded (every task ended with one).
    fn take_value(&mut self) -> T {
        self.value.take().expect("a value for every task once the gather succeeded")
    }
}

/// What a gather does with each of its tasks, whatever the task's value type.
pub trait Member<E> {
    /// Whether the task is still to be awaited.
    fn running(&self) -> bool;
    /// Asks the task to stop.
    fn cancel(&self);
    /// Polls a running task: `Ok` once it ended with a value (kept), or its failure.
    fn poll_member(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), E>>;
}

impl<T, E: Exception + From<Cancelled>> Member<E> for Slot<T, E> {
    fn running(&self) -> bool {
        self.handle.is_some()
    }

    fn cancel(&self) {
        if let Some(handle) = &self.handle {
            handle.cancel();
        }
    }

    fn poll_member(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        let Some(handle) = self.handle.as_mut() else { return Poll::Ready(Ok(())) };
        let result = core::task::ready!(handle.poll_result(cx, FailurePath::Gathered));
        self.handle = None;
        Poll::Ready(result.map(|value| self.value = Some(value)))
    }
}

/// What a gather knows besides its tasks: the first failure, and whether it is being cancelled.
struct GatherState<E> {
    failure: Option<E>,
    cancelled: bool,
}

impl<E> GatherState<E> {
    const fn new() -> Self {
        GatherState { failure: None, cancelled: false }
    }
}

impl<E: Exception + From<Cancelled>> GatherState<E> {
    /// One poll of a gather over `members`: ready with `Ok` when every task succeeded, with the
    /// first failure (the others cancelled and finished), or with `Cancelled` when the gathering
    /// task was cancelled (every task cancelled and finished).
    fn poll(&mut self, members: &mut [&mut dyn Member<E>], cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        let cancel_all = |members: &[&mut dyn Member<E>]| members.iter().for_each(|m| m.cancel());
        if !self.cancelled && take_cancellation(cx) {
            self.cancelled = true;
            cancel_all(members);
        }
        for i in 0..members.len() {
            if !members[i].running() {
                continue;
            }
            match members[i].poll_member(cx) {
                Poll::Pending | Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) if self.failure.is_none() && !self.cancelled => {
                    self.failure = Some(e);
                    cancel_all(members);
                }
                // A sibling ending while the gather is cancelling: its result is not wanted.
                Poll::Ready(Err(_)) => {}
            }
        }
        if members.iter().any(|m| m.running()) {
            return Poll::Pending;
        }
        if self.cancelled {
            return Poll::Ready(Err(E::from(Cancelled)));
        }
        match self.failure.take() {
            Some(e) => Poll::Ready(Err(e)),
            None => Poll::Ready(Ok(())),
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
