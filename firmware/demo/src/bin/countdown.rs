//! A firmware that runs to completion: main counts down three ticks and returns, and the board
//! exits with 0 — what a test firmware does, and what `asyncmon run` as cargo's runner turns into
//! `cargo run`'s exit code. Its entry point is `#[asyncmon_agent::main]`'s, so the QEMU tests that
//! run it (`tui/tests/runner.rs`) run the macro's code on a core.

#![no_std]
#![no_main]

use asyncmon_agent::{sleep, Cancelled, Spawner};
use asyncmon_qemu_boards as board;
use embassy_time::Duration;

defmt::timestamp!("{=u64:us}", embassy_time::Instant::now().as_micros());

/// Starts the board, runs main; the board exits with 0 when it returns, 130 after a stop.
#[asyncmon_agent::main(tasks = 1, slot_bytes = 64, name = "countdown", init = board::init, then = board::exit)]
async fn countdown(_: Spawner) -> Result<(), Cancelled> {
    for left in (1..=3u32).rev() {
        defmt::info!("countdown: {=u32}", left);
        sleep(Duration::from_millis(100)).await?;
    }
    defmt::info!("countdown: done");
    Ok(())
}
