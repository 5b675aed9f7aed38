//! `asyncmon demo`: the simulated board with the demo firmware, and the monitor on it.
//!
//! The daemon runs inside this process; the firmware is this same binary, re-run as
//! `asyncmon __device demo`, so the demo needs no separate build step.

use asyncmon_daemon::backend::sim::SimConfig;
use asyncmon_daemon::client::Client;
use asyncmon_daemon::daemon::{self, DaemonConfig, TargetConfig};
use std::path::PathBuf;

/// Where the demo's daemon listens when no `--socket` is given: beside the default socket, named
/// after this process so two demos do not collide.
pub fn demo_socket_path() -> PathBuf {
    let default = asyncmon_daemon::socket_path::default_socket_path();
    default.with_file_name(format!("demo-{}.sock", std::process::id()))
}

/// Starts the daemon on the demo firmware (recording to `record`, if given) and runs the monitor
/// until the user quits.
pub async fn run(socket: Option<PathBuf>, record: Option<PathBuf>) -> anyhow::Result<()> {
    let socket = socket.unwrap_or_else(demo_socket_path);
    let exe = std::env::current_exe()?;
    let sim = SimConfig::new(exe, vec![crate::cmd::device::DEVICE_COMMAND.to_string(), "demo".to_string()]);
    serve_and_monitor(DaemonConfig { socket, targets: vec![TargetConfig::Sim(sim)], record }).await
}

/// Starts an in-process daemon with `config`, runs the monitor on it until the user quits, then
/// shuts the daemon down.
pub async fn serve_and_monitor(config: DaemonConfig) -> anyhow::Result<()> {
    let running = daemon::start(config)?;
    let client = Client::connect(&running.socket, "asyncmon monitor").await?;
    let shown = running.socket.display().to_string();
    let result = crate::monitor::run::run_monitor(client, shown, 0).await;
    tokio::task::block_in_place(|| running.shutdown());
    result
}
