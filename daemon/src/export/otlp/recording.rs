//! A recording sent to a collector after the fact (`asyncmon export FILE --otlp URL`): every event
//! at the wall-clock time it was recorded, the recorded target as the resource.

use super::telemetry::{Destination, OtlpConfig, TelemetryError};
use super::translate::Translator;
use asyncmon_protocol::host::recording::{RecordedEvent, RecordingHeader};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How many events go to the SDK between flushes: its batch queues (2,048) must not overflow.
const FLUSH_EVERY: usize = 512;

/// Sends `events`, recorded under `header`, to the collector `config` names. Runs on a thread of
/// its own (the gRPC client's runtime must not end inside the caller's).
pub fn send(
    config: &OtlpConfig,
    header: &RecordingHeader,
    events: Vec<RecordedEvent>,
) -> Result<(), TelemetryError> {
    let (config, header) = (config.clone(), header.clone());
    let thread = std::thread::spawn(move || {
        let destination = Destination::otlp(config)?;
        let mut translator = Translator::new(destination, header.target.clone(), Arc::default());
        let started = UNIX_EPOCH + Duration::from_millis(header.started_unix_ms);
        let at = |ms: u64| -> SystemTime { started + Duration::from_millis(ms) };
        for (n, recorded) in events.iter().enumerate() {
            translator.event(at(recorded.at_ms), &recorded.event)?;
            if n % FLUSH_EVERY == FLUSH_EVERY - 1 {
                translator.flush();
            }
        }
        let end = at(events.last().map_or(0, |e| e.at_ms));
        translator.finish(end, "still running when the recording ended");
        Ok(())
    });
    thread.join().unwrap_or(Err(TelemetryError::Ended))
}
