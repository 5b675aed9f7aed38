//! Task signals and wakers. A wake sets the task's ready flag, puts a task on the executor's ready
//! queue and signals the platform; it is safe from any thread or interrupt, touching only atomics
//! and the platform's signal.
//!
//! The signal also carries the task's cancellation state, so that the agent's awaitables can find
//! out through the `Waker` in their `Context` whether the task polling them has been cancelled
//! (see [`take_cancellation`]).

use super::ready_queue::{QueueLink, ReadyQueue};
use core::task::{Context, RawWaker, RawWakerVTable, Waker};
use portable_atomic::{AtomicBool, AtomicPtr, AtomicU8, Ordering};

const NOT_CANCELLED: u8 = 0;
const CANCEL_REQUESTED: u8 = 1;
const CANCEL_DELIVERED: u8 = 2;

/// A task's ready flag and cancellation state. All zeros to start with, like the executor it is in.
/// `link` comes first: a link taken off the ready queue is its signal's address.
#[repr(C)]
pub(crate) struct TaskSignal {
    link: QueueLink,
    /// Woken and not yet looked at: for a slot's task, on the ready queue.
    queued: AtomicBool,
    cancel: AtomicU8,
    /// A cancellation for the future a [`crate::wait_for`] polls after its timeout, not for the
    /// task: set around that poll only.
    scoped: AtomicBool,
    /// The ready queue a wake puts this signal on; bound when a task is first spawned into the slot.
    /// Null for main and the control channel, which the run loop looks at on every pass.
    queue: AtomicPtr<ReadyQueue>,
}

