//! `asyncmon attach --rtt-tcp HOST:PORT --elf APP`: the monitor on a target behind an RTT TCP
//! server (OpenOCD, J-Link, probe-rs), through an in-process daemon.

use asyncmon_daemon::backend::tcp::TcpConfig;
use asyncmon_daemon::daemon::{DaemonConfig, TargetConfig};
use std::path::PathBuf;
use std::time::Duration;

/// Attaches to the RTT server at `addr`, resolves strings from `elf`, and runs the monitor.
pub async fn run(
    addr: String,
    elf: PathBuf,
    socket: Option<PathBuf>,
    record: Option<PathBuf>,
) -> anyhow::Result<()> {
    let socket = socket.unwrap_or_else(crate::cmd::demo::demo_socket_path);
    let tcp = TcpConfig { addr, elf, initial_backoff: Duration::from_millis(200) };
    crate::cmd::demo::serve_and_monitor(DaemonConfig {
        socket,
        targets: vec![TargetConfig::Tcp(tcp)],
        record,
    })
    .await
}
