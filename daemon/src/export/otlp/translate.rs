//! Session events in OpenTelemetry's model, with its semantic conventions where they exist:
//!
//! - a failure is a log record (`exception.type`, `exception.message`, the raise site as
//!   `code.filepath`/`code.lineno`/`code.column`, the task's name and id, its spawn chain, the path
//!   it took as `asyncmon.failure.path`; severity by path: a panic `FATAL`, a failure nobody
//!   retrieved `ERROR`, one that was awaited, gathered or raised in a shutdown `WARN`), in the
//!   trace of its task's span, and an `exception` event on that span while it is open;
//! - a task's life is a span whose parent is its spawner's span, so a spawn tree is a trace: its
//!   spawn site, outcome (the status is an error when it failed or was dropped) and last poll
//!   figures as attributes, its waits (from the await traces) as events;
//! - poll figures, link counters, the link's state, executor idle time and failures counted by
//!   type are metrics;
//! - the resource is the firmware (`service.name`, its build id as `service.version`), the target
//!   and the session epoch: a new epoch (a reset, a restart) gets providers of its own.
//!
//! A span is sent when it ends: a task's end, a new epoch, the target exiting or halting, or the
//! export's end.

use super::telemetry::{Destination, Telemetry, TelemetryError};
use asyncmon_protocol::host::wording::{
    ending_words, interrupt_summary, stop_handled_words, waiting_for_words,
};
use asyncmon_protocol::host::{
    Failure, FailurePath, FirmwareInfo, LinkStats, Location, PollStats, SessionEvent, SessionState,
    TargetDescription, TargetState, Task, TaskOutcome,
};
use opentelemetry::logs::{AnyValue, LogRecord, Logger, Severity};
use opentelemetry::metrics::{Counter, Gauge, ObservableCounter};
use opentelemetry::trace::{SpanContext, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::Resource;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

/// A task of an epoch: (epoch, id). Ids are reused across epochs and after a task ends.
type Key = (u32, u32);

/// A task whose span is open.
struct OpenTask {
    cx: Context,
    stats: Option<PollStats>,
    /// What it was last seen waiting for, so an unchanged wait is not a new event.
    waiting: Option<String>,
}

/// The instruments of one meter.
struct Instruments {
    polls: Gauge<u64>,
    busy: Gauge<u64>,
    max_poll: Gauge<u64>,
    idle: Gauge<f64>,
    attached: Gauge<u64>,
    frames: Counter<u64>,
    frames_lost: Counter<u64>,
    frames_rejected: Counter<u64>,
    failures: Counter<u64>,
    _dropped: ObservableCounter<u64>,
}

impl Instruments {
    fn new(meter: &opentelemetry::metrics::Meter, dropped: Arc<AtomicU64>) -> Self {
        Instruments {
            polls: meter.u64_gauge("asyncmon.task.polls").with_description("Polls of a task so far").build(),
            busy: meter
                .u64_gauge("asyncmon.task.busy")
                .with_unit("us")
                .with_description("Time a task spent inside its polls, in total")
                .build(),
            max_poll: meter
                .u64_gauge("asyncmon.task.max_poll")
                .with_unit("us")
                .with_description("A task's longest single poll")
                .build(),
            idle: meter
                .f64_gauge("asyncmon.executor.idle")
                .with_unit("1")
                .with_description("The share of the time the executor slept")
                .build(),
            attached: meter
                .u64_gauge("asyncmon.link.attached")
                .with_description("1 while the daemon reads the target's frames, else 0")
                .build(),
            frames: meter.u64_counter("asyncmon.link.frames").with_description("Frames decoded").build(),
            frames_lost: meter
                .u64_counter("asyncmon.link.frames_lost")
                .with_description("Frames the firmware dropped because its up buffer was full")
                .build(),
            frames_rejected: meter
                .u64_counter("asyncmon.link.frames_rejected")
                .with_description("Frames the host rejected (bad COBS, CRC or message)")
                .build(),
            failures: meter
                .u64_counter("asyncmon.failures")
                .with_description("Failures the firmware reported")
                .build(),
            _dropped: meter
                .u64_observable_counter("asyncmon.export.dropped")
                .with_description("Session events the exporter dropped because its queue was full")
                .with_callback(move |observer| observer.observe(dropped.load(Ordering::Relaxed), &[]))
                .build(),
        }
    }
}

/// The providers for the current resource.
struct Current {
    telemetry: Telemetry,
    instruments: Instruments,
}

/// Turns one target's session events into spans, log records and metrics.
pub struct Translator {
    destination: Destination,
    /// The session the events make, folded as every client folds it: the target, the epoch, the
    /// firmware, the tasks (for names and spawn chains) and the link's counters come from it.
    session: SessionState,
    current: Option<Current>,
    open: HashMap<Key, OpenTask>,
    /// The span of the latest task with each key, open or ended: an unretrieved failure arrives
    /// after its task ended, and belongs in its trace.
    spans: HashMap<Key, SpanContext>,
    dropped: Arc<AtomicU64>,
}

fn kv(key: &'static str, value: impl Into<opentelemetry::Value>) -> KeyValue {
    KeyValue::new(key, value)
}

/// A source location as OpenTelemetry's `code.*` attributes (none for an unknown place).
fn code_at(location: &Location) -> Vec<KeyValue> {
    if location.file.is_empty() {
        return Vec::new();
    }
    let mut attributes =
        vec![kv("code.filepath", location.file.clone()), kv("code.lineno", i64::from(location.line))];
    if location.column != 0 {
        attributes.push(kv("code.column", i64::from(location.column)));
    }
    attributes
}

/// A span attribute's value as a log attribute's.
fn any_value(value: opentelemetry::Value) -> AnyValue {
    match value {
        opentelemetry::Value::I64(n) => AnyValue::Int(n),
        opentelemetry::Value::F64(x) => AnyValue::Double(x),
        opentelemetry::Value::Bool(b) => AnyValue::Boolean(b),
        opentelemetry::Value::String(s) => AnyValue::String(s),
        other => AnyValue::String(other.to_string().into()),
    }
}

/// `asyncmon.failure.path`'s values.
fn path_word(path: FailurePath) -> &'static str {
    match path {
        FailurePath::Unretrieved => "never_retrieved",
        FailurePath::Awaited => "awaited",
        FailurePath::Gathered => "gathered",
        FailurePath::DuringShutdown => "during_shutdown",
        FailurePath::Panic => "panic",
    }
}

