//! The device-cost benchmark's embassy side (`.ci/device-cost`): two tasks hand a signal back and
//! forth (2 wakes and 2 polls a round), and the board counts the instructions a round costs under
//! QEMU's `-icount shift=0`. `agent-pingpong` is the same rounds on the agent.

#![no_std]
#![no_main]

use asyncmon_embassy_peer as _; // its panic handler
use asyncmon_qemu_boards::cost;
use embassy_executor::Spawner;

#[embassy_executor::task]
async fn ponger() {
    cost::pong_forever().await
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    asyncmon_qemu_boards::init();
    match ponger() {
        Ok(token) => spawner.spawn(token),
        Err(_) => asyncmon_qemu_boards::exit(2),
    }
    cost::report("embassy round trip", cost::per_round(cost::ROUNDS, cost::ping_pong_rounds).await);
    asyncmon_qemu_boards::exit(0)
}
