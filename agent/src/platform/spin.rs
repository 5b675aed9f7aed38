//! The fallback platform with no sleep instruction: the executor spins.

pub(crate) fn epoch() -> u64 {
    0
}

/// Nothing to withdraw.
pub(crate) fn stay_awake() {}

pub(crate) fn signal() {}

pub(crate) fn wait(_seen: u64) {
    core::hint::spin_loop();
}
