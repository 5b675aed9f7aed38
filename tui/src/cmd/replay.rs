//! `asyncmon replay FILE`: a recording served by an in-process daemon, with the monitor on it.

use asyncmon_daemon::backend::replay::ReplayConfig;
use asyncmon_daemon::daemon::{DaemonConfig, TargetConfig};
use std::path::PathBuf;

/// Replays `file` (at the recorded pace unless `fast`) and runs the monitor until the user quits.
pub async fn run(
    file: PathBuf,
    fast: bool,
    socket: Option<PathBuf>,
    watch: crate::runner::WatchArgs,
) -> anyhow::Result<i32> {
    let socket = socket.unwrap_or_else(|| crate::runner::session_socket_path("replay"));
    let config = DaemonConfig {
        socket,
        targets: vec![TargetConfig::Replay(ReplayConfig { file, fast })],
        record: None,
        ..Default::default()
    };
    crate::runner::serve_and_watch(config, watch.display(), watch.options(true)).await
}
