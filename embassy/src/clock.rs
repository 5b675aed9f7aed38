//! The observer's clock: embassy-time's ticks (the firmware's own time driver), the low 32 bits in
//! the hooks that run every poll, converted to microseconds only when a sample is sent.

use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// A time or a span, in the time driver's ticks, modulo 2³².
pub type Ticks = u32;

/// The time now (one read of the firmware's time driver).
#[inline(always)]
pub fn now() -> Ticks {
    embassy_time::Instant::now().as_ticks() as Ticks
}

/// The time now, all 64 bits (for spans that may outlast a wrap: since the executor started).
pub fn now_wide() -> u64 {
    embassy_time::Instant::now().as_ticks()
}

/// `ticks` in microseconds.
pub fn micros(ticks: u64) -> u64 {
    embassy_time::Duration::from_ticks(ticks).as_micros()
}

/// `duration` in ticks, as a span the hooks compare with.
pub const fn ticks(duration: embassy_time::Duration) -> Ticks {
    let ticks = duration.as_ticks();
    if ticks > Ticks::MAX as u64 {
        Ticks::MAX
    } else {
        ticks as Ticks
    }
}

/// A 64-bit tick count in two words, for one writer (a task's executor): plain loads and stores
/// where a 64-bit atomic would take a critical section on the M0 and a retry loop on the M4.
pub struct Wide {
    low: AtomicU32,
    high: AtomicU32,
}

impl Wide {
    /// Zero.
    pub const fn new() -> Wide {
        Wide { low: AtomicU32::new(0), high: AtomicU32::new(0) }
    }

    /// The count (read by its writer, or where a torn read between the words only costs one
    /// sample's accuracy).
    pub fn get(&self) -> u64 {
        u64::from(self.high.load(Relaxed)) << 32 | u64::from(self.low.load(Relaxed))
    }

    /// Sets the count.
    pub fn set(&self, value: u64) {
        self.low.store(value as u32, Relaxed);
        self.high.store((value >> 32) as u32, Relaxed);
    }

    /// Adds a span: the high word is written only on a carry (the hooks of every poll add).
    #[inline(always)]
    pub fn add(&self, span: Ticks) {
        let (low, carry) = self.low.load(Relaxed).overflowing_add(span);
        self.low.store(low, Relaxed);
        if carry {
            self.high.store(self.high.load(Relaxed).wrapping_add(1), Relaxed);
        }
    }
}
