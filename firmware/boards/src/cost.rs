//! Instruction counts on QEMU's boards. Under `-icount shift=0` QEMU's virtual clock advances one
//! nanosecond per guest instruction, and the boards' clocks follow it (see the time drivers), so
//! a clock read around a piece of work counts its instructions. [`per_round`] times `n` and `2n`
//! rounds and keeps the difference, so the fixed costs around them (the clock reads, the loop's
//! setup) cancel: the figure is the instructions one more round costs.

use core::future::Future;
use embassy_time_driver::{now, TICK_HZ};

/// Instructions per round, in hundredths (`12345` is 123.45): `rounds(k)` runs `k` rounds.
pub async fn per_round<F, R>(n: u32, mut rounds: F) -> u64
where
    F: FnMut(u32) -> R,
    R: Future<Output = ()>,
{
    let start = now();
    rounds(n).await;
    let once = now();
    rounds(2 * n).await;
    let twice = now();
    let extra_ticks = (twice - once).saturating_sub(once - start);
    // Nanoseconds of virtual time are instructions.
    let extra_ns = extra_ticks * (1_000_000_000 / TICK_HZ);
    extra_ns * 100 / u64::from(n.max(1))
}

/// Prints `what: X.XX instructions per round` on the host's stdout (semihosting), where a script
/// running QEMU reads it.
pub fn report(what: &str, hundredths: u64) {
    semihosting::println!("{what}: {}.{:02} instructions per round", hundredths / 100, hundredths % 100);
}
