//! `asyncmon qemu APP.elf [--machine M]`: run a microcontroller firmware on a QEMU machine and open
//! the monitor — `asyncmon run` without a board. Works as a cargo runner
//! (`runner = "asyncmon qemu --machine mps2-an386"`), the way `probe-rs run` is used: plain lines
//! without a terminal, and the firmware's exit code as its own.

use crate::runner::{serve_and_watch, session_socket_path, WatchArgs};
use asyncmon_daemon::backend::qemu::args::QemuArgs;
use asyncmon_daemon::daemon::{DaemonConfig, TargetConfig};
use asyncmon_daemon::outputs::OutputArgs;
use std::path::PathBuf;

/// Starts QEMU with the firmware and shows it until the run is over (QEMU ends with it); returns
/// the exit code.
pub async fn run(
    qemu: QemuArgs,
    socket: Option<PathBuf>,
    outputs: OutputArgs,
    watch: WatchArgs,
) -> anyhow::Result<i32> {
    let socket = socket.unwrap_or_else(|| session_socket_path("qemu"));
    let mut config = DaemonConfig {
        socket,
        targets: vec![TargetConfig::Qemu(qemu.config().map_err(anyhow::Error::msg)?)],
        ..Default::default()
    };
    outputs.apply(&mut config)?;
    serve_and_watch(config, watch.display(), watch.options(false)).await
}
