//! `asyncmon attach --rtt-tcp HOST:PORT --elf APP`: the monitor on a target behind an RTT TCP
//! server (OpenOCD, J-Link, probe-rs), through an in-process daemon.

use asyncmon_daemon::backend::tcp::TcpConfig;
use asyncmon_daemon::daemon::{DaemonConfig, TargetConfig};
use asyncmon_daemon::outputs::OutputArgs;
use std::path::PathBuf;
use std::time::Duration;

/// Attaches to the RTT server at `addr`, resolves strings from `elf`, and runs the monitor.
pub async fn run(
    addr: String,
    elf: PathBuf,
    socket: Option<PathBuf>,
    outputs: OutputArgs,
    watch: crate::runner::WatchArgs,
) -> anyhow::Result<i32> {
    let socket = socket.unwrap_or_else(|| crate::runner::session_socket_path("attach"));
    let tcp = TcpConfig { addr, elf, initial_backoff: Duration::from_millis(200) };
    let mut config = DaemonConfig { socket, targets: vec![TargetConfig::Tcp(tcp)], ..Default::default() };
    outputs.apply(&mut config)?;
    crate::runner::serve_and_watch(config, watch.display(), watch.options(true)).await
}
