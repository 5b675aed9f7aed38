//! An embassy firmware as its developers write it, watched by `asyncmon-embassy`: its tasks
//! (`tasks.rs`) are embassy tasks, untouched. A stop from the host runs its stop hook, which powers
//! down.

#![no_std]
#![no_main]

use embassy_executor::Spawner;

mod tasks;

/// Without the observer (whose `panic-handler` feature sends the panic to the host): the panic ends
/// QEMU, as the peer firmwares' does.
#[cfg(not(feature = "observer"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    asyncmon_qemu_boards::exit(101)
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    asyncmon_qemu_boards::init();
    // With asyncmon: the RTT control block (asyncmon's channel and defmt's) and the hello, in place
    // of the firmware's own `rtt_init_defmt!`.
    #[cfg(feature = "observer")]
    {
        asyncmon_embassy::init("asyncmon-embassy-example", env!("CARGO_PKG_VERSION"));
        // What a stop from the host means here: embassy tasks cannot be cancelled, so the firmware
        // decides — this one powers down (ends QEMU).
        asyncmon_embassy::set_stop_hook(|_hard| asyncmon_qemu_boards::exit(0));
    }
    #[cfg(not(feature = "observer"))]
    rtt_target::rtt_init_defmt!();
    defmt::info!("embassy example: started");
    tasks::spawn_all(&spawner);
}
