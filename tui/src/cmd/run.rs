//! `asyncmon run APP.elf --chip CHIP`: flash a board through a debug probe, reset and run it, attach
//! RTT and open the monitor (what `probe-rs run` and `cargo embed` do, plus the task view).

use asyncmon_daemon::backend::probe::args::BoardArgs;
use asyncmon_daemon::daemon::{DaemonConfig, TargetConfig};
use std::path::PathBuf;

/// Flashes and runs the board, then runs the monitor until the user quits.
pub async fn run(board: BoardArgs, socket: Option<PathBuf>, record: Option<PathBuf>) -> anyhow::Result<()> {
    let socket = socket.unwrap_or_else(crate::cmd::demo::demo_socket_path);
    let config = DaemonConfig { socket, targets: vec![TargetConfig::Probe(board.config())], record };
    crate::cmd::demo::serve_and_monitor(config).await
}
