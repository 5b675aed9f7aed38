//! An embassy firmware as its developers write it, watched by `asyncmon-embassy`: its tasks are
//! embassy tasks, untouched. `ticker` ticks every 100 ms and feeds `waiter` through a channel
//! every fifth tick; `hog` blocks the executor for 30 ms every half second (the long-poll lint);
//! `faulty` panics when the ticker tells it to, at tick 40 (4 s), so the panic arrives naming it. A
//! stop from the host runs its stop hook, which powers down.

#![no_std]
#![no_main]

use embassy_executor::Spawner;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::channel::Channel;
use embassy_sync::signal::Signal;
use embassy_time::{Duration, Ticker, Timer};

static READINGS: Channel<CriticalSectionRawMutex, u32, 4> = Channel::new();
static FAULT: Signal<CriticalSectionRawMutex, u32> = Signal::new();

/// The tick at which `faulty` is told to panic.
const FAULT_AT_TICK: u32 = 40;

#[embassy_executor::task]
async fn ticker() {
    let mut ticker = Ticker::every(Duration::from_millis(100));
    for tick in 1.. {
        ticker.next().await;
        if tick % 5 == 0 {
            READINGS.send(tick).await;
        }
        if tick == FAULT_AT_TICK {
            FAULT.signal(tick);
        }
    }
}

#[embassy_executor::task]
async fn waiter() {
    loop {
        let reading = READINGS.receive().await;
        defmt::info!("waiter: reading {=u32}", reading);
    }
}

#[embassy_executor::task]
async fn hog() {
    loop {
        Timer::after_millis(500).await;
        // A blocking write, as a flash driver without async support does.
        embassy_time::block_for(Duration::from_millis(30));
    }
}

#[embassy_executor::task]
async fn faulty() {
    let tick = FAULT.wait().await;
    panic!("sensor fault: no answer from the gyro at tick {}", tick);
}

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
    spawner.spawn(ticker().expect("one ticker"));
    spawner.spawn(waiter().expect("one waiter"));
    spawner.spawn(hog().expect("one hog"));
    spawner.spawn(faulty().expect("one faulty"));
}
