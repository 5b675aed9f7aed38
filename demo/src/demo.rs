//! The demo firmware: a small sensor node that shows every path a failure can take.
//!
//! * `blinky` toggles an LED forever; on cancellation its async cleanup turns the LED off.
//! * `telemetry` spawns a `sensor_poll` task every [`POLL_PERIOD_MS`] and drops its handle; every
//!   third poll times out, and since nobody awaits it, the failure goes to the exception handler.
//! * main awaits `calibrate`, whose first attempt fails (the failure is retrieved by main);
//!   runs a self test as a `gather` of three probes, one of which fails (the others are
//!   cancelled, the failure comes out of the gather); gives `modem_connect` 100 ms with `wait_for`
//!   (it times out, is cancelled and powers the modem down).
//! * A custom exception handler counts failures, then calls the default handler, which streams
//!   them to the host.
//! * On a stop request main is cancelled; it cancels and awaits its long-lived tasks (the shutdown
//!   pattern), and every task's cleanup prints.

use asyncmon_agent::{
    default_exception_handler, gather, gather_all, link, set_exception_handler, sleep, Cancelled, Context,
    Exception, Executor, Spawner, Timeout, KEYBOARD_INTERRUPT_EXIT_CODE,
};
use core::cell::Cell;
use core::panic::Location;
use critical_section::Mutex;
use embassy_time::Duration;

/// How often `telemetry` polls the sensor.
pub const POLL_PERIOD_MS: u64 = 200;
/// Every this many polls, the sensor times out.
pub const FAILING_POLL: u32 = 3;
/// How long main gives the modem to connect.
pub const MODEM_TIMEOUT_MS: u64 = 100;

/// Task slots: main's children at their peak (the self test's probes, the modem, the background
/// tasks and a poll or two) with room to spare.
pub const TASKS: usize = 16;
/// Bytes per slot: the largest of the demo's futures (or its output) is under 100 bytes on a
/// 64-bit host; 256 leaves room and fits the demo in a micro:bit's 16 KiB of RAM.
pub const SLOT_BYTES: usize = 256;

static EXECUTOR: Executor<TASKS, SLOT_BYTES> = Executor::new();

/// Failures the custom handler has seen. (A critical section, not an atomic add: Cortex-M0 has no
/// compare-and-swap.)
static FAILURES_SEEN: Mutex<Cell<u32>> = Mutex::new(Cell::new(0));

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
    /// A self-test probe read nonsense.
    ProbeFailed {
        /// Which probe.
        probe: &'static str,
        /// Where it was raised.
        at: &'static Location<'static>,
    },
    /// Something did not answer in time.
    TimedOut(Timeout),
    /// A task could not be spawned.
    Spawn(asyncmon_agent::SpawnError),
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

    #[track_caller]
    fn probe_failed(probe: &'static str) -> Self {
        SensorError::ProbeFailed { probe, at: Location::caller() }
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
            SensorError::ProbeFailed { probe, .. } => write!(f, "self-test probe {probe} read 0xFFFF"),
            SensorError::TimedOut(timeout) => write!(f, "{timeout}"),
            SensorError::Spawn(e) => write!(f, "{e}"),
            SensorError::Cancelled => f.write_str("cancelled"),
        }
    }
}

impl Exception for SensorError {
    fn raised_at(&self) -> Option<&'static Location<'static>> {
        match self {
            SensorError::Timeout { at, .. }
            | SensorError::OutOfRange { at, .. }
            | SensorError::ProbeFailed { at, .. } => Some(at),
            SensorError::TimedOut(_) | SensorError::Spawn(_) | SensorError::Cancelled => None,
        }
    }

    fn is_cancellation(&self) -> bool {
        matches!(self, SensorError::Cancelled)
    }
}

impl From<Timeout> for SensorError {
    fn from(timeout: Timeout) -> Self {
        SensorError::TimedOut(timeout)
    }
}

impl From<Cancelled> for SensorError {
    fn from(_: Cancelled) -> Self {
        SensorError::Cancelled
    }
}

