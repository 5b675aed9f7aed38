//! The hub: the daemon's session model and the fan-out of its events to clients.
//!
//! Publishing applies an event to the session and broadcasts it under one lock, so a client that
//! subscribes gets a snapshot and then exactly the events after it. The broadcast channel is
//! bounded: a client that falls behind loses events (and is told how many), the target reader
//! never waits for a client.

use crate::backend::{EventSink, TargetCommand};
use crate::export::otlp::OtlpFeed;
use asyncmon_protocol::host::recording::{
    RecordedEvent, RecordingHeader, RecordingWriter, RECORDING_VERSION,
};
use asyncmon_protocol::host::{Problem, SessionEvent, SessionState, TargetDescription, TargetState};
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// How often a recording is written out while events keep coming.
const RECORDING_FLUSH_INTERVAL: Duration = Duration::from_millis(200);

/// A recording in progress.
struct Recorder {
    writer: RecordingWriter<BufWriter<File>>,
    started: Instant,
    last_flush: Instant,
}

/// `--perfetto`: where the session's timeline goes when it ends, and the recording it is made from.
struct PerfettoAtEnd {
    out: std::path::PathBuf,
    recording: std::path::PathBuf,
    /// The recording, when it is one of the daemon's own (removed with it).
    _temporary: Option<tempfile::NamedTempFile>,
}

/// How many events a client may fall behind before it misses some.
pub const CLIENT_BACKLOG: usize = 4096;

/// The session model and its subscribers.
pub struct Hub {
    state: Mutex<SessionState>,
    recorder: Mutex<Option<Recorder>>,
    /// The OTLP export (`--otlp`), offered every event; it never waits.
    exporter: Mutex<Option<OtlpFeed>>,
    perfetto: Mutex<Option<PerfettoAtEnd>>,
    events: broadcast::Sender<SessionEvent>,
    commands: Mutex<mpsc::Sender<TargetCommand>>,
    next_request: AtomicU32,
}

impl Hub {
    /// A hub for `target`; commands for the target go to `commands`.
    pub fn new(target: TargetDescription, commands: mpsc::Sender<TargetCommand>) -> Arc<Self> {
        let (events, _) = broadcast::channel(CLIENT_BACKLOG);
        Arc::new(Hub {
            state: Mutex::new(SessionState::new(target)),
            recorder: Mutex::new(None),
            exporter: Mutex::new(None),
            perfetto: Mutex::new(None),
            events,
            commands: Mutex::new(commands),
            next_request: AtomicU32::new(1),
        })
    }

