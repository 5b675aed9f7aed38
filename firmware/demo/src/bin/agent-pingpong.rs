//! The device-cost benchmark's agent side (`.ci/device-cost`): the rounds of `embassy-pingpong`
//! (two tasks hand a signal back and forth: 2 wakes and 2 polls a round) on the agent's executor,
//! its link and exception routing linked in, counted under QEMU's `-icount shift=0`.

#![no_std]
#![no_main]

use asyncmon_agent::{Cancelled, Spawner};
use asyncmon_qemu_boards::{self as board, cost};

async fn ponger() -> Result<(), Cancelled> {
    cost::pong_forever().await
}

#[asyncmon_agent::main(tasks = 1, slot_bytes = 64, name = "agent-pingpong", init = board::init, then = board::exit)]
async fn main(spawner: Spawner) -> Result<(), Cancelled> {
    let _ponger = spawner.spawn("ponger", ponger()).map_err(|_| Cancelled)?;
    cost::report("agent round trip", cost::per_round(cost::ROUNDS, cost::ping_pong_rounds).await);
    // Now, not after the run's end: the ponger waits on a future that knows nothing of
    // cancellation, which the run would wait out until its cancel deadline.
    board::exit(0)
}
