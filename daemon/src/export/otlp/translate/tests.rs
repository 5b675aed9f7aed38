use super::*;
use crate::export::fixtures::{started, task};
use crate::export::otlp::telemetry::memory::Memory;
use asyncmon_protocol::host::{Exception, LinkStats};
use opentelemetry::trace::{SpanId, Status};
use opentelemetry::Key;
use opentelemetry_sdk::trace::SpanData;
use std::time::{Duration, UNIX_EPOCH};

fn at(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000) + Duration::from_millis(ms)
}

fn translate(events: &[(u64, SessionEvent)]) -> Memory {
    let memory = Memory::default();
    let target = TargetDescription { backend: "qemu".into(), name: "mps2-an386: demo.elf".into() };
    let mut translator = Translator::new(Destination::Memory(memory.clone()), target, Arc::default());
    for (ms, event) in events {
        translator.event(at(*ms), event).unwrap();
    }
    translator.finish(at(1000), "still running when the export ended");
    memory
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a opentelemetry::Value> {
    attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| &kv.value)
}

fn span<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no span {name}: {spans:#?}"))
}

fn unretrieved(task: Task) -> Failure {
    Failure {
        seq: 1,
        epoch: 1,
        at_ms: 40,
        message: "Task exception was never retrieved".into(),
        exception: Some(Exception {
            type_name: "SensorTimeout".into(),
            message: "sensor 3 did not answer".into(),
            raised_at: Some(Location { file: "src/probe.rs".into(), line: 12, column: 9 }),
        }),
        task: Some(task),
        path: FailurePath::Unretrieved,
    }
}

#[test]
fn the_spawn_tree_is_one_trace_and_a_failure_is_a_log_record_in_its_task_trace() {
    let memory = translate(&[
        (0, started(1)),
        (10, SessionEvent::TaskSpawned(task(1, 1, "main", None))),
        (20, SessionEvent::TaskSpawned(task(1, 2, "supervisor", Some(1)))),
        (30, SessionEvent::TaskSpawned(task(1, 3, "probe", Some(2)))),
        (40, SessionEvent::TaskFinished { id: 3, outcome: TaskOutcome::Failed }),
        // Unretrieved: the handler gets it after the task ended.
        (45, SessionEvent::Failure(unretrieved(task(1, 3, "probe", Some(2))))),
        (50, SessionEvent::TaskFinished { id: 2, outcome: TaskOutcome::Cancelled }),
    ]);
    let spans = memory.spans.finished();
    let (main, supervisor, probe) = (span(&spans, "main"), span(&spans, "supervisor"), span(&spans, "probe"));
    assert_eq!(main.parent_span_id, SpanId::INVALID, "main is the trace's root");
    assert_eq!(supervisor.parent_span_id, main.span_context.span_id());
    assert_eq!(probe.parent_span_id, supervisor.span_context.span_id());
    assert_eq!(probe.span_context.trace_id(), main.span_context.trace_id(), "one trace");
    assert_eq!((probe.start_time, probe.end_time), (at(30), at(40)));
    assert_eq!(probe.status, Status::error("failed"));
    assert_eq!(supervisor.status, Status::Unset, "a cancellation is no error");
    assert_eq!(attribute(&probe.attributes, "asyncmon.task.outcome").unwrap().as_str(), "failed");
    assert_eq!(attribute(&probe.attributes, "code.lineno").unwrap(), &opentelemetry::Value::I64(13));
    assert_eq!(
        attribute(&main.attributes, "asyncmon.task.outcome").unwrap().as_str(),
        "still running when the export ended"
    );

    let logs = memory.logs.emitted();
    let failure = logs.iter().find(|l| l.0.event_name() == Some("asyncmon.failure")).unwrap();
    let record = &failure.0;
    assert_eq!(record.severity_number(), Some(Severity::Error));
    assert_eq!(record.timestamp(), Some(at(45)));
    let get = |key: &str| {
        record
            .attributes_iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| format!("{v:?}"))
            .unwrap_or_default()
    };
    assert!(get("exception.type").contains("SensorTimeout"));
    assert!(get("exception.message").contains("sensor 3 did not answer"));
    assert!(get("code.filepath").contains("src/probe.rs") && get("code.lineno").contains("12"));
    assert!(
        get("asyncmon.task.spawn_chain").contains("main → supervisor → probe"),
        "{}",
        get("asyncmon.task.spawn_chain")
    );
    assert!(get("asyncmon.failure.path").contains("never_retrieved"));
    let context = record.trace_context().expect("the failure is in its task's trace");
    assert_eq!(
        (context.trace_id, context.span_id),
        (probe.span_context.trace_id(), probe.span_context.span_id())
    );
    // The resource is the firmware, the target and the epoch.
    let resource = &failure.1;
    assert_eq!(resource.get(&Key::new("service.name")).unwrap().as_str(), "demo");
    assert_eq!(resource.get(&Key::new("asyncmon.firmware.build_id")).unwrap().as_str(), "b1");
    assert_eq!(resource.get(&Key::new("service.version")).unwrap().as_str(), "b1");
    assert_eq!(resource.get(&Key::new("asyncmon.session.epoch")), Some(opentelemetry::Value::I64(1)));
    assert_eq!(resource.get(&Key::new("asyncmon.target.name")).unwrap().as_str(), "mps2-an386: demo.elf");
}