impl From<asyncmon_agent::SpawnError> for SensorError {
    fn from(e: asyncmon_agent::SpawnError) -> Self {
        SensorError::Spawn(e)
    }
}

// defmt log lines carry the microseconds since the firmware started.
defmt::timestamp!("{=u64:us}", embassy_time::Instant::now().as_micros());

/// Logs a line on the firmware's RTT text channel, as firmware on a board would. (The sensor
/// readings go through defmt, as most firmware's logs do: both paths reach the monitor.)
fn say(line: core::fmt::Arguments<'_>) {
    rtt_target::rprintln!("{}", line);
}

/// A guard whose `Drop` is the task's cleanup.
pub struct Cleanup(&'static str);

impl Drop for Cleanup {
    fn drop(&mut self) {
        say(format_args!("cleanup: {} released its resources", self.0));
    }
}

async fn blinky() -> Result<(), SensorError> {
    let mut on = false;
    loop {
        if let Err(cancelled) = sleep(Duration::from_millis(500)).await {
            // Async cleanup: awaits still work once the cancellation was delivered.
            sleep(Duration::from_millis(10)).await?;
            say(format_args!("cleanup: blinky turned the LED off"));
            return Err(cancelled.into());
        }
        on = !on;
    }
}

async fn sensor_poll(poll: u32) -> Result<i32, SensorError> {
    sleep(Duration::from_millis(20)).await?;
    if poll.is_multiple_of(FAILING_POLL) {
        defmt::warn!("sensor_poll: no answer on poll {=u32}", poll);
        return Err(SensorError::timeout(poll));
    }
    let reading = 21 + (poll % 5) as i32;
    defmt::info!("sensor_poll: {=i32} C on poll {=u32}", reading, poll);
    Ok(reading)
}

async fn telemetry(spawner: Spawner) -> Result<(), SensorError> {
    let _cleanup = Cleanup("telemetry");
    for poll in 1.. {
        // Fire and forget: nobody awaits the poll, so its failure goes to the exception handler.
        drop(spawner.spawn("sensor_poll", sensor_poll(poll))?);
        sleep(Duration::from_millis(POLL_PERIOD_MS)).await?;
    }
    Ok(())
}

async fn calibrate(attempt: u32) -> Result<i32, SensorError> {
    let _cleanup = Cleanup("calibrate");
    sleep(Duration::from_millis(50)).await?;
    if attempt == 1 {
        return Err(SensorError::out_of_range(-273));
    }
    Ok(20)
}

async fn probe(name: &'static str, ms: u64, fails: bool) -> Result<u16, SensorError> {
    if let Err(cancelled) = sleep(Duration::from_millis(ms)).await {
        say(format_args!("cleanup: probe {name} cancelled by the self test"));
        return Err(cancelled.into());
    }
    if fails {
        return Err(SensorError::probe_failed(name));
    }
    Ok(0x5a)
}

async fn modem_connect() -> Result<(), SensorError> {
    // The modem never answers.
    if let Err(cancelled) = sleep(Duration::from_secs(3600)).await {
        sleep(Duration::from_millis(5)).await?;
        say(format_args!("cleanup: modem_connect powered the modem down"));
        return Err(cancelled.into());
    }
    Ok(())
}

/// How long `flash_log`'s blocking write holds up the executor.
pub const BLOCKING_WRITE_MS: u64 = 25;

/// Appends to a log in flash with a blocking driver call: a common bug in async firmware, since
/// every other task waits meanwhile. The monitor flags the long poll.
async fn flash_log() -> Result<(), SensorError> {
    loop {
        sleep(Duration::from_millis(700)).await?;
        embassy_time::block_for(Duration::from_millis(BLOCKING_WRITE_MS));
    }
}

/// Lets other tasks run once: the task wakes itself and is ready again at once.
struct YieldNow(bool);

impl core::future::Future for YieldNow {
    type Output = ();
    fn poll(mut self: core::pin::Pin<&mut Self>, cx: &mut core::task::Context<'_>) -> core::task::Poll<()> {
        if self.0 {
            return core::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        core::task::Poll::Pending
    }
}

/// Polls a UART by yielding in a loop instead of awaiting its interrupt: it wakes itself after most
/// of its polls, which the monitor flags.
async fn uart_rx() -> Result<(), SensorError> {
    loop {
        for _ in 0..8 {
            YieldNow(false).await;
        }
        sleep(Duration::from_millis(300)).await?;
    }
}

/// The custom exception handler: count, then stream to the host through the default handler.
fn count_then_report(context: &Context<'_>) {
    let n = critical_section::with(|cs| {
        let seen = FAILURES_SEEN.borrow(cs);
        seen.set(seen.get() + 1);
        seen.get()
    });
    let task = context.task.map_or("?", |t| t.name);
    say(format_args!("handler: failure #{n} in {task}"));
    default_exception_handler(context);
}

async fn app(spawner: Spawner) -> Result<(), SensorError> {
    let _cleanup = Cleanup("main");
    // The long-lived tasks, remembered for the shutdown.
    let blinky = spawner.spawn("blinky", blinky())?;
    let telemetry = spawner.spawn("telemetry", telemetry(spawner))?;
    // Two tasks with habits the monitor warns about; cancelled with everything else at a stop.
    drop(spawner.spawn("flash_log", flash_log())?);
    drop(spawner.spawn("uart_rx", uart_rx())?);

    for attempt in 1.. {
        match spawner.spawn("calibrate", calibrate(attempt))?.await {
            Ok(offset) => {
                say(format_args!("main: calibrated, offset {offset}"));
                break;
            }
            // A stop request arrived while main awaited: carry the cancellation out.
            Err(e) if e.is_cancellation() => return Err(e),
            Err(e) => say(format_args!("main: calibrate attempt {attempt} failed ({e}), retrying")),
        }
    }

    let probes = [
        // The two good probes take long enough that the failing one always fails first, even on a
        // core that a loaded host runs in fits and starts (QEMU in real time).
        spawner.spawn("probe_accel", probe("accel", 1000, false))?,
        spawner.spawn("probe_mag", probe("mag", 10, true))?,
        spawner.spawn("probe_gyro", probe("gyro", 1000, false))?,
    ];
    match gather(probes).await {
        Ok(values) => say(format_args!("main: self test passed {values:?}")),
        Err(e) if e.is_cancellation() => return Err(e),
        Err(e) => say(format_args!("main: self test failed ({e}), running degraded")),
    }

    let modem = spawner.spawn("modem_connect", modem_connect())?;
    match modem.wait_for(Duration::from_millis(MODEM_TIMEOUT_MS)).await {
        Err(timeout) => say(format_args!("main: modem did not connect ({timeout}), continuing offline")),
        Ok(Err(e)) if e.is_cancellation() => return Err(e),
        Ok(_) => say(format_args!("main: modem connected")),
    }

    // Run until stopped; then the shutdown pattern: cancel the long-lived tasks and await them.
    loop {
        if let Err(cancelled) = sleep(Duration::from_secs(3600)).await {
            blinky.cancel();
            telemetry.cancel();
            let [blinky, telemetry] = gather_all([blinky, telemetry]).await;
            say(format_args!("main: background tasks ended: blinky {blinky:?}, telemetry {telemetry:?}"));
            return Err(cancelled.into());
        }
    }
}

/// Runs the demo; returns the process exit code (130 after a stop request).
pub fn run() -> i32 {
    link::init("asyncmon-demo", env!("CARGO_PKG_VERSION"));
    run_initialised()
}

/// Runs the demo on a link that is already initialised.
pub fn run_initialised() -> i32 {
    #[cfg(feature = "std")]
    asyncmon_agent::install_panic_hook();
    set_exception_handler(Some(count_then_report));
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
    link::drain(embassy_time::Duration::from_millis(500));
    code
}
