//! The daemon's side of the export: a bounded queue in front of a thread of its own that runs the
//! [`Translator`]. Offering an event never waits: when the queue is full (a collector that is
//! slow, an export thread shutting down an epoch's providers) the event is dropped and counted,
//! the count is exported as `asyncmon.export.dropped` and said in the daemon's log. The SDK's own
//! batch processors, behind the translator, also never block it.

use super::telemetry::{Destination, OtlpConfig, TelemetryError};
use super::translate::Translator;
use asyncmon_protocol::host::{SessionEvent, TargetDescription};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::SystemTime;

/// How many events may wait for the export thread.
pub const QUEUE_CAPACITY: usize = 4096;

type Queued = (SystemTime, SessionEvent);

/// One target's export: offer it every event.
pub struct OtlpFeed {
    queue: Option<SyncSender<Queued>>,
    dropped: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl OtlpFeed {
    /// Exports `target`'s events to the collector `config` names, from a thread of its own.
    pub fn start(config: &OtlpConfig, target: TargetDescription) -> Result<Self, TelemetryError> {
        let destination = Destination::otlp(config.clone())?;
        let (mut feed, events) = Self::queue(QUEUE_CAPACITY);
        feed.attach(events, Translator::new(destination, target, feed.dropped.clone()));
        Ok(feed)
    }

    /// A feed whose queue holds `capacity` events, and the queue's other end.
    fn queue(capacity: usize) -> (Self, Receiver<Queued>) {
        let (queue, events) = mpsc::sync_channel(capacity);
        (OtlpFeed { queue: Some(queue), dropped: Arc::new(AtomicU64::new(0)), thread: None }, events)
    }

    /// Starts the thread that translates what arrives on `events`.
    fn attach(&mut self, events: Receiver<Queued>, mut translator: Translator) {
        let thread = std::thread::Builder::new().name("asyncmon-otlp".into()).spawn(move || {
            let mut failed = false;
            while let Ok((at, event)) = events.recv() {
                if failed {
                    continue;
                }
                if let Err(e) = translator.event(at, &event) {
                    // Said once; the session goes on without the export.
                    tracing::error!("the OTLP export stopped: {e}");
                    failed = true;
                }
            }
            translator.finish(SystemTime::now(), "still running when the export ended (the daemon stopped)");
        });
        match thread {
            Ok(thread) => self.thread = Some(thread),
            Err(e) => tracing::error!("cannot start the OTLP export's thread, nothing is exported: {e}"),
        }
    }

    /// Queues `event` for export, or counts it dropped; never waits.
    pub fn offer(&self, event: &SessionEvent) {
        let Some(queue) = &self.queue else { return };
        // Polls one by one are the timeline's: the export sends none, so they take no place in
        // the queue (a `poll-trace` firmware sends a batch every 24 polls).
        if matches!(event, SessionEvent::Polls(_)) {
            return;
        }
        match queue.try_send((SystemTime::now(), event.clone())) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                // Said at the first drop and at every power of two, not once per event.
                if dropped.is_power_of_two() {
                    tracing::warn!(
                        "the OTLP export is behind (the collector is slow or down): {dropped} events dropped so far"
                    );
                }
            }
        }
    }

    /// How many events were dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Ends the export: what is queued is translated, open spans end, everything batched is sent
    /// (a collector that does not answer is given up after the export timeout).
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let dropped = self.dropped();
        if dropped > 0 {
            tracing::warn!("the OTLP export dropped {dropped} events in all");
        }
    }
}

impl Drop for OtlpFeed {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::fixtures::started;
    use crate::export::otlp::telemetry::memory::Memory;
    use asyncmon_protocol::host::Problem;

    #[test]
    fn a_full_queue_drops_and_counts_what_does_not_fit_and_exports_what_did() {
        let memory = Memory::default();
        let (mut feed, events) = OtlpFeed::queue(3);
        // Nothing takes from the queue yet, as when the export thread is stuck on a collector.
        feed.offer(&started(1));
        // Polls take no place in the queue.
        let polls = asyncmon_protocol::host::Polls { device_now_ns: 0, slices: Vec::new() };
        feed.offer(&SessionEvent::Polls(polls));
        for n in 0..9 {
            feed.offer(&SessionEvent::Problem(Problem { at_ms: n, text: format!("problem {n}") }));
        }
        assert_eq!(feed.dropped(), 7, "three fit, seven did not");
        let target = TargetDescription { backend: "sim".into(), name: "demo".into() };
        let translator = Translator::new(Destination::Memory(memory.clone()), target, feed.dropped.clone());
        feed.attach(events, translator);
        feed.finish();
        let logs = memory.logs.emitted();
        let bodies: Vec<String> =
            logs.iter().map(|(record, _)| format!("{:?}", record.body().unwrap())).collect();
        assert_eq!(bodies.len(), 3, "{bodies:?}");
        assert!(bodies[1].contains("problem 0") && bodies[2].contains("problem 1"), "{bodies:?}");
        // The count itself is exported.
        let metrics = memory.metrics.get_finished_metrics().unwrap();
        let dropped = format!("{metrics:?}");
        assert!(dropped.contains("asyncmon.export.dropped"), "{dropped}");
    }
}
