//! What the observer costs embassy-executor per poll, in instructions (`valgrind --tool=callgrind`,
//! which machine noise does not move): the wake-and-poll ping-pong of the agent's executor
//! benchmark, on embassy-executor 0.10's spin platform, built without and with embassy's `trace`
//! feature (and so these hooks), fat LTO as firmware is built:
//!
//! ```sh
//! cargo build --profile bench -p asyncmon-embassy --example observer_instructions --features bench --target-dir target/observer-off
//! cargo build --profile bench -p asyncmon-embassy --example observer_instructions --features bench-trace --target-dir target/observer-on
//! for side in off on; do for n in 0 100000; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null target/observer-$side/release/examples/observer_instructions $n 2>&1 | grep refs
//! done; done
//! ```
//! Divide each side's difference by 100 000 (setup cancels out): instructions per round trip, two
//! polls each. On the host the observer's clock is `clock_gettime` (the simulated board's); on a
//! microcontroller it is a timer register read, so the host figure is an upper bound.

use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_sync::signal::Signal;
use std::sync::atomic::{AtomicBool, Ordering};

type Flag = Signal<NoopRawMutex, ()>;

fn leak_flag() -> &'static Flag {
    Box::leak(Box::new(Signal::new()))
}

#[embassy_executor::task]
async fn ponger(n: u64, ping: &'static Flag, pong: &'static Flag) {
    for _ in 0..n {
        ping.wait().await;
        pong.signal(());
    }
}

#[embassy_executor::task]
async fn pinger(n: u64, ping: &'static Flag, pong: &'static Flag, done: &'static AtomicBool) {
    for _ in 0..n {
        ping.signal(());
        pong.wait().await;
    }
    done.store(true, Ordering::Relaxed);
}

fn main() {
    let n: u64 =
        std::env::args().nth(1).and_then(|n| n.parse().ok()).expect("usage: observer_instructions N");
    // With the observer, its link exists as a firmware's would (frames go to its RTT buffer).
    #[cfg(feature = "bench-trace")]
    asyncmon_embassy::init("observer_instructions", "bench");
    let exec: &'static embassy_executor::raw::Executor =
        Box::leak(Box::new(embassy_executor::raw::Executor::new(core::ptr::null_mut())));
    let done: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let (ping, pong) = (leak_flag(), leak_flag());
    let spawner = exec.spawner();
    spawner.spawn(ponger(n, ping, pong).unwrap());
    spawner.spawn(pinger(n, ping, pong, done).unwrap());
    while !done.load(Ordering::Relaxed) {
        // SAFETY: polled from the one thread that owns the executor, never re-entrantly.
        unsafe { exec.poll() };
    }
}