#[test]
fn a_new_epoch_ends_the_old_spans_and_exports_under_a_resource_of_its_own() {
    let memory = translate(&[
        (0, started(1)),
        (5, SessionEvent::TaskSpawned(task(1, 1, "main", None))),
        (6, SessionEvent::TaskSpawned(task(1, 1, "main", None))), // announced again: one span
        (50, started(2)),
        (55, SessionEvent::TaskSpawned(task(2, 1, "main", None))),
        (60, SessionEvent::TaskFinished { id: 1, outcome: TaskOutcome::Completed }),
    ]);
    let spans = memory.spans.finished();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let old = spans.iter().find(|s| s.start_time == at(5)).unwrap();
    assert_eq!(old.end_time, at(50));
    assert!(attribute(&old.attributes, "asyncmon.task.outcome")
        .unwrap()
        .as_str()
        .contains("new session epoch"));
    let logs = memory.logs.emitted();
    let epochs: Vec<Option<opentelemetry::Value>> =
        logs.iter().map(|l| l.1.get(&Key::new("asyncmon.session.epoch"))).collect();
    assert_eq!(epochs, [Some(opentelemetry::Value::I64(1)), Some(opentelemetry::Value::I64(2))]);
}

#[test]
fn poll_figures_and_link_counters_are_metrics_and_the_last_figures_are_on_the_span() {
    let stats = PollStats { polls: 7, busy_us: 1500, max_poll_us: 900, ..PollStats::default() };
    let link = |frames, lost| LinkStats { frames, frames_lost_on_device: lost, ..LinkStats::default() };
    let memory = translate(&[
        (0, started(1)),
        (5, SessionEvent::TaskSpawned(task(1, 1, "main", None))),
        (10, SessionEvent::TaskStats { id: 1, stats }),
        (11, SessionEvent::Stats(link(100, 2))),
        (12, SessionEvent::Stats(link(150, 5))),
        (13, SessionEvent::TargetState(TargetState::Attached)),
        (20, SessionEvent::TaskFinished { id: 1, outcome: TaskOutcome::Completed }),
    ]);
    let main = memory.spans.finished().remove(0);
    assert_eq!(attribute(&main.attributes, "asyncmon.task.polls"), Some(&opentelemetry::Value::I64(7)));
    assert_eq!(
        attribute(&main.attributes, "asyncmon.task.max_poll_us"),
        Some(&opentelemetry::Value::I64(900))
    );
    let metrics = memory.metrics.get_finished_metrics().unwrap();
    let all: Vec<&opentelemetry_sdk::metrics::data::Metric> =
        metrics.iter().flat_map(|r| r.scope_metrics()).flat_map(|s| s.metrics()).collect();
    let named = |name: &str| {
        format!(
            "{:?}",
            all.iter().find(|m| m.name() == name).unwrap_or_else(|| panic!("no metric {name}")).data()
        )
    };
    assert!(named("asyncmon.task.polls").contains("value: 7"), "{}", named("asyncmon.task.polls"));
    assert!(named("asyncmon.task.polls").contains("\"main\""));
    // Counters add what is new: 150 frames in all, 5 lost.
    assert!(named("asyncmon.link.frames").contains("value: 150"), "{}", named("asyncmon.link.frames"));
    assert!(named("asyncmon.link.frames_lost").contains("value: 5"));
    assert!(named("asyncmon.link.attached").contains("value: 1"));
}

#[test]
fn a_halted_target_ends_its_tasks_spans_and_says_why_in_an_error_record() {
    let memory = translate(&[
        (0, started(1)),
        (5, SessionEvent::TaskSpawned(task(1, 1, "main", None))),
        (30, SessionEvent::TargetState(TargetState::Halted { reason: "panic in faulty".into() })),
    ]);
    let main = memory.spans.finished().remove(0);
    assert_eq!(main.end_time, at(30));
    assert_eq!(
        attribute(&main.attributes, "asyncmon.task.outcome").unwrap().as_str(),
        "the firmware halted: panic in faulty"
    );
    let logs = memory.logs.emitted();
    let halted = logs.iter().find(|l| l.0.event_name() == Some("asyncmon.target")).unwrap();
    assert_eq!(halted.0.severity_number(), Some(Severity::Error));
}
