//! The device-cost benchmark's embassy side (`.ci/device-cost`), counted under QEMU's
//! `-icount shift=0`: two tasks hand a signal back and forth (2 wakes and 2 polls a round), then
//! main spawns a task that ends at once and waits for it (spawn → complete → the task's storage
//! free again). `agent-pingpong` is the same rounds on the agent.

#![no_std]
#![no_main]

use asyncmon_embassy_peer as _; // its panic handler
use asyncmon_qemu_boards::cost;
use embassy_executor::Spawner;

#[embassy_executor::task]
async fn ponger() {
    cost::pong_forever().await
}

#[embassy_executor::task]
async fn child() {
    cost::child_ran()
}

async fn spawn_rounds(spawner: Spawner, n: u32) {
    for _ in 0..n {
        match child() {
            Ok(token) => spawner.spawn(token),
            Err(_) => asyncmon_qemu_boards::exit(3),
        }
        cost::child_finished().await;
    }
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    asyncmon_qemu_boards::init();
    match ponger() {
        Ok(token) => spawner.spawn(token),
        Err(_) => asyncmon_qemu_boards::exit(2),
    }
    if cost::measures("ping-pong") {
        cost::report("embassy round trip", cost::per_round(cost::ROUNDS, cost::ping_pong_rounds).await);
    }
    if cost::measures("spawn") {
        let per_spawn = cost::per_round(cost::ROUNDS, |n| spawn_rounds(spawner, n)).await;
        cost::report("embassy spawn", per_spawn);
    }
    asyncmon_qemu_boards::exit(0)
}
