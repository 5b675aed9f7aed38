//! The README's firmware example ("Using the agent in firmware"), exactly as the README shows it:
//! the part between the two marker lines is compared with the README by
//! `agent/tests/readme_example.rs`, and this file is built for the Cortex-M boards by
//! `.ci/build-firmware` and linted by `.ci/firmware-checks`, so the example compiles as written.

#![no_std]
#![no_main]

// Your board's time driver and memory layout; here QEMU's boards. (Not part of the README's block.)
use asyncmon_qemu_boards as _;

// README example begins
use asyncmon_agent::{gather, link, println, sleep, Exception, Executor, SpawnError, Spawner, Timeout};
use core::panic::Location;
use embassy_time::Duration;

static EXECUTOR: Executor<8, 256> = Executor::new(); // 8 task slots of 256 bytes, no heap

#[derive(Debug, Exception)]
enum AppError {
    #[cancelled]
    Cancelled,
    NoAnswer {
        at: &'static Location<'static>,
        channel: u8,
    }, // raise: AppError::no_answer(3)
    Spawn(#[from] SpawnError),
    Timeout(#[from] Timeout),
}

impl core::fmt::Display for AppError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AppError::Cancelled => f.write_str("cancelled"),
            AppError::NoAnswer { channel, .. } => write!(f, "channel {channel} did not answer"),
            AppError::Spawn(e) => write!(f, "{e}"),
            AppError::Timeout(e) => write!(f, "{e}"),
        }
    }
}

async fn probe(channel: u8) -> Result<u16, AppError> {
    sleep(Duration::from_millis(10)).await?; // Err(Cancelled) if cancelled meanwhile: `?` ends the task
    match channel {
        3 => Err(AppError::no_answer(channel)),
        _ => Ok(u16::from(channel) * 100),
    }
}

async fn app(spawner: Spawner) -> Result<(), AppError> {
    let worker = spawner.spawn("worker", probe(3))?; // a JoinHandle: awaiting it gives the Result
    drop(spawner.spawn("fire_and_forget", probe(3))?); // its failure goes to the exception handler
    let [a, b] = gather([spawner.spawn("a", probe(1))?, spawner.spawn("b", probe(2))?]).await?;
    println!("probes: {a} {b}");
    let slow = spawner.spawn("slow", async {
        sleep(Duration::from_secs(5)).await?;
        Ok::<_, AppError>(())
    })?;
    let _ = slow.wait_for(Duration::from_millis(100)).await; // on timeout: cancelled, cleanup runs
    worker.await.map(|_| ()) // the worker's failure comes back here
}

#[cortex_m_rt::entry]
fn main() -> ! {
    link::init("my-firmware", env!("CARGO_PKG_VERSION")); // RTT control block + hello
    let code = match EXECUTOR.run(app) {
        Ok(Ok(())) => 0, // main finished; the tasks still running were cancelled and awaited
        Ok(Err(e)) => {
            println!("main failed: {e}");
            1
        }
        Err(interrupt) => {
            // The host pressed stop: KeyboardInterrupt, every task's cleanup ran.
            println!("{interrupt}");
            asyncmon_agent::KEYBOARD_INTERRUPT_EXIT_CODE
        }
    };
    // Let the host take the last frames (the stop's acknowledgement, the last lines) before the
    // firmware ends or resets: without this they are lost, and `asyncmon stop` hears no answer.
    link::drain(Duration::from_millis(500));
    halt_or_reset(code)
}

/// After main: here a reset; a test firmware would exit with `code` instead (semihosting).
fn halt_or_reset(_code: i32) -> ! {
    cortex_m::peripheral::SCB::sys_reset()
}
// README example ends
