//! The embassy example (`firmware/embassy-example`: the same tasks) traced by SEGGER SystemView
//! instead of watched by asyncmon-embassy: what .ci/firmware-sizes weighs the observer against.
//! As systemview-target's README has it beside defmt, defmt-rtt gives way to rtt-target; its
//! panics still go through panic-probe.

#![no_std]
#![no_main]

use embassy_executor::Spawner;
use panic_probe as _;

#[path = "../../../embassy-example/src/tasks.rs"]
mod tasks;

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    asyncmon_qemu_boards::init();
    asyncmon_systemview_peer::init();
    defmt::info!("embassy example: started");
    tasks::spawn_all(&spawner);
}
