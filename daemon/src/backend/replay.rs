//! Replaying a recording: its events are published to the session as if live, at the recorded pace or
//! as fast as possible. A replay has no target: a stop request is answered with a problem.

use super::sink::Sink;
use super::TargetCommand;
use asyncmon_protocol::host::recording::{RecordingError, RecordingHeader, RecordingReader};
use asyncmon_protocol::host::{AwaitTraces, Problem, SessionEvent, TargetState};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How to replay a recording.
#[derive(Debug, Clone)]
pub struct ReplayConfig {
    /// The recording.
    pub file: PathBuf,
    /// Publish every event at once instead of at the recorded pace.
    pub fast: bool,
}

/// Why a recording cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file cannot be opened.
    #[error("cannot open the recording {path}: {source}", path = path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a recording this version reads.
    #[error("{path}: {source}", path = path.display())]
    Recording {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: RecordingError,
    },
}

/// Opens `path` and reads its header, so that a bad file is refused before anything starts.
pub fn open(path: &Path) -> Result<RecordingReader<BufReader<File>>, OpenError> {
    let file = File::open(path).map_err(|source| OpenError::Unreadable { path: path.into(), source })?;
    RecordingReader::new(BufReader::new(file))
        .map_err(|source| OpenError::Recording { path: path.into(), source })
}

/// A one-line description of what was recorded.
pub fn describe(header: &RecordingHeader) -> String {
    format!("recording of {}", header.target)
}

/// Publishes the recording's events to `sink` on a thread of its own.
pub fn spawn(
    config: ReplayConfig,
    reader: RecordingReader<BufReader<File>>,
    sink: Sink,
    commands: Receiver<TargetCommand>,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("asyncmon-replay".into())
        .spawn(move || replay(config, reader, &*sink, &commands))
        .expect("spawning the replay thread")
}

fn replay(
    config: ReplayConfig,
    mut reader: RecordingReader<BufReader<File>>,
    sink: &dyn super::EventSink,
    commands: &Receiver<TargetCommand>,
) {
    let started = Instant::now();
    // The traces as recorded last, for a client that asks for them.
    let mut traces: Option<AwaitTraces> = None;
    loop {
        let event = match reader.next_event() {
            Ok(Some(event)) => event,
            Ok(None) => break,
            Err(e) => return fail(sink, &config.file, &e, started),
        };
        // Wait for the event's time, answering commands meanwhile.
        let due = started + Duration::from_millis(event.at_ms);
        loop {
            let wait =
                if config.fast { Duration::ZERO } else { due.saturating_duration_since(Instant::now()) };
            match commands.recv_timeout(wait) {
                Ok(TargetCommand::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(command) => answer(sink, started, command, traces.as_ref()),
                Err(RecvTimeoutError::Timeout) => break,
            }
        }
        if let SessionEvent::AwaitTraces(recorded) = &event.event {
            traces = Some(recorded.clone());
        }
        sink.publish(event.event);
    }
    tracing::info!(file = %config.file.display(), "replay finished");
    // Keep answering until the daemon shuts down.
    while let Ok(command) = commands.recv() {
        if command == TargetCommand::Shutdown {
            return;
        }
        answer(sink, started, command, traces.as_ref());
    }
}

/// Answers a client's command during a replay: there is no firmware to stop or reset; traces are
/// the ones recorded last.
fn answer(
    sink: &dyn super::EventSink,
    started: Instant,
    command: TargetCommand,
    traces: Option<&AwaitTraces>,
) {
    match command {
        TargetCommand::Shutdown => {}
        TargetCommand::Stop { .. } | TargetCommand::Reset => sink.publish(problem(
            started,
            "this is a replay of a recording: there is no firmware to stop".into(),
        )),
        TargetCommand::RefreshTraces => {
            sink.publish(SessionEvent::AwaitTraces(traces.cloned().unwrap_or_else(|| AwaitTraces {
                unavailable: Some("the recording has no await traces up to here".into()),
                ..AwaitTraces::default()
            })))
        }
    }
}

fn problem(started: Instant, text: String) -> SessionEvent {
    SessionEvent::Problem(Problem { at_ms: started.elapsed().as_millis() as u64, text })
}

fn fail(sink: &dyn super::EventSink, file: &Path, error: &RecordingError, started: Instant) {
    let reason = format!("replay of {} stopped: {error}", file.display());
    tracing::error!("{reason}");
    sink.publish(problem(started, reason.clone()));
    sink.publish(SessionEvent::TargetState(TargetState::Failed { reason }));
}
