//! The demo's shape on embassy-executor, written as an embassy developer would: the same tasks
//! with the same timers and logs (`blinky`, `telemetry` spawning a `sensor_poll` every 200 ms,
//! `flash_log`'s blocking write, `uart_rx`'s yields), main calibrating, running the self test's
//! three probes side by side (`join3`) and giving the modem 100 ms (`with_timeout`). embassy tasks
//! return `()` and cannot be awaited or cancelled, so what the agent does with failures (keep them,
//! route them, cancel siblings, stop) has no counterpart here: failures are log lines.

#![no_std]
#![no_main]

use embassy_executor::Spawner;
use embassy_time::{Duration, Timer};
use rtt_target::rprintln;

#[embassy_executor::task]
async fn blinky() {
    let mut on = false;
    loop {
        Timer::after_millis(500).await;
        on = !on;
    }
}

#[embassy_executor::task(pool_size = 2)]
async fn sensor_poll(poll: u32) {
    Timer::after_millis(20).await;
    if poll.is_multiple_of(3) {
        defmt::warn!("sensor_poll: no answer on poll {=u32}", poll);
        rprintln!("sensor poll #{} timed out after 50 ms", poll);
        return;
    }
    let reading = 21 + (poll % 5) as i32;
    defmt::info!("sensor_poll: {=i32} C on poll {=u32}", reading, poll);
}

#[embassy_executor::task]
async fn telemetry(spawner: Spawner) {
    for poll in 1.. {
        match sensor_poll(poll) {
            Ok(token) => spawner.spawn(token),
            Err(e) => rprintln!("telemetry: cannot spawn a poll: {:?}", e),
        }
        Timer::after_millis(200).await;
    }
}

#[embassy_executor::task]
async fn flash_log() {
    loop {
        Timer::after_millis(700).await;
        embassy_time::block_for(Duration::from_millis(25));
    }
}

#[embassy_executor::task]
async fn uart_rx() {
    loop {
        for _ in 0..8 {
            embassy_futures::yield_now().await;
        }
        Timer::after_millis(300).await;
    }
}

async fn calibrate(attempt: u32) -> Result<i32, i32> {
    Timer::after_millis(50).await;
    if attempt == 1 {
        return Err(-273);
    }
    Ok(20)
}

async fn probe(name: &'static str, ms: u64, fails: bool) -> Result<u16, &'static str> {
    Timer::after_millis(ms).await;
    if fails {
        return Err(name);
    }
    Ok(0x42)
}

async fn modem_connect() {
    Timer::after_secs(3600).await;
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    asyncmon_qemu_boards::init();
    asyncmon_embassy_peer::init_logging();
    rprintln!("demo: started");
    spawner.spawn(blinky().expect("one blinky"));
    spawner.spawn(flash_log().expect("one flash_log"));
    spawner.spawn(uart_rx().expect("one uart_rx"));
    spawner.spawn(telemetry(spawner).expect("one telemetry"));
    for attempt in 1.. {
        match calibrate(attempt).await {
            Ok(offset) => {
                rprintln!("main: calibrated, offset {}", offset);
                break;
            }
            Err(reading) => rprintln!("main: calibrate attempt {} failed ({}), retrying", attempt, reading),
        }
    }
    let (accel, mag, gyro) = embassy_futures::join::join3(
        probe("accel", 40, false),
        probe("mag", 10, true),
        probe("gyro", 40, false),
    )
    .await;
    rprintln!("main: self test: {:?} {:?} {:?}", accel, mag, gyro);
    if embassy_time::with_timeout(Duration::from_millis(100), modem_connect()).await.is_err() {
        rprintln!("main: modem did not connect, continuing offline");
    }
}
