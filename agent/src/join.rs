//! [`JoinHandle`]: awaiting a task gives its `Result`, failure included (asyncio's `await task`).

use crate::exception::{Cancelled, Exception};
use crate::executor::{free_slot, RawExecutor};
use crate::task::{SlotState, TaskHeader, TaskMeta};
use asyncmon_protocol::device::FailurePath;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};

/// The handle of a spawned task. Await it for the task's result; drop it to detach the task.
///
/// Awaiting a task that was cancelled gives `Err(E::from(Cancelled))`.
#[must_use = "dropping a handle detaches the task; an unretrieved failure then goes to the exception handler"]
pub struct JoinHandle<T, E> {
    exec: &'static dyn RawExecutor,
    index: usize,
    generation: u32,
    done: bool,
    _output: PhantomData<OutputMarker<T, E>>,
}

/// Carries the output type, and keeps the handle on the executor's thread (`!Send`).
type OutputMarker<T, E> = (fn() -> (T, E), *const ());

impl<T, E> JoinHandle<T, E> {
    pub(crate) fn new(exec: &'static dyn RawExecutor, index: usize, generation: u32) -> Self {
        JoinHandle { exec, index, generation, done: false, _output: PhantomData }
    }

    /// The slot, if it still holds this handle's task.
    fn header(&self) -> Option<&'static TaskHeader> {
        let header = &self.exec.headers()[self.index];
        (!self.done && header.generation.get() == self.generation && header.state.get() != SlotState::Free)
            .then_some(header)
    }

    /// The task's id and name, while it is still tracked.
    pub fn task(&self) -> Option<TaskMeta> {
        self.header().and_then(|h| h.meta.get())
    }

    /// Whether the task has finished (its output waits in the handle).
    pub fn is_finished(&self) -> bool {
        self.header().is_some_and(|h| h.state.get() == SlotState::Finished)
    }
}

impl<T, E: Exception + From<Cancelled>> Future for JoinHandle<T, E> {
    type Output = Result<T, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        assert!(!self.done, "JoinHandle polled after it returned");
        let Some(header) = self.header() else {
            // The slot was cancelled and reused: the task is gone.
            self.done = true;
            return Poll::Ready(Err(E::from(Cancelled)));
        };
        if header.state.get() == SlotState::Running {
            header.awaiter.set(Some(cx.waker().clone()));
            return Poll::Pending;
        }
        // SAFETY: the slot is Finished, so its storage holds this task's `Result<T, E>` (the
        // generation matches), written by `poll_future`; it is read exactly once, then the slot is
        // freed without dropping it again.
        let output = unsafe { core::ptr::read(self.exec.storage(self.index) as *const Result<T, E>) };
        if let (Err(e), Some(meta)) = (&output, header.meta.get()) {
            crate::link::send_retrieved_failure(&meta, e, FailurePath::Awaited);
        }
        free_slot(header);
        self.done = true;
        Poll::Ready(output)
    }
}

impl<T, E> Drop for JoinHandle<T, E> {
    fn drop(&mut self) {
        if let Some(header) = self.header() {
            header.handle_alive.set(false);
            header.awaiter.set(None);
            if header.state.get() == SlotState::Finished {
                // The executor settles the slot on its next round (reports an unretrieved failure).
                header.orphaned.set(true);
                header.wake.set();
            }
        }
    }
}
