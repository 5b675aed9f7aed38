//! Starting a daemon: a target on its own thread, the hub, and the client server.

use crate::elf_memory::ElfMemory;
use crate::hub::Hub;
use crate::target::{probe, replay, sim, tcp, TargetCommand};
use asyncmon_protocol::host::TargetDescription;
use std::path::PathBuf;
use std::sync::{mpsc, Arc};

/// What a daemon serves.
#[derive(Debug, Clone)]
pub enum TargetConfig {
    /// A firmware built for the host, run as a child process.
    Sim(sim::SimConfig),
    /// A recording, served as if live.
    Replay(replay::ReplayConfig),
    /// An RTT TCP server (OpenOCD, J-Link, probe-rs) and the firmware's ELF.
    Tcp(tcp::TcpConfig),
    /// A board through a debug probe (probe-rs).
    Probe(probe::ProbeConfig),
}

/// How to run a daemon.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// The socket clients connect to.
    pub socket: PathBuf,
    /// The target.
    pub target: TargetConfig,
    /// Record the session to this file.
    pub record: Option<PathBuf>,
}

/// A running daemon. Dropping it shuts the target down (the simulator's process is killed).
pub struct RunningDaemon {
    /// The socket clients connect to.
    pub socket: PathBuf,
    /// The session model (for tests and in-process clients that only read).
    pub hub: Arc<Hub>,
    target: Option<std::thread::JoinHandle<()>>,
    server: tokio::task::JoinHandle<()>,
}

impl RunningDaemon {
    /// Shuts the target down and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.hub.send(TargetCommand::Shutdown);
        self.server.abort();
        if let Some(target) = self.target.take() {
            let _ = target.join();
        }
        self.hub.flush_recording();
        let _ = std::fs::remove_file(&self.socket);
    }
}

impl Drop for RunningDaemon {
    fn drop(&mut self) {
        self.stop();
    }
}

fn start_recording(hub: &Hub, path: Option<&std::path::Path>) -> anyhow::Result<()> {
    if let Some(path) = path {
        hub.record_to(path).map_err(|e| anyhow::anyhow!("cannot record to {}: {e}", path.display()))?;
        tracing::info!(file = %path.display(), "recording the session");
    }
    Ok(())
}

/// Starts a daemon on the current tokio runtime.
pub fn start(config: DaemonConfig) -> anyhow::Result<RunningDaemon> {
    // A bad recording or ELF is refused before anything starts.
    let mut replay_reader = match &config.target {
        TargetConfig::Replay(replay) => Some(replay::open(&replay.file).map_err(|e| anyhow::anyhow!(e))?),
        _ => None,
    };
    let mut probe_prepared = match &config.target {
        TargetConfig::Probe(board) => Some(probe::prepare(board).map_err(|e| anyhow::anyhow!(e))?),
        _ => None,
    };
    let mut elf_memory = match &config.target {
        TargetConfig::Tcp(tcp) => Some(ElfMemory::open(&tcp.elf).map_err(|e| anyhow::anyhow!(e))?),
        _ => None,
    };
    crate::socket_path::prepare(&config.socket)?;
    let listener = tokio::net::UnixListener::bind(&config.socket)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.socket.display()))?;
    crate::socket_path::restrict(&config.socket)?;
    let (commands, commands_rx) = mpsc::channel();
    let (hub, target) = match config.target {
        TargetConfig::Sim(sim_config) => {
            let description =
                TargetDescription { backend: "sim".into(), name: sim_config.program.display().to_string() };
            let hub = Hub::new(description, commands);
            start_recording(&hub, config.record.as_deref())?;
            let target = sim::spawn(sim_config, hub.clone(), commands_rx);
            (hub, target)
        }
        TargetConfig::Tcp(tcp_config) => {
            let description = TargetDescription { backend: "tcp".into(), name: tcp_config.addr.clone() };
            let hub = Hub::new(description, commands);
            start_recording(&hub, config.record.as_deref())?;
            let memory = elf_memory.take().expect("opened above");
            let target = tcp::spawn(tcp_config, memory, hub.clone(), commands_rx);
            (hub, target)
        }
        TargetConfig::Probe(board) => {
            let prepared = probe_prepared.take().expect("prepared above");
            let description = TargetDescription { backend: "probe-rs".into(), name: board.chip.clone() };
            let hub = Hub::new(description, commands);
            start_recording(&hub, config.record.as_deref())?;
            let target = probe::spawn(board, prepared, hub.clone(), commands_rx);
            (hub, target)
        }
        TargetConfig::Replay(replay_config) => {
            let reader = replay_reader.take().expect("opened above");
            let description =
                TargetDescription { backend: "replay".into(), name: replay::describe(&reader.header) };
            let hub = Hub::new(description, commands);
            start_recording(&hub, config.record.as_deref())?;
            let target = replay::spawn(replay_config, reader, hub.clone(), commands_rx);
            (hub, target)
        }
    };
    let server = tokio::spawn(crate::server::serve(listener, hub.clone()));
    tracing::info!(socket = %config.socket.display(), "asyncmond serving");
    Ok(RunningDaemon { socket: config.socket, hub, target: Some(target), server })
}
