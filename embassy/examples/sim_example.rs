//! The embassy example (`firmware/embassy-example`, the same tasks) on the simulated board: a host
//! process on embassy-executor's std platform, watched by asyncmon-embassy as the firmware is on a
//! board. `asyncmond sim target/embassy-sim/debug/examples/sim_example` runs it:
//!
//! ```sh
//! cargo build -p asyncmon-embassy --example sim_example --features sim-example --target-dir target/embassy-sim
//! ```
//! A stop from the host runs its stop hook, which ends the process (exit code 0).

#[path = "../../firmware/embassy-example/src/tasks.rs"]
mod tasks;

#[embassy_executor::main]
async fn main(spawner: embassy_executor::Spawner) {
    asyncmon_embassy::init("asyncmon-embassy-example (simulated board)", env!("CARGO_PKG_VERSION"));
    asyncmon_embassy::set_stop_hook(|_hard| std::process::exit(0));
    tasks::spawn_all(&spawner);
}
