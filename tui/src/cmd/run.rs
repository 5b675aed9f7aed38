//! `asyncmon run APP.elf --chip CHIP`: flash a board through a debug probe, reset and run it, attach
//! RTT and open the monitor (what `probe-rs run` and `cargo embed` do, plus the task view).

use asyncmon_daemon::daemon::{DaemonConfig, TargetConfig};
use asyncmon_daemon::target::probe::ProbeConfig;
use std::path::PathBuf;
use std::time::Duration;

/// What `asyncmon run` was asked to do.
pub struct RunArgs {
    /// The firmware's ELF.
    pub elf: PathBuf,
    /// The chip, as probe-rs names it.
    pub chip: String,
    /// `VID:PID[:SERIAL]`.
    pub probe: Option<String>,
    /// Attach without flashing.
    pub no_flash: bool,
    /// Attach under reset.
    pub connect_under_reset: bool,
    /// The socket other clients can use.
    pub socket: Option<PathBuf>,
    /// Record the session.
    pub record: Option<PathBuf>,
}

/// Flashes and runs the board, then runs the monitor until the user quits.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let socket = args.socket.unwrap_or_else(crate::cmd::demo::demo_socket_path);
    let board = ProbeConfig {
        chip: args.chip,
        probe: args.probe,
        elf: args.elf,
        flash: !args.no_flash,
        connect_under_reset: args.connect_under_reset,
        poll_interval: Duration::from_millis(10),
        attach_timeout: Duration::from_secs(5),
    };
    crate::cmd::demo::serve_and_monitor(DaemonConfig {
        socket,
        targets: vec![TargetConfig::Probe(board)],
        record: args.record,
    })
    .await
}