impl TaskSignal {
    pub const fn new() -> Self {
        TaskSignal {
            link: QueueLink::new(),
            queued: AtomicBool::new(false),
            cancel: AtomicU8::new(NOT_CANCELLED),
            scoped: AtomicBool::new(false),
            queue: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// The signal whose link `link` is (taken off a ready queue, where only signals' links go).
    pub fn of_link(link: &'static QueueLink) -> &'static TaskSignal {
        // SAFETY: `link` is the first field of a `repr(C)` `TaskSignal` (only `set` pushes links,
        // and only its own), so the two share an address; signals are `'static`.
        unsafe { &*(link as *const QueueLink as *const TaskSignal) }
    }

    /// The ready queue this signal is bound to: only a task slot's signal is (see `bind`).
    pub fn bound_queue(&self) -> Option<&'static ReadyQueue> {
        // SAFETY: `queue` is null or a `&'static ReadyQueue` (see `bind`).
        unsafe { self.queue.load(Ordering::Acquire).as_ref() }
    }

    /// From now on, a wake puts this signal on `queue`.
    pub fn bind(&self, queue: &'static ReadyQueue) {
        self.queue.store(queue as *const ReadyQueue as *mut ReadyQueue, Ordering::Release);
    }

    /// Marks the task ready and wakes the executor. A task already marked is left as it is: the
    /// executor has yet to look at it.
    pub fn set(&'static self) {
        if self.queued.swap(true, Ordering::SeqCst) {
            return;
        }
        // SAFETY: `queue` is null or a `&'static ReadyQueue` (see `bind`).
        if let Some(queue) = unsafe { self.queue.load(Ordering::Acquire).as_ref() } {
            queue.push(&self.link);
        }
        crate::platform::signal();
    }

    /// Returns whether the task was ready, and clears the flag (for main and the control channel,
    /// which are not queued). Clearing before polling means a wake that happens during the poll is
    /// kept for the next round.
    pub fn take(&self) -> bool {
        if self.queued.load(Ordering::SeqCst) {
            self.queued.store(false, Ordering::SeqCst);
            true
        } else {
            false
        }
    }

    /// The ready queue has handed this signal to the executor, which is about to look at its task:
    /// a wake from now on queues it again.
    pub fn dequeued(&self) {
        self.queued.store(false, Ordering::SeqCst);
    }

    /// Whether the flag is set (without clearing it).
    pub fn is_set(&self) -> bool {
        self.queued.load(Ordering::SeqCst)
    }

    /// Asks the task to cancel and wakes it; returns `false` if it was already asked.
    pub fn request_cancel(&'static self) -> bool {
        if self.cancel.load(Ordering::SeqCst) != NOT_CANCELLED {
            return false;
        }
        self.cancel.store(CANCEL_REQUESTED, Ordering::SeqCst);
        self.set();
        true
    }

    /// Whether the task has been asked to cancel (delivered or not).
    pub fn cancel_requested(&self) -> bool {
        self.cancel.load(Ordering::SeqCst) != NOT_CANCELLED
    }

    /// Delivers a pending cancellation once: `true` the first time it is asked after a request.
    pub fn deliver_cancel(&self) -> bool {
        if self.cancel.load(Ordering::SeqCst) == CANCEL_REQUESTED {
            self.cancel.store(CANCEL_DELIVERED, Ordering::SeqCst);
            true
        } else {
            false
        }
    }

    /// Back to a fresh cancellation state, for a reused slot. The ready flag is left alone: a
    /// signal still on the ready queue must stay marked until the executor takes it off.
    pub fn reset(&self) {
        self.cancel.store(NOT_CANCELLED, Ordering::SeqCst);
        self.scoped.store(false, Ordering::SeqCst);
    }

    /// Offers a scoped cancellation to the next awaitable that asks (see `scoped`).
    pub fn offer_scoped(&self) {
        self.scoped.store(true, Ordering::SeqCst);
    }

    /// Takes the scoped cancellation back; `true` if no awaitable took it.
    pub fn withdraw_scoped(&self) -> bool {
        self.scoped.swap(false, Ordering::SeqCst)
    }

    /// A waker for this signal. The signal must live for the rest of the program (it is inside a
    /// `static` executor), which `'static` guarantees.
    pub fn waker(&'static self) -> Waker {
        let raw = RawWaker::new(self as *const TaskSignal as *const (), &VTABLE);
        // SAFETY: the data pointer is a `&'static TaskSignal`, valid forever; every vtable function
        // treats it as exactly that and TaskSignal is Sync (atomics only), so the contract of
        // `RawWaker` (thread-safe, clone/wake/drop consistent) holds.
        unsafe { Waker::from_raw(raw) }
    }
}

/// Delivers the cancellation of the task that is polling with `cx`, once: returns `true` the first
/// time an awaitable asks after the task was cancelled (or while a `wait_for` that timed out offers
/// one to the future it cancels), so that awaitable returns `Cancelled` and
/// later awaits (the task's async cleanup) run normally. Always `false` outside an asyncmon task
/// (or under a combinator that replaces the waker).
pub(crate) fn take_cancellation(cx: &Context<'_>) -> bool {
    signal_of(cx).is_some_and(|signal| signal.withdraw_scoped() || signal.deliver_cancel())
}

/// The signal of the asyncmon task polling with `cx`, if it is one.
pub(crate) fn signal_of(cx: &Context<'_>) -> Option<&'static TaskSignal> {
    let waker = cx.waker();
    core::ptr::eq(waker.vtable(), &VTABLE).then(|| signal(waker.data()))
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop);

fn signal(data: *const ()) -> &'static TaskSignal {
    // SAFETY: every RawWaker built with VTABLE carries a pointer to a `'static TaskSignal`.
    unsafe { &*(data as *const TaskSignal) }
}

fn clone(data: *const ()) -> RawWaker {
    RawWaker::new(data, &VTABLE)
}

fn wake(data: *const ()) {
    signal(data).set();
}

fn drop(_: *const ()) {}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::boxed::Box;
    use std::vec::Vec;

    #[test]
    fn a_task_woken_often_before_the_executor_looks_is_queued_once_and_again_after() {
        let queue: &'static ReadyQueue = Box::leak(Box::new(ReadyQueue::new()));
        let signals: Vec<&'static TaskSignal> =
            (0..3).map(|_| &*Box::leak(Box::new(TaskSignal::new()))).collect();
        signals.iter().for_each(|s| s.bind(queue));
        let taken = || -> Vec<usize> {
            queue
                .take_all()
                .map(|link| {
                    let signal = TaskSignal::of_link(link);
                    signal.dequeued();
                    signals.iter().position(|s| core::ptr::eq(*s, signal)).unwrap()
                })
                .collect()
        };
        signals[2].set();
        signals[0].set();
        signals[2].set();
        assert_eq!(taken(), [2, 0]);
        signals[2].set();
        assert_eq!(taken(), [2]);
        assert!(taken().is_empty());
    }
}
