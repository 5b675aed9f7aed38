//! Firmware for the soak run: for a set time it raises failures nobody awaits as fast as a busy
//! firmware would (every [`PERIOD_US`] µs, in bursts), with log lines between them, then reports on
//! its standard output how many it raised and exits. `asyncmon-demo-firmware soak SECONDS`.

use asyncmon_agent::{link, sleep, yield_now, Cancelled, Exception, Executor};
use embassy_time::{Duration, Instant};

/// The time between two failures.
pub const PERIOD_US: u64 = 1_000;

static EXECUTOR: Executor<16, 512> = Executor::new();

/// The soak's failure.
#[derive(Debug)]
pub struct SoakError(pub u32);

impl core::fmt::Display for SoakError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "soak failure #{}", self.0)
    }
}

impl Exception for SoakError {
    fn is_cancellation(&self) -> bool {
        self.0 == u32::MAX
    }
}

impl From<Cancelled> for SoakError {
    fn from(_: Cancelled) -> Self {
        SoakError(u32::MAX)
    }
}

/// The line the firmware prints last: `soak: raised N failures`.
pub fn parse_report(line: &str) -> Option<u64> {
    line.strip_prefix("soak: raised ")?.strip_suffix(" failures")?.parse().ok()
}

/// Runs for `seconds`; returns the exit code.
pub fn run(seconds: u64) -> i32 {
    link::init("soak", "1");
    let end = Instant::now() + Duration::from_secs(seconds);
    let outcome = EXECUTOR.run(|spawner| async move {
        let mut raised = 0u32;
        while Instant::now() < end {
            sleep(Duration::from_micros(PERIOD_US)).await?;
            // A slot may be busy with the previous failure; that is a failure not raised.
            if spawner.spawn("worker", async move { Err::<(), SoakError>(SoakError(raised)) }).is_ok() {
                raised += 1;
            }
            if raised.is_multiple_of(100) {
                rtt_target::rprintln!("soak: {raised} failures so far");
            }
        }
        // The last worker runs (and fails) before main ends: at main's end, a task not yet started
        // is cancelled and never runs, as in asyncio.
        yield_now().await?;
        Ok::<u32, SoakError>(raised)
    });
    let raised = match outcome {
        Ok(Ok(n)) => n,
        _ => return 1,
    };
    link::drain(embassy_time::Duration::from_secs(2));
    println!("soak: raised {raised} failures");
    0
}
