//! The Cortex-M platform (single core): the executor sleeps with `wfi` while interrupts are masked
//! by PRIMASK — mask, look for ready work, `wfi`, unmask. A pending interrupt wakes `wfi` even while
//! masked, and its handler runs as soon as the mask is lifted, so a wake that comes after the look
//! is never lost. (`wfe` would be the other choice, but it is a mere yield under QEMU, where an idle
//! firmware would then burn a host core.) Every wake on a single core comes from an interrupt
//! handler or from the executor itself, so a wake needs no `sev`.

/// Sleeps until an interrupt is pending, unless `ready()` says there is work.
pub(crate) fn sleep_unless(ready: impl Fn() -> bool) {
    cortex_m::interrupt::free(|_| {
        if !ready() {
            cortex_m::asm::wfi();
        }
    });
}

/// Nothing to do: the interrupt that made the wake also ends the `wfi`.
pub(crate) fn signal() {}
