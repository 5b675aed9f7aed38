//! Instruction counts on QEMU's boards. Under `-icount shift=0` QEMU's virtual clock advances one
//! nanosecond per guest instruction, and the boards' clocks follow it (see the time drivers), so
//! a clock read around a piece of work counts its instructions. [`per_round`] times `n` and `2n`
//! rounds and keeps the difference, so the fixed costs around them (the clock reads, the loop's
//! setup) cancel: the figure is the instructions one more round costs.

use core::future::Future;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::signal::Signal;
use embassy_time_driver::{now, TICK_HZ};

/// Rounds per measurement (and twice as many): enough that a clock tick is a rounding error.
/// `ASYNCMON_COST_ROUNDS=N` at build time takes another number: a few hundred keep an instruction
/// trace (`-d exec`) small enough to attribute the cost to functions.
pub const ROUNDS: u32 = match option_env!("ASYNCMON_COST_ROUNDS") {
    Some(rounds) => parse(rounds),
    None => 20_000,
};

/// A decimal number, at compile time.
const fn parse(digits: &str) -> u32 {
    let bytes = digits.as_bytes();
    let mut value = 0u32;
    let mut i = 0;
    while i < bytes.len() {
        assert!(bytes[i].is_ascii_digit(), "ASYNCMON_COST_ROUNDS is a number of rounds");
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    value
}

/// Which of a firmware's measurements run: every one, or only the one `ASYNCMON_COST_ONLY` names
/// at build time (`ping-pong`, `ping-pong-read` or `spawn`), so that an instruction trace holds one
/// kind of round.
pub fn measures(what: &str) -> bool {
    option_env!("ASYNCMON_COST_ONLY").is_none_or(|only| only == what)
}

/// Said by the task a spawn round spawns, when it runs.
static CHILD_RAN: Signal<CriticalSectionRawMutex, ()> = Signal::new();

/// What the task of a spawn round does on embassy: says it ran, and ends (its storage is free
/// again for the next round's spawn).
pub fn child_ran() {
    CHILD_RAN.signal(());
}

/// Waits until this spawn round's task ran.
pub async fn child_finished() {
    CHILD_RAN.wait().await;
}

/// Handed to the ponger each round.
static PING: Signal<CriticalSectionRawMutex, ()> = Signal::new();
/// Handed back.
static PONG: Signal<CriticalSectionRawMutex, ()> = Signal::new();

/// `n` ping-pong rounds with [`pong_forever`] in another task: 2 wakes and 2 polls a round, the
/// same rounds whichever executor runs them.
pub async fn ping_pong_rounds(n: u32) {
    for _ in 0..n {
        PING.signal(());
        PONG.wait().await;
    }
}

/// [`ping_pong_rounds`], with `host_reads` after each round: it marks an RTT buffer read, as a host
/// that keeps up does (on a board a probe reads it without the core; here the core does, and the
/// figures that need a reading host subtract what that costs, or compare two firmwares that both
/// pay it).
pub async fn ping_pong_rounds_read(n: u32, host_reads: fn()) {
    for _ in 0..n {
        ping_pong_rounds(1).await;
        host_reads();
    }
}

/// The other side of [`ping_pong_rounds`], run as a task of its own.
pub async fn pong_forever() -> ! {
    loop {
        PING.wait().await;
        PONG.signal(());
    }
}

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
