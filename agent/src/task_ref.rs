//! [`TaskRef`]: a small `Copy` reference to a task, beside its unique [`crate::JoinHandle`], so
//! that any task — the task itself included — can cancel it or ask whether it is done while
//! someone else awaits it (asyncio's `task.cancel()` from anywhere, tokio's `AbortHandle`); and
//! [`current_task`].

use crate::exception::TaskMeta;
use crate::raw::header::{SlotState, TaskHeader};
use crate::raw::signal::{signal_of, TaskSignal};
use crate::raw::{slots, ExecutorCore};
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};

/// A reference to one task: it stays valid after the task ended (it then says so, and cancels
/// nothing), whatever task its slot holds next.
#[derive(Clone, Copy)]
pub struct TaskRef {
    core: &'static ExecutorCore,
    header: &'static TaskHeader,
    generation: u32,
    /// Stays on the executor's thread (`!Send`), as the handle does.
    _local: PhantomData<*const ()>,
}

impl TaskRef {
    pub(crate) fn new(core: &'static ExecutorCore, header: &'static TaskHeader, generation: u32) -> Self {
        TaskRef { core, header, generation, _local: PhantomData }
    }

    /// The reference to the task whose signal `signal` is, if it is a task slot's (main's is not).
    fn of_signal(signal: &'static TaskSignal) -> Option<TaskRef> {
        let queue = signal.bound_queue()?;
        let core = queue as *const _ as *const u8;
        // SAFETY: only a slot's signal is bound to a queue, and only to its executor's `ready`
        // (`RawExecutor::claim_slot`), so stepping back by `ready`'s offset gives that executor's
        // `'static` core; a slot's signal is the first field of its `repr(C)` `TaskHeader`, so the
        // two share an address, and headers are `'static`.
        let (core, header) = unsafe {
            let core =
                &*(core.wrapping_sub(core::mem::offset_of!(ExecutorCore, ready)) as *const ExecutorCore);
            (core, &*(signal as *const TaskSignal as *const TaskHeader))
        };
        Some(TaskRef::new(core, header, header.generation.get()))
    }

    /// The slot's header, while it still holds this task.
    fn live(&self) -> Option<&'static TaskHeader> {
        let header = self.header;
        (header.generation.get() == self.generation && header.state.get() != SlotState::Free)
            .then_some(header)
    }

    /// Asks the task to cancel, as [`crate::JoinHandle::cancel`] does; returns whether it asked
    /// (`false` once the task is done or was asked already). A task may cancel itself: it ends
    /// cancelled, at its next agent awaitable or when it returns.
    pub fn cancel(&self) -> bool {
        self.live().is_some_and(|header| slots::request_cancel(self.core, header))
    }

    /// Whether the task is done: finished, cancelled or dropped.
    pub fn done(&self) -> bool {
        self.live().is_none_or(|header| header.state.get() != SlotState::Running)
    }

    /// The task's id and name, while it is tracked.
    pub fn task(&self) -> Option<TaskMeta> {
        self.live().and_then(|header| header.meta.get())
    }
}

/// The task that awaits this (asyncio's `current_task()`); `None` in main, and outside an agent
/// task (under a combinator that replaces the waker).
pub fn current_task() -> CurrentTask {
    CurrentTask
}

/// The future of [`current_task`]: ready at once.
#[must_use = "futures do nothing unless awaited"]
pub struct CurrentTask;

impl Future for CurrentTask {
    type Output = Option<TaskRef>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(signal_of(cx).and_then(TaskRef::of_signal))
    }
}