    fn lock(&self) -> MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records every event published from now on to a new file at `path` (`--record`).
    pub fn record_to(&self, path: &Path) -> std::io::Result<()> {
        let file = File::create(path)?;
        let started_unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let header = RecordingHeader { version: RECORDING_VERSION, target: self.target(), started_unix_ms };
        let writer = RecordingWriter::new(BufWriter::new(file), &header)?;
        *self.recorder.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Recorder { writer, started: Instant::now(), last_flush: Instant::now() });
        Ok(())
    }

    /// Writes out what the recording holds so far.
    pub fn flush_recording(&self) {
        if let Some(recorder) = self.recorder.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            if let Err(e) = recorder.writer.flush() {
                tracing::error!("writing the recording failed: {e}");
            }
        }
    }

    /// Writes the session as a Perfetto trace to `out`, made from `recording`, when the firmware
    /// exits and when the daemon ends (`--perfetto`).
    pub fn perfetto_at_end(
        &self,
        out: std::path::PathBuf,
        recording: std::path::PathBuf,
        temporary: Option<tempfile::NamedTempFile>,
    ) {
        *self.perfetto.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(PerfettoAtEnd { out, recording, _temporary: temporary });
    }

    /// Writes the `--perfetto` trace of the session so far, if one was asked for.
    pub fn write_perfetto(&self) {
        let perfetto = self.perfetto.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at_end) = perfetto.as_ref() {
            self.write_perfetto_of(at_end);
        }
    }

    /// The daemon's end: writes the `--perfetto` trace a last time, whole, and removes the
    /// recording it was made from if it is the daemon's own (a hub an aborted client task still
    /// holds would otherwise keep it, and a process that exits never drops it).
    pub fn finish_perfetto(&self) {
        let at_end = self.perfetto.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(at_end) = at_end {
            self.write_perfetto_of(&at_end);
        }
    }

    fn write_perfetto_of(&self, at_end: &PerfettoAtEnd) {
        self.flush_recording();
        let written = crate::export::perfetto::read_recording(&at_end.recording)
            .and_then(|(header, events)| crate::export::perfetto::write(&header, &events, &at_end.out));
        match written {
            Ok(count) => {
                tracing::info!(file = %at_end.out.display(), events = count, "wrote the session's timeline")
            }
            Err(e) => tracing::error!("the session's timeline was not written: {e}"),
        }
    }

    /// Exports every event published from now on through `feed` (`--otlp`).
    pub fn export_to(&self, feed: OtlpFeed) {
        *self.exporter.lock().unwrap_or_else(|e| e.into_inner()) = Some(feed);
    }

    /// Ends the export, if there is one: open spans end and what is batched is sent.
    pub fn finish_export(&self) {
        let feed = self.exporter.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(feed) = feed {
            feed.finish();
        }
    }

    fn export(&self, event: &SessionEvent) {
        if let Some(feed) = self.exporter.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            feed.offer(event);
        }
    }

    /// Applies `event` to the session and sends it to every subscriber.
    pub fn publish(&self, event: SessionEvent) {
        // The firmware's end is the session's end for `--perfetto` (it is written again, whole,
        // if the session goes on: a restart, the daemon's own end).
        let ended = matches!(event, SessionEvent::TargetState(TargetState::Exited { .. }));
        self.publish_now(event);
        if ended {
            self.write_perfetto();
        }
    }

    fn publish_now(&self, event: SessionEvent) {
        let mut state = self.lock();
        let failed = self.record(&event);
        self.export(&event);
        state.apply(&event);
        // No subscribers is fine: the event is in the session for the next snapshot.
        let _ = self.events.send(event);
        // A recording that cannot be written (disk full) is the clients' news too.
        if let Some(problem) = failed {
            self.export(&problem);
            state.apply(&problem);
            let _ = self.events.send(problem);
        }
    }

    /// Records `event`; if that fails, stops recording and returns the problem to publish.
    fn record(&self, event: &SessionEvent) -> Option<SessionEvent> {
        let mut recorder = self.recorder.lock().unwrap_or_else(|e| e.into_inner());
        let rec = recorder.as_mut()?;
        let at_ms = rec.started.elapsed().as_millis() as u64;
        let mut result = rec.writer.write(&RecordedEvent { at_ms, event: event.clone() });
        if result.is_ok() && rec.last_flush.elapsed() > RECORDING_FLUSH_INTERVAL {
            rec.last_flush = Instant::now();
            result = rec.writer.flush();
        }
        let error = result.err()?;
        let text = format!("writing the recording failed, recording stopped (the session goes on): {error}");
        tracing::error!("{text}");
        *recorder = None;
        Some(SessionEvent::Problem(Problem { at_ms, text }))
    }

    /// The session as it is now, and a receiver of every event after it.
    pub fn subscribe(&self) -> (SessionState, broadcast::Receiver<SessionEvent>) {
        let state = self.lock();
        (state.clone(), self.events.subscribe())
    }

    /// The session as it is now.
    pub fn snapshot(&self) -> SessionState {
        self.lock().clone()
    }

    /// The target this hub serves.
    pub fn target(&self) -> TargetDescription {
        self.lock().target.clone()
    }

    /// Asks the target to stop its firmware (`hard`: without waiting for cleanup); returns the
    /// request's id. Refused, with the reason, unless frames can flow: a stop that cannot be
    /// delivered is never accepted and then lost.
    pub fn request_stop(&self, hard: bool) -> Result<u32, String> {
        let state = self.lock();
        if state.target.backend == "replay" {
            return Err("this is a replay of a recording: there is no firmware to stop".into());
        }
        match &state.target_state {
            TargetState::Attached => {}
            TargetState::Exited { description, .. } => {
                return Err(format!("the firmware is not running: it {description}"));
            }
            TargetState::Failed { reason } => return Err(format!("the target is not attached: {reason}")),
            TargetState::Halted { reason } => {
                return Err(format!(
                    "the firmware halted ({reason}): nothing runs to stop; `asyncmon reset` starts it again"
                ));
            }
            TargetState::Starting | TargetState::WaitingForControlBlock => {
                return Err("the RTT link is not attached yet: nothing can be sent to the firmware".into());
            }
        }
        drop(state);
        let request_id = self.next_request.fetch_add(1, Ordering::Relaxed);
        self.send(TargetCommand::Stop { request_id, hard })?;
        Ok(request_id)
    }

    /// Sends a command to the target's thread.
    pub fn send(&self, command: TargetCommand) -> Result<(), String> {
        let commands = self.commands.lock().unwrap_or_else(|e| e.into_inner());
        commands.send(command).map_err(|_| "the target has shut down".to_string())
    }
}

impl EventSink for Hub {
    fn publish(&self, event: SessionEvent) {
        Hub::publish(self, event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use asyncmon_protocol::host::{LogLine, LogSource};

    #[test]
    fn a_recording_that_cannot_be_written_is_said_to_clients_and_the_session_goes_on() {
        let (commands, _rx) = mpsc::channel();
        let hub = Hub::new(TargetDescription { backend: "test".into(), name: "t".into() }, commands);
        hub.record_to(Path::new("/dev/full")).unwrap();
        let (_, mut events) = hub.subscribe();
        // More than the writer's buffer: the write reaches the full disk at once.
        let line = LogLine::plain(0, LogSource::FirmwareStdout, "x".repeat(64 * 1024));
        hub.publish(SessionEvent::Log(line.clone()));
        hub.publish(SessionEvent::Log(line));
        assert!(matches!(events.try_recv(), Ok(SessionEvent::Log(_))), "the event itself is delivered");
        let Ok(SessionEvent::Problem(problem)) = events.try_recv() else { panic!("no problem said") };
        assert!(problem.text.contains("writing the recording failed"), "{}", problem.text);
        assert!(matches!(events.try_recv(), Ok(SessionEvent::Log(_))), "the session goes on");
        assert!(events.try_recv().is_err(), "said once");
        assert_eq!(hub.snapshot().logs.len(), 2);
    }
}
