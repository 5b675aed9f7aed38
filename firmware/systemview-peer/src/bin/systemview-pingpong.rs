//! The device-cost benchmark's SystemView side (`.ci/device-cost`): `embassy-pingpong`'s rounds on
//! the same embassy-executor, traced by SEGGER SystemView as embassy's users wire it (embassy's
//! `rtos-trace` feature, systemview-target's recorder beside defmt; see the library). Each kind of round is measured twice: SystemView compiled in but not recording
//! (no host has started it, what a shipped firmware with SystemView pays), and recording (started,
//! with a host that keeps up: each round marks SystemView's RTT buffer read, as the probe would).

#![no_std]
#![no_main]

use asyncmon_qemu_boards::cost;
use asyncmon_systemview_peer::rtt;
use defmt as _; // the workspace links every firmware with defmt.x
use embassy_executor::Spawner;

#[embassy_executor::task]
async fn ponger() {
    cost::pong_forever().await
}

#[embassy_executor::task]
async fn child() {
    cost::child_ran()
}

async fn spawn_rounds(spawner: Spawner, n: u32, host_reads: bool) {
    for _ in 0..n {
        match child() {
            Ok(token) => spawner.spawn(token),
            Err(_) => asyncmon_qemu_boards::exit(3),
        }
        cost::child_finished().await;
        if host_reads {
            rtt::read_everything_as_a_host_would();
        }
    }
}

async fn ping_pong_rounds_read(n: u32) {
    cost::ping_pong_rounds_read(n, rtt::read_everything_as_a_host_would).await
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    asyncmon_qemu_boards::init();
    asyncmon_systemview_peer::init();
    match ponger() {
        Ok(token) => spawner.spawn(token),
        Err(_) => asyncmon_qemu_boards::exit(2),
    }
    // Each kind of round three times: compiled in (no host has started SystemView); compiled in
    // with the buffer marked read each round; recording, marked read each round. The recording
    // figure is reported without what marking the buffer read costs (the second minus the first),
    // which on silicon a probe does without the core.
    let rounds = cost::measures("ping-pong");
    let spawns = cost::measures("spawn");
    let (mut round, mut round_read, mut spawn, mut spawn_read) = (0, 0, 0, 0);
    if rounds {
        round = cost::per_round(cost::ROUNDS, cost::ping_pong_rounds).await;
        round_read = cost::per_round(cost::ROUNDS, ping_pong_rounds_read).await;
    }
    if spawns {
        spawn = cost::per_round(cost::ROUNDS, |n| spawn_rounds(spawner, n, false)).await;
        spawn_read = cost::per_round(cost::ROUNDS, |n| spawn_rounds(spawner, n, true)).await;
    }
    asyncmon_systemview_peer::start();
    if rounds {
        let recording = cost::per_round(cost::ROUNDS, ping_pong_rounds_read).await;
        cost::report("systemview compiled-in round trip", round);
        cost::report("systemview recording round trip", (recording + round).saturating_sub(round_read));
    }
    if spawns {
        let recording = cost::per_round(cost::ROUNDS, |n| spawn_rounds(spawner, n, true)).await;
        cost::report("systemview compiled-in spawn", spawn);
        cost::report("systemview recording spawn", (recording + spawn).saturating_sub(spawn_read));
    }
    // A recording that recorded nothing would measure nothing: one more round must be written.
    let written = rtt::written();
    cost::ping_pong_rounds(1).await;
    if rtt::written() == written {
        asyncmon_qemu_boards::exit(4) // .ci/device-cost says what exit code 4 means
    }
    asyncmon_qemu_boards::exit(0)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    asyncmon_qemu_boards::exit(101)
}
