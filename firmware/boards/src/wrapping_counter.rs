//! A 32-bit hardware counter extended to 64 bits in software: the clock of boards whose only
//! counter wraps (in 71 minutes at 1 MHz). It must be read at least once per wrap: each board's
//! alarm never waits longer than that.

use core::cell::Cell;
use critical_section::{CriticalSection, Mutex};

/// The counter's last value seen and how many times it has wrapped.
pub(crate) struct WrappingCounter(Mutex<Cell<(u32, u32)>>);

impl WrappingCounter {
    pub(crate) const fn new() -> Self {
        WrappingCounter(Mutex::new(Cell::new((0, 0))))
    }

    /// The 64-bit time for the counter's value `count`, read just now.
    pub(crate) fn extend(&self, cs: CriticalSection<'_>, count: u32) -> u64 {
        let cell = self.0.borrow(cs);
        let (last, mut wraps) = cell.get();
        if count < last {
            wraps += 1;
        }
        cell.set((count, wraps));
        (u64::from(wraps) << 32) | u64::from(count)
    }
}
