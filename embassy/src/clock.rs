//! The observer's clock: embassy-time's ticks (the firmware's own time driver), the low 32 bits in
//! the hooks that run every poll, converted to microseconds only when a sample is sent.

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
