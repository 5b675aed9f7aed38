//! The device-cost benchmark's observer side (`.ci/device-cost`): `embassy-pingpong`'s rounds on
//! the same embassy-executor, watched by asyncmon-embassy (embassy's `trace` feature on, the
//! observer's hooks linked, its link opened by `init`): the difference from `embassy-pingpong` is
//! what watching costs a poll, and a spawn. The ping-pong is measured again with a host reading
//! every round: what `poll-trace` costs is that figure's difference between the builds with and
//! without the `poll-trace` feature.

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
        // Its frames read, as a host that keeps up reads them (no instructions of the core's).
        asyncmon_embassy::read_everything_as_a_host_would();
    }
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    asyncmon_qemu_boards::init();
    asyncmon_embassy::init("observer-pingpong", env!("CARGO_PKG_VERSION"));
    match ponger() {
        Ok(token) => spawner.spawn(token),
        Err(_) => asyncmon_qemu_boards::exit(2),
    }
    if cost::measures("ping-pong") {
        cost::report("observed round trip", cost::per_round(cost::ROUNDS, cost::ping_pong_rounds).await);
    }
    if cost::measures("ping-pong-read") {
        let read = asyncmon_embassy::read_everything_as_a_host_would;
        let per_round = cost::per_round(cost::ROUNDS, |n| cost::ping_pong_rounds_read(n, read)).await;
        cost::report("observed round trip, host reading", per_round);
    }
    if cost::measures("spawn") {
        let per_spawn = cost::per_round(cost::ROUNDS, |n| spawn_rounds(spawner, n)).await;
        cost::report("observed spawn", per_spawn);
    }
    asyncmon_qemu_boards::exit(0)
}
