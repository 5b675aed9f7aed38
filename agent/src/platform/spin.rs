//! The fallback platform with no sleep instruction: the executor spins.

/// Spins once.
pub(crate) fn sleep_unless(ready: impl Fn() -> bool) {
    if !ready() {
        core::hint::spin_loop();
    }
}

pub(crate) fn signal() {}
