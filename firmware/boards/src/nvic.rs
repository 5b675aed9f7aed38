//! Device interrupt lines of a Cortex-M board without a PAC: enough to unmask the alarm's.

use cortex_m::peripheral::NVIC;

use core::cell::Cell;
use cortex_m::interrupt::Mutex;

/// A handler for an interrupt line, once one is given.
type Handler = Cell<Option<fn()>>;

/// What the board's spare interrupt line runs (see [`crate::doorbell_interrupt`]).
static SPARE_HANDLER: Mutex<Handler> = Mutex::new(Cell::new(None));

/// Makes `line` run `handler` and unmasks it.
pub(crate) fn claim_spare(line: Irq, handler: fn()) {
    cortex_m::interrupt::free(|cs| SPARE_HANDLER.borrow(cs).set(Some(handler)));
    line.unmask();
}

/// Runs the spare line's handler, if `irqn` is that line and one was set.
pub(crate) fn on_spare(line: Irq, irqn: i16) {
    if line.is(irqn) {
        if let Some(handler) = cortex_m::interrupt::free(|cs| SPARE_HANDLER.borrow(cs).get()) {
            handler();
        }
    }
}

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
