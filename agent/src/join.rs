//! [`JoinHandle`]: awaiting a task gives its `Result`, failure included (asyncio's `await task`).

use crate::exception::{Cancelled, Exception, TaskMeta};
use crate::raw::header::{SlotState, TaskHeader};
use crate::raw::signal::take_cancellation;
use crate::raw::{slots, RawExecutor};
use crate::task_ref::TaskRef;
use asyncmon_protocol::device::FailurePath;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};

/// The handle of a spawned task. Await it for the task's result; drop it to detach the task.
///
/// * Awaiting a task that was cancelled gives `Err(E::from(Cancelled))`; a task cancelled before it
///   ever ran never runs.
/// * If the task awaiting the handle is itself cancelled, the cancellation goes to the awaited task
///   instead (as asyncio's does), and the await gives what that task ended with once it has
///   finished: `Cancelled` if it let the cancellation through, its value if it handled it and
///   returned one, the failure its cleanup raised.
#[must_use = "dropping a handle detaches the task; an unretrieved failure then goes to the exception handler"]
pub struct JoinHandle<T, E> {
    exec: RawExecutor,
    index: usize,
    generation: u32,
    done: bool,
    /// The awaiting task was cancelled: the awaited task is being cancelled, its result is not ours.
    cancelling: bool,
    _output: PhantomData<OutputMarker<T, E>>,
}

/// Carries the output type, and keeps the handle on the executor's thread (`!Send`).
type OutputMarker<T, E> = (fn() -> (T, E), *const ());

impl<T, E> JoinHandle<T, E> {
    pub(crate) fn new(exec: RawExecutor, index: usize, generation: u32) -> Self {
        JoinHandle { exec, index, generation, done: false, cancelling: false, _output: PhantomData }
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

    /// Whether the task is done (asyncio's `task.done()`): it finished, was cancelled or dropped —
    /// and it stays done after its result was taken.
    pub fn done(&self) -> bool {
        self.header().is_none_or(|h| h.state.get() != SlotState::Running)
    }

    /// A reference to the task that can be copied and given to other tasks, which can then cancel
    /// it or ask whether it is done while this handle awaits it (as tokio's `AbortHandle`).
    pub fn task_ref(&self) -> TaskRef {
        TaskRef::new(self.exec.core(), &self.exec.headers()[self.index], self.generation)
    }

    /// Asks the task to cancel (asyncio's `task.cancel()`): its next agent awaitable returns
    /// `Cancelled`, so `?` carries it out and its cleanup runs; a task not yet started never
    /// starts. A task still running at the executor's cancel deadline is dropped. Await the handle
    /// to wait for it. Returns whether this asked anything: `false` when the task has finished or
    /// was already asked.
    pub fn cancel(&self) -> bool {
        self.header().is_some_and(|header| slots::request_cancel(self.exec.core(), header))
    }

    /// Lets go of a finished task whose result is not ours: the executor settles it (and reports a
    /// failure nobody retrieved).
    fn orphan(&mut self, header: &'static TaskHeader) {
        header.handle_alive.set(false);
        header.awaiter.set(None);
        if header.state.get() == SlotState::Finished {
            header.orphaned.set(true);
            header.signal.set();
        }
        self.done = true;
    }
}

impl<T, E: Exception + From<Cancelled>> JoinHandle<T, E> {
    /// Whether the task awaiting this handle was cancelled while it awaited (and so cancelled the
    /// task it awaits, as asyncio does).
    pub(crate) fn awaiter_cancelled(&self) -> bool {
        self.cancelling
    }

    /// Polls for the result; a retrieved failure is reported to the host with `path`.
    pub(crate) fn poll_result(&mut self, cx: &mut Context<'_>, path: FailurePath) -> Poll<Result<T, E>> {
        assert!(!self.done, "JoinHandle polled after it returned");
        let Some(header) = self.header() else {
            // The task was dropped (deadline or hard stop) and its slot freed.
            self.done = true;
            return Poll::Ready(Err(E::from(Cancelled)));
        };
        if !self.cancelling && take_cancellation(cx) {
            self.cancelling = true;
            slots::request_cancel(self.exec.core(), header);
        }
        if header.state.get() == SlotState::Running {
            header.awaiter.set(Some(cx.waker().clone()));
            return Poll::Pending;
        }
        // SAFETY: the slot is Finished, so its storage holds this task's `Result<T, E>` (the
        // generation matches), written by `poll_future`; it is read exactly once, then the slot is
        // freed without dropping it again.
        let output = unsafe { core::ptr::read(self.exec.storage(self.index) as *const Result<T, E>) };
        if let Err(e) = &output {
            if let (false, Some(meta)) = (e.is_cancellation(), header.meta.get()) {
                crate::link::send_retrieved_failure(&meta, e, path);
            }
        }
        slots::free(self.exec, self.index);
        self.done = true;
        Poll::Ready(output)
    }
}

impl<T, E: Exception + From<Cancelled>> Future for JoinHandle<T, E> {
    type Output = Result<T, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.poll_result(cx, FailurePath::Awaited)
    }
}

impl<T, E> Drop for JoinHandle<T, E> {
    fn drop(&mut self) {
        if let Some(header) = self.header() {
            self.orphan(header);
        }
    }
}