fn severity(path: FailurePath) -> (Severity, &'static str) {
    match path {
        FailurePath::Panic => (Severity::Fatal, "FATAL"),
        FailurePath::Unretrieved => (Severity::Error, "ERROR"),
        FailurePath::Awaited | FailurePath::Gathered | FailurePath::DuringShutdown => {
            (Severity::Warn, "WARN")
        }
    }
}

impl Translator {
    /// A translator for `target`'s events, exporting to `destination`; `dropped` counts the
    /// events the caller could not queue (exported as `asyncmon.export.dropped`).
    pub fn new(destination: Destination, target: TargetDescription, dropped: Arc<AtomicU64>) -> Self {
        Translator {
            destination,
            session: SessionState::new(target),
            current: None,
            open: HashMap::new(),
            spans: HashMap::new(),
            dropped,
        }
    }

    fn resource(&self) -> Resource {
        let target = &self.session.target;
        let mut attributes = vec![
            kv("asyncmon.target.backend", target.backend.clone()),
            kv("asyncmon.target.name", target.name.clone()),
        ];
        let service = match &self.session.firmware {
            Some(firmware) => {
                // The hello's build id is the firmware's version as it names it (`#[main]` passes
                // the crate's version): OpenTelemetry's `service.version`, and ours by its own name.
                attributes.push(kv("service.version", firmware.build_id.clone()));
                attributes.push(kv("asyncmon.firmware.build_id", firmware.build_id.clone()));
                attributes.push(kv("asyncmon.session.epoch", i64::from(self.session.epoch)));
                firmware.name.clone()
            }
            None => "asyncmon-target".to_string(),
        };
        Resource::builder().with_service_name(service).with_attributes(attributes).build()
    }

