//! The host-process platform: the executor thread sleeps on a condition variable.
//!
//! A wake bumps a counter and notifies every sleeper; a sleeper returns as soon as the counter
//! differs from the value it read before deciding to sleep, so no wake is lost, even with several
//! executors in one process (tests).

use std::sync::{Condvar, Mutex};

static WAKES: Mutex<u64> = Mutex::new(0);
static WAKE: Condvar = Condvar::new();

/// The wake counter; read it before checking for ready work, then pass it to [`wait`].
pub(crate) fn epoch() -> u64 {
    *WAKES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Wakes the executor thread (callable from any thread).
pub(crate) fn signal() {
    let mut wakes = WAKES.lock().unwrap_or_else(|e| e.into_inner());
    *wakes = wakes.wrapping_add(1);
    WAKE.notify_all();
}

/// Sleeps until [`signal`] was called after [`epoch`] returned `seen`.
pub(crate) fn wait(seen: u64) {
    let mut wakes = WAKES.lock().unwrap_or_else(|e| e.into_inner());
    while *wakes == seen {
        wakes = WAKE.wait(wakes).unwrap_or_else(|e| e.into_inner());
    }
}
