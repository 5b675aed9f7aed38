//! The Cortex-M platform: WFE sleeps until an event; a wake sends one with SEV. An SEV that comes
//! before the WFE sets the event register, so the wake is never lost.

/// No counter is needed: the event register remembers a wake.
pub(crate) fn epoch() -> u64 {
    0
}

/// Wakes the core (callable from interrupts).
/// Nothing to withdraw.
pub(crate) fn stay_awake() {}

pub(crate) fn signal() {
    cortex_m::asm::sev();
}

/// Sleeps until an event or interrupt.
pub(crate) fn wait(_seen: u64) {
    cortex_m::asm::wfe();
}