    /// The providers for the current resource, started on first use.
    fn current(&mut self) -> Result<&Current, TelemetryError> {
        if self.current.is_none() {
            let telemetry = Telemetry::start(&self.destination, self.resource())?;
            let instruments = Instruments::new(&telemetry.meter, self.dropped.clone());
            self.current = Some(Current { telemetry, instruments });
        }
        Ok(self.current.as_ref().expect("started above"))
    }

    /// Translates one event that happened at `at`.
    pub fn event(&mut self, at: SystemTime, event: &SessionEvent) -> Result<(), TelemetryError> {
        let link_before = self.session.stats;
        self.session.apply(event);
        match event {
            SessionEvent::SessionStarted { epoch, firmware } => self.started(at, *epoch, firmware)?,
            SessionEvent::TaskSpawned(task) => self.spawned(at, task)?,
            SessionEvent::TaskFinished { id, outcome } => {
                let failed = matches!(
                    outcome,
                    TaskOutcome::Failed | TaskOutcome::FailedDuringCleanup | TaskOutcome::DroppedAtDeadline
                );
                self.end(at, (self.session.epoch, *id), ending_words(*outcome), failed);
            }
            SessionEvent::Failure(failure) => self.failure(at, failure)?,
            SessionEvent::Interrupted(report) => {
                self.log(
                    at,
                    (Severity::Info, "INFO"),
                    "asyncmon.stop",
                    interrupt_summary(report),
                    Vec::new(),
                    None,
                )?;
            }
            SessionEvent::StopHandled { hook_ran, hard, .. } => {
                let words = stop_handled_words(*hook_ran, *hard);
                self.log(at, (Severity::Info, "INFO"), "asyncmon.stop", words, Vec::new(), None)?;
            }
            SessionEvent::Problem(problem) => {
                let text = problem.text.clone();
                self.log(at, (Severity::Warn, "WARN"), "asyncmon.problem", text, Vec::new(), None)?;
            }
            SessionEvent::TargetState(state) => self.target_state(at, state)?,
            SessionEvent::TaskStats { id, stats } => self.task_stats(*id, stats)?,
            SessionEvent::ExecutorLoad(load) => {
                let ratio = load.idle_percent() / 100.0;
                self.current()?.instruments.idle.record(ratio, &[]);
            }
            SessionEvent::Stats(stats) => self.link_stats(&link_before, stats)?,
            SessionEvent::AwaitTraces(traces) => {
                for trace in &traces.tasks {
                    let Some(open) = self.open.get_mut(&(traces.epoch, trace.task)) else { continue };
                    let waiting = waiting_for_words(trace);
                    if open.waiting.as_ref() == Some(&waiting) {
                        continue;
                    }
                    let mut attributes = vec![kv("asyncmon.waiting_for", waiting.clone())];
                    if let Some(frame) = trace.innermost() {
                        attributes.push(kv("code.function", frame.function.clone()));
                        if let Some(location) = &frame.location {
                            attributes.extend(code_at(location));
                        }
                    }
                    open.cx.span().add_event_with_timestamp("waiting", at, attributes);
                    open.waiting = Some(waiting);
                }
            }
            SessionEvent::TaskDeclared { id, at: declared } => {
                if let Some(open) = self.open.get(&(self.session.epoch, *id)) {
                    open.cx.span().set_attributes(code_at(declared));
                }
            }
            // Polls one by one are a timeline's (`--perfetto`): a span carries its task's poll figures.
            SessionEvent::Log(_)
            | SessionEvent::RollCall { .. }
            | SessionEvent::ExecutorObserved(_)
            | SessionEvent::Polls(_) => {}
        }
        Ok(())
    }

    fn started(&mut self, at: SystemTime, epoch: u32, firmware: &FirmwareInfo) -> Result<(), TelemetryError> {
        self.end_all(at, "a new session epoch began (a reset, a restart, or a host attaching again)");
        if let Some(previous) = self.current.take() {
            previous.telemetry.shutdown();
        }
        self.spans.retain(|(e, _), _| *e == epoch);
        let words = format!("session started: {} (epoch {epoch})", firmware.name);
        self.log(at, (Severity::Info, "INFO"), "asyncmon.session", words, Vec::new(), None)
    }

