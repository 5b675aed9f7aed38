//! The device-cost benchmark's agent side (`.ci/device-cost`): the rounds of `embassy-pingpong`
//! (two tasks hand a signal back and forth: 2 wakes and 2 polls a round; then main spawns a task
//! that ends at once and awaits its handle: spawn → complete → the slot free again) on the agent's
//! executor, its link and exception routing linked in, counted under QEMU's `-icount shift=0`.
//! The ping-pong is measured again with a host reading every round: what `poll-trace` (built with
//! the `poll-trace` feature) costs is that figure's difference between the two builds.

#![no_std]
#![no_main]

use asyncmon_agent::{Cancelled, Spawner};
use asyncmon_qemu_boards::{self as board, cost};

async fn ponger() -> Result<(), Cancelled> {
    cost::pong_forever().await
}

async fn child() -> Result<(), Cancelled> {
    Ok(())
}

async fn spawn_rounds(spawner: Spawner, n: u32) {
    for _ in 0..n {
        match spawner.spawn("child", child()) {
            Ok(handle) => {
                let _ = handle.await;
            }
            Err(_) => board::exit(3),
        }
        // Its frames read, as a host that keeps up reads them (no instructions of the core's).
        asyncmon_agent::link::read_everything_as_a_host_would();
    }
}

#[asyncmon_agent::main(tasks = 2, slot_bytes = 64, name = "agent-pingpong", init = board::init, then = board::exit)]
async fn main(spawner: Spawner) -> Result<(), Cancelled> {
    let _ponger = spawner.spawn("ponger", ponger()).map_err(|_| Cancelled)?;
    if cost::measures("ping-pong") {
        cost::report("agent round trip", cost::per_round(cost::ROUNDS, cost::ping_pong_rounds).await);
    }
    if cost::measures("ping-pong-read") {
        let read = asyncmon_agent::link::read_everything_as_a_host_would;
        let per_round = cost::per_round(cost::ROUNDS, |n| cost::ping_pong_rounds_read(n, read)).await;
        cost::report("agent round trip, host reading", per_round);
    }
    if cost::measures("spawn") {
        cost::report("agent spawn", cost::per_round(cost::ROUNDS, |n| spawn_rounds(spawner, n)).await);
    }
    // Now, not after the run's end: the ponger waits on a future that knows nothing of
    // cancellation, which the run would wait out until its cancel deadline.
    board::exit(0)
}
