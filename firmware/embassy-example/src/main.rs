//! An embassy firmware as its developers write it — defmt-rtt for its logs, panic-probe for its
//! panics — watched by `asyncmon-embassy`: its tasks (`tasks.rs`) are embassy tasks, untouched,
//! and nothing it had is removed. A stop from the host runs its stop hook, which powers down.

#![no_std]
#![no_main]

use embassy_executor::Spawner;
use {defmt_rtt as _, panic_probe as _};

mod tasks;

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    asyncmon_qemu_boards::init();
    // What asyncmon adds: its own RTT control block and the hello (defmt-rtt's `_SEGGER_RTT` stays
    // the firmware's), and what a stop means here.
    #[cfg(feature = "observer")]
    {
        asyncmon_embassy::init("asyncmon-embassy-example", env!("CARGO_PKG_VERSION"));
        // Embassy tasks cannot be cancelled, so the firmware decides: this one powers down (ends
        // QEMU).
        asyncmon_embassy::set_stop_hook(|_hard| asyncmon_qemu_boards::exit(0));
    }
    defmt::info!("embassy example: started");
    tasks::spawn_all(&spawner);
}
