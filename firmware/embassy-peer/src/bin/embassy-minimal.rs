//! The smallest useful embassy firmware, beside the agent's: one task that sleeps and logs.

#![no_std]
#![no_main]

use embassy_executor::Spawner;
use embassy_time::Timer;

#[embassy_executor::main]
async fn main(_spawner: Spawner) {
    asyncmon_qemu_boards::init();
    asyncmon_embassy_peer::init_logging();
    for tick in 0u32.. {
        Timer::after_millis(100).await;
        defmt::info!("tick {=u32}", tick);
    }
}
