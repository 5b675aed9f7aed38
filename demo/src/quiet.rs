//! The quietest firmware: one task that ticks (sleeps 5 ms, again and again) and nothing else — no
//! cancellation, no failure, nothing the host asks — so that nothing but the tick ever brings the
//! executor round. What it shows is what the agent does on its own: poll statistics sampled for a
//! running task, with a doorbell and nothing else to do.

use asyncmon_agent::{link, sleep, Cancelled, Executor, Spawner, KEYBOARD_INTERRUPT_EXIT_CODE};
use embassy_time::Duration;

static EXECUTOR: Executor<2, 512> = Executor::new();

/// How often the ticker ticks.
pub const TICK_MS: u64 = 5;

async fn ticker() -> Result<(), Cancelled> {
    loop {
        sleep(Duration::from_millis(TICK_MS)).await?;
    }
}

async fn main_task(spawner: Spawner) -> Result<(), Cancelled> {
    let ticker = spawner.spawn("ticker", ticker()).expect("a slot for the ticker");
    ticker.await
}

/// Runs the quiet firmware until a stop; returns the exit code (130 after it).
pub fn run() -> i32 {
    link::init("asyncmon-quiet", env!("CARGO_PKG_VERSION"));
    let code = match EXECUTOR.run(main_task) {
        Ok(_) => 0,
        Err(_) => KEYBOARD_INTERRUPT_EXIT_CODE,
    };
    link::drain(Duration::from_millis(500));
    code
}
