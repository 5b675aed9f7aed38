//! Device interrupt lines of a Cortex-M board without a PAC: enough to unmask the alarm's and the
//! serial port's.

use cortex_m::peripheral::NVIC;

/// An interrupt line of the board's NVIC.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Irq(pub u16);

// SAFETY: boards only name lines their NVIC has (both QEMU models have 32).
unsafe impl cortex_m::interrupt::InterruptNumber for Irq {
    fn number(self) -> u16 {
        self.0
    }
}

impl Irq {
    /// Unmasks the line, at start-up, before the executor runs.
    pub(crate) fn unmask(self) {
        // SAFETY: the boards' alarm handlers only take the time driver's critical section, and
        // they are unmasked at start-up, inside no critical section.
        unsafe { NVIC::unmask(self) };
    }

    /// Whether `irqn`, as cortex-m-rt's `DefaultHandler` gets it, is this line.
    pub(crate) fn is(self, irqn: i16) -> bool {
        irqn == self.0 as i16
    }
}
