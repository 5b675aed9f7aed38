//! `asyncmon run APP.elf --chip CHIP`: flash a board through a debug probe, reset and run it, attach
//! RTT and show it (what `probe-rs run` and `cargo embed` do, plus the task view). As cargo's
//! runner it behaves like `probe-rs run`: plain lines without a terminal, and an exit code a
//! script can use (see [`crate::runner::outcome`]). Without a probe it says which probes there
//! are and stops, unless told to wait for one (`--wait-for-probe`).

use crate::runner::{serve_and_watch, session_socket_path, WatchArgs};
use asyncmon_daemon::backend::probe::args::BoardArgs;
use asyncmon_daemon::backend::probe::select::{self, ProbeEntry};
use asyncmon_daemon::backend::probe::{prepare, qemu_probe};
use asyncmon_daemon::daemon::{DaemonConfig, TargetConfig};
use asyncmon_daemon::outputs::OutputArgs;
use std::path::PathBuf;

/// Flashes and runs the board, then shows it until the run is over; returns the exit code.
pub async fn run(
    board: BoardArgs,
    wait_for_probe: bool,
    socket: Option<PathBuf>,
    outputs: OutputArgs,
    watch: WatchArgs,
) -> anyhow::Result<i32> {
    let virtual_probe = board.probe.as_deref().and_then(qemu_probe::parse).is_some();
    let board = board.config();
    // The chip and the firmware first: what can be checked without a probe is.
    prepare(&board).map_err(|e| anyhow::anyhow!("{e}"))?;
    if !virtual_probe && !wait_for_probe {
        check_probe(board.probe.as_deref())?;
    }
    let socket = socket.unwrap_or_else(|| session_socket_path("run"));
    let mut config = DaemonConfig { socket, targets: vec![TargetConfig::Probe(board)], ..Default::default() };
    outputs.apply(&mut config)?;
    serve_and_watch(config, watch.display(), watch.options(wait_for_probe)).await
}

/// Fails, saying which probes there are and what to do, unless the probe `selector` names (or
/// the only one) is plugged in.
fn check_probe(selector: Option<&str>) -> anyhow::Result<()> {
    let probes: Vec<ProbeEntry> =
        probe_rs::probe::list::Lister::new().list_all().iter().map(ProbeEntry::from).collect();
    select::choose(&probes, selector).map(|_| ()).map_err(|e| {
        anyhow::anyhow!(
            "{e}\nPlug a probe in and run again, wait for one with --wait-for-probe, or rehearse without a board: --probe qemu:mps2-an386 or --probe qemu:microbit"
        )
    })
}
