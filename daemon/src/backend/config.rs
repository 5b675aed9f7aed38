//! What a daemon can be asked to serve, one value per kind of target.

use super::{probe, qemu, replay, sim, tcp};

/// What a daemon serves.
#[derive(Debug, Clone)]
pub enum TargetConfig {
    /// A firmware built for the host, run as a child process.
    Sim(sim::SimConfig),
    /// Firmware for a microcontroller, run on a QEMU machine the daemon starts.
    Qemu(qemu::QemuConfig),
    /// A recording, served as if live.
    Replay(replay::ReplayConfig),
    /// An RTT TCP server (OpenOCD, J-Link, probe-rs) and the firmware's ELF.
    Tcp(tcp::TcpConfig),
    /// A board through a debug probe (probe-rs).
    Probe(probe::ProbeConfig),
}
