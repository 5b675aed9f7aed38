//! `asyncmon qemu APP.elf [--machine M]`: run a microcontroller firmware on a QEMU machine and open
//! the monitor — `asyncmon run` without a board. Works as a cargo runner
//! (`runner = "asyncmon qemu --machine mps2-an386"`), the way `probe-rs run` is used.

use asyncmon_daemon::backend::qemu::args::QemuArgs;
use asyncmon_daemon::daemon::{DaemonConfig, TargetConfig};
use std::path::PathBuf;

/// Starts QEMU with the firmware, then runs the monitor until the user quits (QEMU ends with it).
pub async fn run(qemu: QemuArgs, socket: Option<PathBuf>, record: Option<PathBuf>) -> anyhow::Result<()> {
    let socket = socket.unwrap_or_else(crate::cmd::demo::demo_socket_path);
    let config = DaemonConfig {
        socket,
        targets: vec![TargetConfig::Qemu(qemu.config().map_err(anyhow::Error::msg)?)],
        record,
    };
    crate::cmd::demo::serve_and_monitor(config).await
}
