//! The embassy example (`firmware/embassy-example`, the same tasks) on the simulated board: a host
//! process on embassy-executor's std platform, watched by asyncmon-embassy as the firmware is on a
//! board. `asyncmond sim target/embassy-sim/debug/examples/sim_example` runs it:
//!
//! ```sh
//! cargo build -p asyncmon-embassy --example sim_example --features sim-example --target-dir target/embassy-sim
//! ```
//! A stop from the host runs its stop hook, which ends the process (exit code 0). With `--crowd N`
//! it also spawns N tasks (at most 40) that only sleep: past the observer's table, some run unseen
//! and the host says how many.

#[path = "../../firmware/embassy-example/src/tasks.rs"]
mod tasks;

/// The most tasks `--crowd` spawns.
const CROWD: usize = 40;

/// One of the crowd: it only sleeps.
#[embassy_executor::task(pool_size = CROWD)]
async fn crowd_member() {
    loop {
        embassy_time::Timer::after_secs(3600).await;
    }
}

#[embassy_executor::main]
async fn main(spawner: embassy_executor::Spawner) {
    asyncmon_embassy::init("asyncmon-embassy-example (simulated board)", env!("CARGO_PKG_VERSION"));
    asyncmon_embassy::set_stop_hook(|_hard| std::process::exit(0));
    tasks::spawn_all(&spawner);
    let args: Vec<String> = std::env::args().collect();
    let crowd = match args.iter().position(|a| a == "--crowd") {
        Some(at) => args.get(at + 1).and_then(|n| n.parse::<usize>().ok()).expect("--crowd N"),
        None => 0,
    };
    for _ in 0..crowd.min(CROWD) {
        spawner.spawn(crowd_member().expect("a place in the crowd's pool"));
    }
}
