//! The RISC-V platform (single hart): the executor sleeps with `wfi` while machine interrupts are
//! masked (`mstatus.MIE` clear) — mask, look for ready work, `wfi`, unmask. `wfi` wakes on a pending
//! interrupt that `mie` enables whatever `MIE` says, and its handler runs once the mask is lifted,
//! so a wake after the look is never lost. Every wake on one hart comes from an interrupt handler
//! or from the executor itself, so a wake needs nothing more.

/// Sleeps until an interrupt is pending, unless `ready()` says there is work.
pub(crate) fn sleep_unless(ready: impl Fn() -> bool) {
    riscv::interrupt::free(|| {
        if !ready() {
            riscv::asm::wfi();
        }
    });
}

/// Nothing to do: the interrupt that made the wake also ends the `wfi`.
pub(crate) fn signal() {}
