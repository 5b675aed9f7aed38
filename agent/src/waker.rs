//! Task signals and wakers. A wake sets the task's ready flag and signals the platform; it is safe
//! from any thread or interrupt, touching only atomics and the platform's signal.
//!
//! The signal also carries the task's cancellation state, so that the agent's awaitables can find
//! out through the `Waker` in their `Context` whether the task polling them has been cancelled
//! (see [`take_cancellation`]).

use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use core::task::{Context, RawWaker, RawWakerVTable, Waker};

const NOT_CANCELLED: u8 = 0;
const CANCEL_REQUESTED: u8 = 1;
const CANCEL_DELIVERED: u8 = 2;

/// A task's ready flag and cancellation state.
pub(crate) struct TaskSignal {
    ready: AtomicBool,
    cancel: AtomicU8,
}

impl TaskSignal {
    pub const fn new() -> Self {
        TaskSignal { ready: AtomicBool::new(false), cancel: AtomicU8::new(NOT_CANCELLED) }
    }

    /// Marks the task ready and wakes the executor.
    pub fn set(&self) {
        self.ready.store(true, Ordering::SeqCst);
        crate::platform::signal();
    }

    /// Returns whether the task was ready, and clears the flag. Clearing before polling means a
    /// wake that happens during the poll is kept for the next round.
    pub fn take(&self) -> bool {
        if self.ready.load(Ordering::SeqCst) {
            self.ready.store(false, Ordering::SeqCst);
            true
        } else {
            false
        }
    }

    /// Whether the flag is set (without clearing it).
    pub fn is_set(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// Asks the task to cancel and wakes it; returns `false` if it was already asked.
    pub fn request_cancel(&self) -> bool {
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

    /// Back to a fresh state, for a reused slot.
    pub fn reset(&self) {
        self.ready.store(false, Ordering::SeqCst);
        self.cancel.store(NOT_CANCELLED, Ordering::SeqCst);
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
/// time an awaitable asks after the task was cancelled, so that awaitable returns `Cancelled` and
/// later awaits (the task's async cleanup) run normally. Always `false` outside an asyncmon task
/// (or under a combinator that replaces the waker).
pub(crate) fn take_cancellation(cx: &Context<'_>) -> bool {
    signal_of(cx).is_some_and(TaskSignal::deliver_cancel)
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
