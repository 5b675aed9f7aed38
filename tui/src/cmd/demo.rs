//! `asyncmon demo`: the simulated board with the demo firmware, and the monitor on it.
//!
//! The daemon runs inside this process; the firmware is this same binary, re-run as
//! `asyncmon __device demo`, so the demo needs no separate build step.

use crate::runner::{serve_and_watch, session_socket_path, WatchArgs};
use asyncmon_daemon::backend::sim::SimConfig;
use asyncmon_daemon::daemon::{DaemonConfig, TargetConfig};
use asyncmon_daemon::outputs::OutputArgs;
use std::path::PathBuf;

/// Starts the daemon on the demo firmware (with the session's `outputs`) and shows it until the
/// user quits; returns the exit code.
pub async fn run(socket: Option<PathBuf>, outputs: OutputArgs, watch: WatchArgs) -> anyhow::Result<i32> {
    let socket = socket.unwrap_or_else(|| session_socket_path("demo"));
    let exe = std::env::current_exe()?;
    let sim = SimConfig::new(exe, vec![crate::cmd::device::DEVICE_COMMAND.to_string(), "demo".to_string()]);
    let mut config = DaemonConfig { socket, targets: vec![TargetConfig::Sim(sim)], ..Default::default() };
    outputs.apply(&mut config)?;
    serve_and_watch(config, watch.display(), watch.options(false)).await
}
