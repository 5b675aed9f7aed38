//! Wakers: a wake sets the task's ready flag and signals the platform. Safe from any thread or
//! interrupt: it touches only an atomic flag and the platform's signal.

use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{RawWaker, RawWakerVTable, Waker};

/// A ready flag that a waker sets and the executor clears before polling.
pub(crate) struct WakeFlag {
    ready: AtomicBool,
}

impl WakeFlag {
    pub const fn new() -> Self {
        WakeFlag { ready: AtomicBool::new(false) }
    }

    /// Marks the task ready and wakes the executor.
    pub fn set(&self) {
        self.ready.store(true, Ordering::Release);
        crate::platform::signal();
    }

    /// Returns whether the task was ready, and clears the flag. Clearing before polling means a
    /// wake that happens during the poll is kept for the next round.
    pub fn take(&self) -> bool {
        if self.ready.load(Ordering::Acquire) {
            self.ready.store(false, Ordering::Release);
            true
        } else {
            false
        }
    }

    /// Whether the flag is set (without clearing it).
    pub fn is_set(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// A waker for this flag. The flag must live for the rest of the program (it is inside a
    /// `static` executor), which `'static` guarantees.
    pub fn waker(&'static self) -> Waker {
        let raw = RawWaker::new(self as *const WakeFlag as *const (), &VTABLE);
        // SAFETY: the data pointer is a `&'static WakeFlag`, valid forever; every vtable function
        // treats it as exactly that and WakeFlag is Sync (an atomic), so the contract of
        // `RawWaker` (thread-safe, clone/wake/drop consistent) holds.
        unsafe { Waker::from_raw(raw) }
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop);

fn flag(data: *const ()) -> &'static WakeFlag {
    // SAFETY: every RawWaker built with VTABLE carries a pointer to a `'static WakeFlag`.
    unsafe { &*(data as *const WakeFlag) }
}

fn clone(data: *const ()) -> RawWaker {
    RawWaker::new(data, &VTABLE)
}

fn wake(data: *const ()) {
    flag(data).set();
}

fn drop(_: *const ()) {}
