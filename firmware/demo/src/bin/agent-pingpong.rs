//! The device-cost benchmark's agent side (`.ci/device-cost`): the rounds of `embassy-pingpong`
//! (two tasks hand a signal back and forth: 2 wakes and 2 polls a round) on the agent's executor,
//! its link and exception routing linked in, counted under QEMU's `-icount shift=0`.

#![no_std]
#![no_main]

use asyncmon_agent::{Cancelled, Spawner};
use asyncmon_qemu_boards::{self as board, cost};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::signal::Signal;

/// Rounds per measurement (and twice as many), as on embassy's side.
const ROUNDS: u32 = 20_000;

static PING: Signal<CriticalSectionRawMutex, ()> = Signal::new();
static PONG: Signal<CriticalSectionRawMutex, ()> = Signal::new();

async fn ponger() -> Result<(), Cancelled> {
    loop {
        PING.wait().await;
        PONG.signal(());
    }
}

async fn rounds(n: u32) {
    for _ in 0..n {
        PING.signal(());
        PONG.wait().await;
    }
}

#[asyncmon_agent::main(tasks = 1, slot_bytes = 64, name = "agent-pingpong", init = board::init, then = board::exit)]
async fn main(spawner: Spawner) -> Result<(), Cancelled> {
    let _ponger = spawner.spawn("ponger", ponger()).map_err(|_| Cancelled)?;
    cost::report("agent round trip", cost::per_round(ROUNDS, rounds).await);
    // Now, not after the run's end: the ponger waits on a future that knows nothing of
    // cancellation, which the run would wait out until its cancel deadline.
    board::exit(0)
}
