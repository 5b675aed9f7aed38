//! Starting a daemon: its targets, each on its own thread with its own hub, and the client server.

use crate::elf_memory::ElfMemory;
use crate::hub::Hub;
use crate::target::{probe, replay, sim, tcp, TargetCommand};
use asyncmon_protocol::host::recording::RecordingReader;
use asyncmon_protocol::host::TargetDescription;
use std::fs::File;
use std::io::BufReader;
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
    /// The targets, numbered from 0 in this order (two boards on two probes, say); each has its own
    /// session.
    pub targets: Vec<TargetConfig>,
    /// Record the first target's session to this file.
    pub record: Option<PathBuf>,
}

/// A running daemon. Dropping it shuts the targets down (the simulator's process is killed).
pub struct RunningDaemon {
    /// The socket clients connect to.
    pub socket: PathBuf,
    /// The first target's session model (for tests and in-process clients that only read).
    pub hub: Arc<Hub>,
    /// Every target's session model, by target number.
    pub hubs: Vec<Arc<Hub>>,
    targets: Vec<std::thread::JoinHandle<()>>,
    server: tokio::task::JoinHandle<()>,
}

impl RunningDaemon {
    /// Shuts the targets down and waits for their threads.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        for hub in &self.hubs {
            let _ = hub.send(TargetCommand::Shutdown);
        }
        self.server.abort();
        for target in self.targets.drain(..) {
            let _ = target.join();
        }
        for hub in &self.hubs {
            hub.flush_recording();
        }
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

/// What a target needs that was checked before anything started.
enum Checked {
    Sim(sim::SimConfig),
    Replay(replay::ReplayConfig, RecordingReader<BufReader<File>>),
    Tcp(tcp::TcpConfig, ElfMemory),
    Probe(probe::ProbeConfig, probe::Prepared),
}

/// Refuses a bad recording, ELF or chip name before anything starts.
fn check(target: TargetConfig) -> anyhow::Result<Checked> {
    let checked = match target {
        TargetConfig::Sim(config) => Checked::Sim(config),
        TargetConfig::Replay(config) => {
            let reader = replay::open(&config.file).map_err(|e| anyhow::anyhow!(e))?;
            Checked::Replay(config, reader)
        }
        TargetConfig::Tcp(config) => {
            let memory = ElfMemory::open(&config.elf).map_err(|e| anyhow::anyhow!(e))?;
            Checked::Tcp(config, memory)
        }
        TargetConfig::Probe(config) => {
            let prepared = probe::prepare(&config).map_err(|e| anyhow::anyhow!(e))?;
            Checked::Probe(config, prepared)
        }
    };
    Ok(checked)
}

/// Starts one target's thread with a hub of its own.
fn launch(
    checked: Checked,
    record: Option<&std::path::Path>,
) -> anyhow::Result<(Arc<Hub>, std::thread::JoinHandle<()>)> {
    let (commands, commands_rx) = mpsc::channel();
    let description = match &checked {
        Checked::Sim(c) => TargetDescription { backend: "sim".into(), name: c.program.display().to_string() },
        Checked::Replay(_, reader) => {
            TargetDescription { backend: "replay".into(), name: replay::describe(&reader.header) }
        }
        Checked::Tcp(c, _) => TargetDescription { backend: "tcp".into(), name: c.addr.clone() },
        Checked::Probe(c, _) => TargetDescription { backend: "probe-rs".into(), name: c.chip.clone() },
    };
    let hub = Hub::new(description, commands);
    start_recording(&hub, record)?;
    let thread = match checked {
        Checked::Sim(config) => sim::spawn(config, hub.clone(), commands_rx),
        Checked::Replay(config, reader) => replay::spawn(config, reader, hub.clone(), commands_rx),
        Checked::Tcp(config, memory) => tcp::spawn(config, memory, hub.clone(), commands_rx),
        Checked::Probe(config, prepared) => probe::spawn(config, prepared, hub.clone(), commands_rx),
    };
    Ok((hub, thread))
}

/// Starts a daemon on the current tokio runtime.
pub fn start(config: DaemonConfig) -> anyhow::Result<RunningDaemon> {
    anyhow::ensure!(!config.targets.is_empty(), "a daemon needs at least one target");
    let checked = config.targets.into_iter().map(check).collect::<anyhow::Result<Vec<_>>>()?;
    crate::socket_path::prepare(&config.socket)?;
    let listener = tokio::net::UnixListener::bind(&config.socket)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.socket.display()))?;
    crate::socket_path::restrict(&config.socket)?;
    let (mut hubs, mut targets) = (Vec::new(), Vec::new());
    for (index, checked) in checked.into_iter().enumerate() {
        let record = if index == 0 { config.record.as_deref() } else { None };
        let (hub, thread) = launch(checked, record)?;
        hubs.push(hub);
        targets.push(thread);
    }
    let server = tokio::spawn(crate::server::serve(listener, Arc::new(hubs.clone())));
    tracing::info!(socket = %config.socket.display(), targets = hubs.len(), "asyncmond serving");
    Ok(RunningDaemon { socket: config.socket, hub: hubs[0].clone(), hubs, targets, server })
}
