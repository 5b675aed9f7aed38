//! The host-process platform: the executor thread sleeps on a condition variable.
//!
//! A wake costs two atomic operations while the executor is awake; only when an executor has said
//! it is about to sleep does a wake take the lock and notify. The sleeper announces itself before
//! it looks for ready work, and a waker sets the ready flag before it looks for sleepers (both
//! sequentially consistent), so one of the two always sees the other: no wake is lost, even with
//! several executors in one process (tests).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

static SLEEPERS: AtomicUsize = AtomicUsize::new(0);
/// Counts wakes; changed only with `LOCK` held, so a sleeper cannot miss the notification.
static WAKES: AtomicU64 = AtomicU64::new(0);
static LOCK: Mutex<()> = Mutex::new(());
static WAKE: Condvar = Condvar::new();

/// Sleeps until [`signal`], unless `ready()` says there is work: the sleeper announces itself
/// before it looks, so a wake after the look is seen.
pub(crate) fn sleep_unless(ready: impl Fn() -> bool) {
    let seen = epoch();
    if ready() {
        stay_awake();
    } else {
        wait(seen);
    }
}

/// Announces that the caller may sleep; returns the wake counter to pass to [`wait`]. Call it
/// before checking for ready work, and always follow it with [`wait`] or [`stay_awake`].
fn epoch() -> u64 {
    SLEEPERS.fetch_add(1, Ordering::SeqCst);
    WAKES.load(Ordering::SeqCst)
}

/// Withdraws the announcement made by [`epoch`]: there was work after all.
fn stay_awake() {
    SLEEPERS.fetch_sub(1, Ordering::SeqCst);
}

/// Wakes the executor thread (callable from any thread).
#[inline]
pub(crate) fn signal() {
    if SLEEPERS.load(Ordering::SeqCst) == 0 {
        return;
    }
    let _lock = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    WAKES.fetch_add(1, Ordering::SeqCst);
    WAKE.notify_all();
}

/// Sleeps until [`signal`] was called after [`epoch`] returned `seen`.
fn wait(seen: u64) {
    let mut lock = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    while WAKES.load(Ordering::SeqCst) == seen {
        lock = WAKE.wait(lock).unwrap_or_else(|e| e.into_inner());
    }
    drop(lock);
    SLEEPERS.fetch_sub(1, Ordering::SeqCst);
}
