//! `asyncmon replay FILE`: a recording served by an in-process daemon, with the monitor on it.

use asyncmon_daemon::backend::replay::ReplayConfig;
use asyncmon_daemon::daemon::{DaemonConfig, TargetConfig};
use std::path::PathBuf;

/// Replays `file` (at the recorded pace unless `fast`) and runs the monitor until the user quits.
pub async fn run(file: PathBuf, fast: bool, socket: Option<PathBuf>) -> anyhow::Result<()> {
    let socket = socket.unwrap_or_else(crate::cmd::demo::demo_socket_path);
    let config = DaemonConfig {
        socket,
        targets: vec![TargetConfig::Replay(ReplayConfig { file, fast })],
        record: None,
    };
    crate::cmd::demo::serve_and_monitor(config).await
}
