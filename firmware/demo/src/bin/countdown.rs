//! A firmware that runs to completion: main counts down three ticks and returns, and the board
//! exits with 0 — what a test firmware does, and what `asyncmon run` as cargo's runner turns into
//! `cargo run`'s exit code.

#![no_std]
#![no_main]

use asyncmon_agent::{link, sleep, Cancelled, Executor, Spawner};
use asyncmon_qemu_boards as board;
use embassy_time::Duration;

static EXECUTOR: Executor<1, 64> = Executor::new();

defmt::timestamp!("{=u64:us}", embassy_time::Instant::now().as_micros());

async fn countdown(_: Spawner) -> Result<(), Cancelled> {
    for left in (1..=3u32).rev() {
        defmt::info!("countdown: {=u32}", left);
        sleep(Duration::from_millis(100)).await?;
    }
    defmt::info!("countdown: done");
    Ok(())
}

/// Starts the board and runs main; the board exits with 0 when it returns, 130 after a stop.
#[cfg_attr(target_arch = "arm", cortex_m_rt::entry)]
#[cfg_attr(target_arch = "riscv32", riscv_rt::entry)]
fn main() -> ! {
    board::init();
    link::init("countdown", env!("CARGO_PKG_VERSION"));
    let code = match EXECUTOR.run(countdown) {
        Ok(_) => 0,
        Err(_) => asyncmon_agent::KEYBOARD_INTERRUPT_EXIT_CODE,
    };
    link::drain(Duration::from_millis(500));
    board::exit(code)
}