    fn spawned(&mut self, at: SystemTime, task: &Task) -> Result<(), TelemetryError> {
        let key = (task.epoch, task.id);
        // A task announced again (a roll call, a resync) keeps its span.
        if self.open.contains_key(&key) {
            return Ok(());
        }
        let parent = match task.parent.map(|p| (task.epoch, p)) {
            Some(parent) => match (self.open.get(&parent), self.spans.get(&parent)) {
                (Some(open), _) => open.cx.clone(),
                (None, Some(span)) => Context::new().with_remote_span_context(span.clone()),
                (None, None) => Context::new(),
            },
            None => Context::new(),
        };
        let mut attributes = vec![
            kv("asyncmon.task.name", task.name.clone()),
            kv("asyncmon.task.id", i64::from(task.id)),
            kv("asyncmon.session.epoch", i64::from(task.epoch)),
        ];
        attributes.extend(code_at(&task.spawned_at));
        let tracer = &self.current()?.telemetry.tracer;
        let span = tracer
            .span_builder(task.name.clone())
            .with_kind(SpanKind::Internal)
            .with_start_time(at)
            .with_attributes(attributes)
            .start_with_context(tracer, &parent);
        let cx = Context::new().with_span(span);
        self.spans.insert(key, cx.span().span_context().clone());
        self.open.insert(key, OpenTask { cx, stats: task.stats, waiting: None });
        Ok(())
    }

    /// Ends a task's span at `at`, saying how the task ended.
    fn end(&mut self, at: SystemTime, key: Key, how: &str, failed: bool) {
        let Some(open) = self.open.remove(&key) else { return };
        let span = open.cx.span();
        span.set_attribute(kv("asyncmon.task.outcome", how.to_string()));
        if let Some(stats) = open.stats {
            span.set_attributes([
                kv("asyncmon.task.polls", i64::from(stats.polls)),
                kv("asyncmon.task.busy_us", stats.busy_us as i64),
                kv("asyncmon.task.max_poll_us", i64::from(stats.max_poll_us)),
            ]);
        }
        if failed {
            span.set_status(Status::error(how.to_string()));
        }
        span.end_with_timestamp(at);
    }

    fn end_all(&mut self, at: SystemTime, how: &str) {
        let keys: Vec<Key> = self.open.keys().copied().collect();
        for key in keys {
            self.end(at, key, how, false);
        }
    }

    /// The names from the root task down to task `key` ("main → supervisor → probe").
    fn spawn_chain(&self, (epoch, id): Key) -> String {
        let chain = self.session.spawn_chain(epoch, id);
        chain.iter().rev().map(|t| t.name.as_str()).collect::<Vec<_>>().join(" → ")
    }

    fn failure(&mut self, at: SystemTime, failure: &Failure) -> Result<(), TelemetryError> {
        let type_name = failure.exception.as_ref().map_or("panic", |e| e.type_name.as_str()).to_string();
        let message = failure.exception.as_ref().map_or(&failure.message, |e| &e.message).clone();
        let mut attributes = vec![
            kv("exception.type", type_name.clone()),
            kv("exception.message", message.clone()),
            kv("asyncmon.failure.path", path_word(failure.path)),
            kv("asyncmon.session.epoch", i64::from(failure.epoch)),
        ];
        if let Some(raised_at) = failure.exception.as_ref().and_then(|e| e.raised_at.as_ref()) {
            attributes.extend(code_at(raised_at));
        }
        let mut span = None;
        if let Some(task) = &failure.task {
            let key = (task.epoch, task.id);
            attributes.push(kv("asyncmon.task.name", task.name.clone()));
            attributes.push(kv("asyncmon.task.id", i64::from(task.id)));
            let chain = self.spawn_chain(key);
            attributes.push(kv(
                "asyncmon.task.spawn_chain",
                if chain.is_empty() { task.name.clone() } else { chain },
            ));
            span = self.spans.get(&key).cloned();
            if let Some(open) = self.open.get(&key) {
                let event =
                    vec![kv("exception.type", type_name.clone()), kv("exception.message", message.clone())];
                open.cx.span().add_event_with_timestamp("exception", at, event);
            }
        }
        let counted =
            [kv("exception.type", type_name.clone()), kv("asyncmon.failure.path", path_word(failure.path))];
        self.current()?.instruments.failures.add(1, &counted);
        let body = format!("{type_name}: {message}");
        self.log(at, severity(failure.path), "asyncmon.failure", body, attributes, span.as_ref())
    }

