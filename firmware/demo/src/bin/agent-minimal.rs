//! The smallest useful agent firmware, beside embassy's (`embassy-peer`): main sleeps and logs,
//! with the agent's link, exception routing and stop handling linked in.

#![no_std]
#![no_main]

use asyncmon_agent::{link, sleep, Cancelled, Executor, Spawner};
use asyncmon_qemu_boards as board;
use embassy_time::Duration;

static EXECUTOR: Executor<1, 64> = Executor::new();

defmt::timestamp!("{=u64:us}", embassy_time::Instant::now().as_micros());

async fn ticks(_: Spawner) -> Result<(), Cancelled> {
    for tick in 0u32.. {
        sleep(Duration::from_millis(100)).await?;
        defmt::info!("tick {=u32}", tick);
    }
    Ok(())
}

/// Starts the board and runs main; QEMU exits with 130 after a stop.
#[cfg_attr(target_arch = "arm", cortex_m_rt::entry)]
#[cfg_attr(target_arch = "riscv32", riscv_rt::entry)]
fn main() -> ! {
    board::init();
    link::init("agent-minimal", env!("CARGO_PKG_VERSION"));
    let code = match EXECUTOR.run(ticks) {
        Ok(_) => 0,
        Err(_) => asyncmon_agent::KEYBOARD_INTERRUPT_EXIT_CODE,
    };
    link::drain(Duration::from_millis(500));
    board::exit(code)
}
