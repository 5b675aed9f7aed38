//! Starting a daemon: its targets, each on its own thread with its own hub, and the client server.

use crate::backend::transport::Transport;
/// What a daemon serves (defined with the backends; named here beside [`DaemonConfig`]).
pub use crate::backend::TargetConfig;
use crate::backend::{probe, pump, qemu, replay, sim, tcp, RttSymbol, Sink, TargetCommand};
use crate::elf_memory::ElfMemory;
use crate::export::otlp::{OtlpConfig, OtlpFeed};
use crate::hub::Hub;
use asyncmon_protocol::host::recording::RecordingReader;
use asyncmon_protocol::host::TargetDescription;
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::sync::{mpsc, Arc};

/// How to run a daemon.
#[derive(Debug, Clone, Default)]
pub struct DaemonConfig {
    /// The socket clients connect to.
    pub socket: PathBuf,
    /// The targets, numbered from 0 in this order (two boards on two probes, say); each has its own
    /// session.
    pub targets: Vec<TargetConfig>,
    /// Record the first target's session to this file.
    pub record: Option<PathBuf>,
    /// Export every target's session to this OpenTelemetry collector, each target its own
    /// resource.
    pub otlp: Option<OtlpConfig>,
    /// When the first target's session ends, write it as a Perfetto trace to this file.
    pub perfetto: Option<PathBuf>,
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
    /// The socket's directory as it was at start-up, to remove the socket through.
    socket_dir: crate::socket_path::SocketDir,
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
            hub.finish_perfetto();
            hub.finish_export();
        }
        // Through the directory held since start-up, never by path (see `SocketDir`).
        let _ = self.socket_dir.remove_socket();
    }
}

impl Drop for RunningDaemon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the first target's session writes (the others are only exported).
#[derive(Default, Clone, Copy)]
struct Files<'a> {
    record: Option<&'a std::path::Path>,
    perfetto: Option<&'a std::path::Path>,
}

fn start_recording(hub: &Hub, files: Files<'_>) -> anyhow::Result<()> {
    if let Some(path) = files.record {
        hub.record_to(path).map_err(|e| anyhow::anyhow!("cannot record to {}: {e}", path.display()))?;
        tracing::info!(file = %path.display(), "recording the session");
    }
    if let Some(out) = files.perfetto {
        // The trace is made from a recording when the session ends: the user's, or one of its own.
        let (recording, temporary) = match files.record {
            Some(path) => (path.to_path_buf(), None),
            None => {
                let refused =
                    |e: std::io::Error| anyhow::anyhow!("cannot make a recording for --perfetto: {e}");
                let file = tempfile::Builder::new()
                    .prefix("asyncmon-perfetto-")
                    .suffix(".asyncmon")
                    .tempfile()
                    .map_err(refused)?;
                hub.record_to(file.path()).map_err(refused)?;
                (file.path().to_path_buf(), Some(file))
            }
        };
        hub.perfetto_at_end(out.to_path_buf(), recording, temporary);
        tracing::info!(file = %out.display(), "the session's timeline is written there when it ends");
    }
    Ok(())
}

fn start_export(hub: &Hub, otlp: Option<&OtlpConfig>) -> anyhow::Result<()> {
    if let Some(config) = otlp {
        hub.export_to(OtlpFeed::start(config, hub.target())?);
        tracing::info!(collector = %config.endpoint, protocol = ?config.protocol, "exporting the session over OTLP");
    }
    Ok(())
}

/// What a target needs that was checked before anything started.
enum Checked {
    Sim(sim::SimConfig),
    Qemu(qemu::QemuConfig, RttSymbol),
    Replay(replay::ReplayConfig, RecordingReader<BufReader<File>>),
    Tcp(tcp::TcpConfig, ElfMemory),
    Probe(probe::ProbeConfig, probe::Prepared),
}

/// Refuses a bad recording, ELF or chip name before anything starts.
fn check(target: TargetConfig) -> anyhow::Result<Checked> {
    let checked = match target {
        TargetConfig::Sim(config) => Checked::Sim(config),
        TargetConfig::Qemu(config) => {
            let symbol = qemu::check(&config)?;
            Checked::Qemu(config, symbol)
        }
        TargetConfig::Replay(config) => {
            let reader = replay::open(&config.file)?;
            Checked::Replay(config, reader)
        }
        TargetConfig::Tcp(config) => {
            let memory = ElfMemory::open(&config.elf)?;
            Checked::Tcp(config, memory)
        }
        TargetConfig::Probe(config) => {
            let prepared = probe::prepare(&config)?;
            Checked::Probe(config, prepared)
        }
    };
    Ok(checked)
}

/// A transport's description, and how to start its pump once its hub exists.
fn live<T: Transport + 'static>(
    name: &'static str,
    transport: T,
    commands: mpsc::Receiver<TargetCommand>,
) -> (TargetDescription, Box<dyn FnOnce(Sink) -> std::thread::JoinHandle<()>>) {
    (transport.describe(), Box::new(move |sink| pump::spawn(name, transport, sink, commands)))
}

/// Starts one target's thread with a hub of its own.
fn launch(
    checked: Checked,
    files: Files<'_>,
    otlp: Option<&OtlpConfig>,
) -> anyhow::Result<(Arc<Hub>, std::thread::JoinHandle<()>)> {
    let (commands, commands_rx) = mpsc::channel();
    // A live target is a transport in a pump; a replay publishes a recording.
    let live = match checked {
        Checked::Sim(config) => live("sim", sim::Sim::new(config), commands_rx),
        Checked::Qemu(config, symbol) => live("qemu", qemu::Qemu::new(config, symbol), commands_rx),
        Checked::Tcp(config, memory) => live("tcp", tcp::Tcp::new(config, memory), commands_rx),
        Checked::Probe(config, prepared) => live("probe", probe::Board::new(config, prepared), commands_rx),
        Checked::Replay(config, reader) => {
            let description =
                TargetDescription { backend: "replay".into(), name: replay::describe(&reader.header) };
            let hub = Hub::new(description, commands);
            start_recording(&hub, files)?;
            start_export(&hub, otlp)?;
            let thread = replay::spawn(config, reader, hub.clone(), commands_rx);
            return Ok((hub, thread));
        }
    };
    let (description, start) = live;
    let hub = Hub::new(description, commands);
    start_recording(&hub, files)?;
    start_export(&hub, otlp)?;
    let thread = start(hub.clone());
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
    let socket_dir = crate::socket_path::SocketDir::hold(&config.socket)
        .map_err(|e| anyhow::anyhow!("cannot hold the directory of {}: {e}", config.socket.display()))?;
    let (mut hubs, mut targets) = (Vec::new(), Vec::new());
    for (index, checked) in checked.into_iter().enumerate() {
        let files = match index {
            0 => Files { record: config.record.as_deref(), perfetto: config.perfetto.as_deref() },
            _ => Files::default(),
        };
        let (hub, thread) = launch(checked, files, config.otlp.as_ref())?;
        hubs.push(hub);
        targets.push(thread);
    }
    let server = tokio::spawn(crate::server::serve(listener, Arc::new(hubs.clone())));
    tracing::info!(socket = %config.socket.display(), targets = hubs.len(), "asyncmond serving");
    Ok(RunningDaemon { socket: config.socket, socket_dir, hub: hubs[0].clone(), hubs, targets, server })
}