    fn target_state(&mut self, at: SystemTime, state: &TargetState) -> Result<(), TelemetryError> {
        let attached = u64::from(matches!(state, TargetState::Attached));
        self.current()?.instruments.attached.record(attached, &[]);
        let (words, severity) = match state {
            TargetState::Exited { description, .. } => {
                (format!("the firmware exited: {description}"), (Severity::Info, "INFO"))
            }
            TargetState::Halted { reason } => {
                (format!("the firmware halted: {reason}"), (Severity::Error, "ERROR"))
            }
            TargetState::Failed { reason } => {
                (format!("the target failed: {reason}"), (Severity::Error, "ERROR"))
            }
            TargetState::Starting | TargetState::WaitingForControlBlock | TargetState::Attached => {
                return Ok(())
            }
        };
        // Nothing runs any more: the tasks' spans end here.
        self.end_all(at, &words);
        self.log(at, severity, "asyncmon.target", words, Vec::new(), None)
    }

    fn task_stats(&mut self, id: u32, stats: &PollStats) -> Result<(), TelemetryError> {
        let Some(name) = self.session.task(id).map(|t| t.name.clone()) else { return Ok(()) };
        if let Some(open) = self.open.get_mut(&(self.session.epoch, id)) {
            open.stats = Some(*stats);
        }
        let task = [kv("asyncmon.task.name", name), kv("asyncmon.task.id", i64::from(id))];
        let instruments = &self.current()?.instruments;
        instruments.polls.record(u64::from(stats.polls), &task);
        instruments.busy.record(stats.busy_us, &task);
        instruments.max_poll.record(u64::from(stats.max_poll_us), &task);
        Ok(())
    }

    /// Adds what the link counted since `before`, the counters the session had.
    fn link_stats(&mut self, before: &LinkStats, stats: &LinkStats) -> Result<(), TelemetryError> {
        // The counters are the link's since it opened: a smaller one means a new link.
        let delta = |now: u64, before: u64| if now >= before { now - before } else { now };
        let (frames, lost, rejected) = (
            delta(stats.frames, before.frames),
            delta(stats.frames_lost_on_device, before.frames_lost_on_device),
            delta(stats.frames_rejected, before.frames_rejected),
        );
        let instruments = &self.current()?.instruments;
        instruments.frames.add(frames, &[]);
        instruments.frames_lost.add(lost, &[]);
        instruments.frames_rejected.add(rejected, &[]);
        Ok(())
    }

    fn log(
        &mut self,
        at: SystemTime,
        (severity, severity_text): (Severity, &'static str),
        event_name: &'static str,
        body: String,
        attributes: Vec<KeyValue>,
        span: Option<&SpanContext>,
    ) -> Result<(), TelemetryError> {
        let logger = &self.current()?.telemetry.logger;
        let mut record = logger.create_log_record();
        record.set_event_name(event_name);
        record.set_timestamp(at);
        record.set_observed_timestamp(SystemTime::now());
        record.set_severity_number(severity);
        record.set_severity_text(severity_text);
        record.set_body(AnyValue::from(body));
        record.add_attributes(attributes.into_iter().map(|kv| (kv.key, any_value(kv.value))));
        if let Some(span) = span {
            record.set_trace_context(span.trace_id(), span.span_id(), Some(span.trace_flags()));
        }
        logger.emit(record);
        Ok(())
    }

    /// Sends what is batched now.
    pub fn flush(&self) {
        if let Some(current) = &self.current {
            current.telemetry.flush();
        }
    }

    /// Ends what is still open at `at` (saying why) and sends everything batched.
    pub fn finish(mut self, at: SystemTime, why: &str) {
        self.end_all(at, why);
        if let Some(current) = self.current.take() {
            current.telemetry.shutdown();
        }
    }
}

#[cfg(test)]
mod tests;
