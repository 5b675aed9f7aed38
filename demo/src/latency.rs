//! Firmware for the latency benchmark: every [`PERIOD_MS`] a task fails with nobody awaiting it,
//! and its message carries the wall-clock time of the raise (`raised at unix_ns=N`), so a client on
//! the same machine can measure how long the failure took to reach it.

use asyncmon_agent::{link, sleep, Cancelled, Exception, Executor, KEYBOARD_INTERRUPT_EXIT_CODE};
use embassy_time::Duration;

/// How often a failure is raised.
pub const PERIOD_MS: u64 = 20;

static EXECUTOR: Executor<4, 512> = Executor::new();

/// A failure that says when it was raised.
#[derive(Debug)]
pub struct Stamped(pub u128);

impl core::fmt::Display for Stamped {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "raised at unix_ns={}", self.0)
    }
}

impl Exception for Stamped {
    fn is_cancellation(&self) -> bool {
        self.0 == 0
    }
}

impl From<Cancelled> for Stamped {
    fn from(_: Cancelled) -> Self {
        Stamped(0)
    }
}

fn now_ns() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// Parses the raise time back out of a failure message.
pub fn raised_at_ns(message: &str) -> Option<u128> {
    message.strip_prefix("raised at unix_ns=")?.parse().ok()
}

/// Runs until stopped; returns the exit code.
pub fn run() -> i32 {
    link::init("latency", "1");
    let outcome = EXECUTOR.run(|spawner| async move {
        loop {
            sleep(Duration::from_millis(PERIOD_MS)).await?;
            drop(spawner.spawn("stamped", async { Err::<(), Stamped>(Stamped(now_ns())) }));
        }
        #[allow(unreachable_code)]
        Ok::<(), Cancelled>(())
    });
    link::drain(embassy_time::Duration::from_millis(500));
    if outcome.is_err() {
        KEYBOARD_INTERRUPT_EXIT_CODE
    } else {
        0
    }
}
