//! A firmware with nothing to do: main waits an hour. With its doorbell on the board's serial port
//! (`start_board`), the core sleeps until the host rings or a timer is due, and never looks for
//! commands on its own. When a stop comes it says how many times its run loop went round — each
//! pass the core awake — which `demo/tests/qemu_idle.rs` checks.

#![no_std]
#![no_main]

use asyncmon_agent::{link, println, sleep, Cancelled, Executor, Spawner};
use asyncmon_qemu_boards as board;
use embassy_time::Duration;

static EXECUTOR: Executor<1, 64> = Executor::new();

defmt::timestamp!("{=u64:us}", embassy_time::Instant::now().as_micros());

async fn wait_an_hour(_: Spawner) -> Result<(), Cancelled> {
    println!("idle: waiting");
    sleep(Duration::from_secs(3600)).await?;
    Ok(())
}

/// Starts the board and its doorbell, waits; QEMU exits with 130 after a stop.
#[cfg_attr(target_arch = "arm", cortex_m_rt::entry)]
#[cfg_attr(target_arch = "riscv32", riscv_rt::entry)]
fn main() -> ! {
    asyncmon_demo_board::start_board();
    link::init("idle", env!("CARGO_PKG_VERSION"));
    let code = match EXECUTOR.run(wait_an_hour) {
        Ok(_) => 0,
        Err(_) => asyncmon_agent::KEYBOARD_INTERRUPT_EXIT_CODE,
    };
    println!("idle: the run loop went round {} times", EXECUTOR.loop_passes());
    link::drain(Duration::from_millis(500));
    board::exit(code)
}
