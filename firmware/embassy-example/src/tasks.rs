//! The embassy example's tasks, as their developers wrote them: shared by the firmware for QEMU's
//! boards (`main.rs`) and the simulated board's build (`embassy/examples/sim_example.rs`).
//! `ticker` ticks every 100 ms and feeds `waiter` through a channel every fifth tick; `waiter` holds
//! the `LEDGER` lock while it waits, so `auditor` waits for the lock; `hog` blocks the executor for
//! 30 ms every half second (the long-poll lint); `faulty` asks the gyro when the ticker tells it to,
//! at tick 40 (4 s), and `unwrap!`s its error: the panic arrives naming it, at the `unwrap!`.

use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::channel::Channel;
use embassy_sync::mutex::Mutex;
use embassy_sync::signal::Signal;
use embassy_time::{Duration, Ticker, Timer};

static READINGS: Channel<CriticalSectionRawMutex, u32, 4> = Channel::new();
static FAULT: Signal<CriticalSectionRawMutex, u32> = Signal::new();
/// The readings received so far, kept by `waiter` and audited by `auditor`.
static LEDGER: Mutex<CriticalSectionRawMutex, u32> = Mutex::new(0);
/// How many readings `auditor` last saw in the ledger.
pub static AUDITED: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);
/// The latest reading `waiter` received.
pub static LAST_READING: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);

/// The tick at which `faulty` is told to panic.
const FAULT_AT_TICK: u32 = 40;

#[embassy_executor::task]
pub async fn ticker() {
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
pub async fn waiter() {
    loop {
        let mut ledger = LEDGER.lock().await;
        let reading = READINGS.receive().await;
        *ledger += 1;
        LAST_READING.store(reading, core::sync::atomic::Ordering::Relaxed);
    }
}

#[embassy_executor::task]
pub async fn auditor() {
    loop {
        let entries = *LEDGER.lock().await;
        AUDITED.store(entries, core::sync::atomic::Ordering::Relaxed);
        Timer::after_millis(250).await;
    }
}

#[embassy_executor::task]
pub async fn hog() {
    loop {
        Timer::after_millis(500).await;
        // A blocking write, as a flash driver without async support does.
        embassy_time::block_for(Duration::from_millis(30));
    }
}

/// What asking the gyro for a reading can end in.
#[derive(Debug)]
#[cfg_attr(target_os = "none", derive(defmt::Format))]
pub enum GyroError {
    /// It did not answer (at this tick).
    NoAnswer {
        /// The ticker's tick.
        tick: u32,
    },
}

/// Asks the gyro for a reading: it never answers.
fn gyro_reading(tick: u32) -> Result<u32, GyroError> {
    Err(GyroError::NoAnswer { tick })
}

// On a board `defmt::unwrap!`, the embassy idiom (the error said through defmt); on the simulated
// board (no defmt there) std's `unwrap`.
#[cfg(target_os = "none")]
use defmt::unwrap;
#[cfg(not(target_os = "none"))]
macro_rules! unwrap {
    ($result:expr) => {
        $result.unwrap()
    };
}

#[embassy_executor::task]
pub async fn faulty() {
    let tick = FAULT.wait().await;
    let reading = unwrap!(gyro_reading(tick));
    LAST_READING.store(reading, core::sync::atomic::Ordering::Relaxed);
}

/// Spawns the five tasks.
pub fn spawn_all(spawner: &embassy_executor::Spawner) {
    spawner.spawn(ticker().expect("one ticker"));
    spawner.spawn(waiter().expect("one waiter"));
    spawner.spawn(auditor().expect("one auditor"));
    spawner.spawn(hog().expect("one hog"));
    spawner.spawn(faulty().expect("one faulty"));
}
