//! The demo firmware: a small sensor node.
//!
//! * `blinky` toggles an LED forever (a long-lived task main remembers and awaits at shutdown).
//! * `telemetry` spawns a `sensor_poll` task every [`POLL_PERIOD_MS`] and drops its handle; every
//!   third poll times out, and since nobody awaits it, the failure goes to the exception handler,
//!   which streams it to the host.
//! * main runs `calibrate` and awaits it; its first attempt fails and main handles the failure.
//!
//! Every task holds a [`Cleanup`] guard that prints when the task is cancelled, so a stop request
//! shows the cleanup running.

use asyncmon_agent::{link, Cancelled, Exception, Executor, Spawner, KEYBOARD_INTERRUPT_EXIT_CODE};
use core::panic::Location;
use embassy_time::Timer;
use std::io::Write;

/// How often `telemetry` polls the sensor.
pub const POLL_PERIOD_MS: u64 = 200;
/// Every this many polls, the sensor times out.
pub const FAILING_POLL: u32 = 3;

static EXECUTOR: Executor<12, 2048> = Executor::new();

/// The demo's error type: records where it was raised.
#[derive(Debug)]
pub enum SensorError {
    /// The sensor did not answer.
    Timeout {
        /// Which poll it was.
        poll: u32,
        /// Where it was raised.
        at: &'static Location<'static>,
    },
    /// Calibration found the sensor out of range.
    OutOfRange {
        /// The reading.
        reading: i32,
        /// Where it was raised.
        at: &'static Location<'static>,
    },
    /// The task was cancelled.
    Cancelled,
}

impl SensorError {
    #[track_caller]
    fn timeout(poll: u32) -> Self {
        SensorError::Timeout { poll, at: Location::caller() }
    }

    #[track_caller]
    fn out_of_range(reading: i32) -> Self {
        SensorError::OutOfRange { reading, at: Location::caller() }
    }
}

impl core::fmt::Display for SensorError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SensorError::Timeout { poll, .. } => {
                write!(f, "sensor poll #{poll} timed out after 50 ms")
            }
            SensorError::OutOfRange { reading, .. } => {
                write!(f, "calibration reading {reading} outside -40..=85")
            }
            SensorError::Cancelled => f.write_str("cancelled"),
        }
    }
}

impl Exception for SensorError {
    fn raised_at(&self) -> Option<&'static Location<'static>> {
        match self {
            SensorError::Timeout { at, .. } | SensorError::OutOfRange { at, .. } => Some(at),
            SensorError::Cancelled => None,
        }
    }
}

impl From<Cancelled> for SensorError {
    fn from(_: Cancelled) -> Self {
        SensorError::Cancelled
    }
}

impl From<asyncmon_agent::SpawnError> for SensorError {
    fn from(_: asyncmon_agent::SpawnError) -> Self {
        SensorError::Cancelled
    }
}

/// Prints a line to the firmware's standard output (the simulated board's console).
fn say(line: core::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// A guard whose `Drop` is the task's cleanup.
pub struct Cleanup(&'static str);

impl Drop for Cleanup {
    fn drop(&mut self) {
        say(format_args!("cleanup: {} released its resources", self.0));
    }
}

async fn blinky() -> Result<(), SensorError> {
    let _cleanup = Cleanup("blinky");
    let mut on = false;
    loop {
        on = !on;
        Timer::after_millis(500).await;
    }
}

async fn sensor_poll(poll: u32) -> Result<i32, SensorError> {
    Timer::after_millis(20).await;
    if poll % FAILING_POLL == 0 {
        return Err(SensorError::timeout(poll));
    }
    Ok(21 + (poll % 5) as i32)
}

async fn telemetry(spawner: Spawner) -> Result<(), SensorError> {
    let _cleanup = Cleanup("telemetry");
    for poll in 1.. {
        // Fire and forget: nobody awaits the poll, so its failure goes to the exception handler.
        drop(spawner.spawn("sensor_poll", sensor_poll(poll))?);
        Timer::after_millis(POLL_PERIOD_MS).await;
    }
    Ok(())
}

async fn calibrate(attempt: u32) -> Result<i32, SensorError> {
    let _cleanup = Cleanup("calibrate");
    Timer::after_millis(50).await;
    if attempt == 1 {
        return Err(SensorError::out_of_range(-273));
    }
    Ok(20)
}

async fn app(spawner: Spawner) -> Result<(), SensorError> {
    let _cleanup = Cleanup("main");
    let blinky = spawner.spawn("blinky", blinky())?;
    let _telemetry = spawner.spawn("telemetry", telemetry(spawner))?;
    for attempt in 1.. {
        match spawner.spawn("calibrate", calibrate(attempt))?.await {
            Ok(offset) => {
                say(format_args!("main: calibrated, offset {offset}"));
                break;
            }
            Err(e) => say(format_args!("main: calibrate attempt {attempt} failed ({e}), retrying")),
        }
    }
    // The shutdown pattern: main remembers its long-lived task and awaits it.
    blinky.await
}

/// Runs the demo; returns the process exit code (130 after a stop request).
pub fn run() -> i32 {
    link::init("asyncmon-demo", env!("CARGO_PKG_VERSION"));
    run_initialised()
}

/// Runs the demo on a link that is already initialised.
pub fn run_initialised() -> i32 {
    say(format_args!("demo: started"));
    let code = match EXECUTOR.run(app) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            say(format_args!("demo: main failed: {e}"));
            1
        }
        Err(interrupt) => {
            say(format_args!("demo: {interrupt}"));
            KEYBOARD_INTERRUPT_EXIT_CODE
        }
    };
    link::drain(std::time::Duration::from_millis(500));
    code
}
