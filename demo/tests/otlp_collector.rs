//! The OTLP export against a real collector (rotel, `bash .ci/install-otel-collector`), where a
//! farm meets it: the demo's failures arrive as log records in their tasks' traces, its spawn tree
//! as spans with their parents, its poll figures and link counters as metrics, each target under a
//! resource of its own; and a collector that goes away mid-session changes nothing for the targets.

mod support;

use asyncmon_daemon::backend::sim::SimConfig;
use asyncmon_daemon::daemon::TargetConfig;
use asyncmon_daemon::export::otlp::{OtlpConfig, Protocol};
use asyncmon_protocol::host::{ClientRequest, FailurePath, TargetState};
use std::collections::BTreeSet;
use std::time::Duration;
use support::collector::{parse, Collector, Record};
use support::Harness;

fn of_kind<'a>(records: &'a [Record], kind: &str) -> impl Iterator<Item = &'a Record> {
    let kind = kind.to_string();
    records.iter().filter(move |r| r.kind == kind)
}

fn failures(records: &[Record]) -> Vec<&Record> {
    of_kind(records, "LogRecord").filter(|r| r.get("EventName") == Some("asyncmon.failure")).collect()
}

fn span<'a>(records: &'a [Record], name: &str) -> Option<&'a Record> {
    of_kind(records, "Span").find(|r| r.get("Name") == Some(name))
}

fn metric_names(records: &[Record]) -> BTreeSet<String> {
    of_kind(records, "Metric").filter_map(|r| r.get("Name")).map(str::to_string).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demos_failures_spawn_tree_and_poll_figures_arrive_at_a_real_collector() {
    let collector = Collector::start();
    let otlp = OtlpConfig::new(&collector.http, Protocol::HttpProtobuf).unwrap();
    let sim = SimConfig::new(support::firmware(), vec!["demo".into()]);
    let mut h = Harness::serve_with(vec![TargetConfig::Sim(sim)], None, Some(otlp)).await;
    h.until("an unretrieved failure", Duration::from_secs(20), |s| {
        s.failures.iter().any(|f| f.path == FailurePath::Unretrieved)
    })
    .await;
    h.client.request(&ClientRequest::Stop).await.unwrap();
    h.until("the exit", Duration::from_secs(10), |s| matches!(s.target_state, TargetState::Exited { .. }))
        .await;
    // The daemon's end sends what is batched: spans of tasks still open end there.
    let Harness { daemon, .. } = h;
    tokio::task::block_in_place(|| daemon.shutdown());

    let records = collector
        .wait_for("the failure, the spans and the metrics", Duration::from_secs(15), |r| {
            !failures(r).is_empty()
                && span(r, "main").is_some()
                && metric_names(r).contains("asyncmon.link.frames")
        })
        .await;

    // The failure nobody retrieved: a log record with OpenTelemetry's exception and code attributes.
    let failure = *failures(&records)
        .iter()
        .find(|r| r.get("asyncmon.failure.path") == Some("never_retrieved"))
        .expect("the unretrieved failure");
    assert_eq!(failure.get("SeverityText"), Some("ERROR"));
    assert_eq!(failure.get("exception.type"), Some("asyncmon_demo::demo::SensorError"));
    assert!(failure.get("exception.message").unwrap().starts_with("sensor poll #"), "{failure:#?}");
    assert!(failure.get("code.filepath").unwrap().ends_with("demo/src/demo.rs"), "{failure:#?}");
    assert!(failure.get("code.lineno").unwrap().parse::<u32>().unwrap() > 0);
    assert_eq!(failure.get("asyncmon.task.name"), Some("sensor_poll"));
    assert_eq!(failure.get("asyncmon.task.spawn_chain"), Some("main → telemetry → sensor_poll"));
    assert_eq!(failure.resource("service.name"), Some("asyncmon-demo"));
    assert_eq!(failure.resource("service.version"), Some(env!("CARGO_PKG_VERSION")));
    assert_eq!(failure.resource("asyncmon.target.backend"), Some("sim"));
    assert_eq!(failure.resource("asyncmon.session.epoch"), Some("1"));
    // The awaited and the gathered failures are there too, as warnings.
    let paths: BTreeSet<&str> =
        failures(&records).iter().filter_map(|r| r.get("asyncmon.failure.path")).collect();
    assert!(paths.contains("awaited") && paths.contains("gathered"), "{paths:?}");

    // The spawn tree is one trace: main is its root, every other span's parent is a span of it.
    let main = span(&records, "main").unwrap();
    assert_eq!(main.get("Parent ID"), Some(""), "{main:#?}");
    let telemetry = span(&records, "telemetry").expect("telemetry's span");
    assert_eq!(telemetry.get("Parent ID"), main.get("ID"));
    let ids: BTreeSet<&str> = of_kind(&records, "Span").filter_map(|r| r.get("ID")).collect();
    for s in of_kind(&records, "Span").filter(|s| s.get("Name") != Some("main")) {
        assert!(ids.contains(s.get("Parent ID").unwrap()), "a span whose parent never arrived: {s:#?}");
        assert_eq!(s.get("Trace ID"), main.get("Trace ID"));
    }
    // The failure is in its task's trace, on its task's span.
    let failed = of_kind(&records, "Span")
        .find(|s| s.get("ID") == failure.get("Span ID"))
        .expect("the failure's span arrived");
    assert_eq!(failed.get("Name"), Some("sensor_poll"));
    assert_eq!(failed.get("Status code"), Some("STATUS_CODE_ERROR"));
    assert_eq!(failed.get("asyncmon.task.outcome"), Some("failed"));
    // The stop.
    let stop = of_kind(&records, "LogRecord").find(|r| r.get("EventName") == Some("asyncmon.stop")).unwrap();
    assert!(stop.get("Body").unwrap().starts_with("KeyboardInterrupt"), "{stop:#?}");

    let names = metric_names(&records);
    for name in
        ["asyncmon.link.frames", "asyncmon.link.frames_lost", "asyncmon.failures", "asyncmon.task.polls"]
    {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
    let polls = of_kind(&records, "Metric").find(|r| r.get("Name") == Some("asyncmon.task.polls")).unwrap();
    assert!(polls.get("asyncmon.task.name").is_some(), "poll figures are per task: {polls:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_qemu_boards_are_two_resources_and_a_collector_killed_mid_session_changes_nothing_for_them() {
    let mut collector = Collector::start();
    let otlp = OtlpConfig::new(&collector.grpc, Protocol::Grpc).unwrap();
    let boards = vec![
        TargetConfig::Qemu(support::boards::demo_on("mps2-an386", "mps2-an386")),
        TargetConfig::Qemu(support::boards::demo_on("microbit", "microbit")),
    ];
    let mut h = Harness::serve_with(boards, None, Some(otlp)).await;
    let unretrieved = |r: &Record| r.get("asyncmon.failure.path") == Some("never_retrieved");
    let targets = |records: Vec<&Record>| -> BTreeSet<String> {
        records.iter().filter_map(|r| r.resource("asyncmon.target.name")).map(str::to_string).collect()
    };
    // Each board's unretrieved failure and its ended tasks' spans, each board its own resource.
    let records = collector
        .wait_for("both boards' failures and spans", Duration::from_secs(40), |r| {
            targets(failures(r).into_iter().filter(|f| unretrieved(f)).collect()).len() == 2
                && targets(of_kind(r, "Span").collect()).len() == 2
        })
        .await;
    let failure = failures(&records).into_iter().find(|f| unretrieved(f)).unwrap();
    assert_eq!(failure.get("exception.type"), Some("asyncmon_demo::demo::SensorError"));
    assert_eq!(failure.resource("asyncmon.target.backend"), Some("qemu"));
    assert_eq!(failure.get("asyncmon.task.spawn_chain"), Some("main → telemetry → sensor_poll"));

    // The collector goes away; the boards go on, and a stop reaches each as before.
    collector.kill();
    tokio::time::sleep(Duration::from_secs(1)).await;
    h.client.request(&ClientRequest::StopTarget { target: 1, hard: false }).await.unwrap();
    h.client.request(&ClientRequest::Stop).await.unwrap();
    h.until("board 0's KeyboardInterrupt and exit", Duration::from_secs(15), |s| {
        s.interrupt.is_some() && matches!(s.target_state, TargetState::Exited { .. })
    })
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let board1 = h.daemon.hubs[1].snapshot();
        if board1.interrupt.is_some() && matches!(board1.target_state, TargetState::Exited { .. }) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "board 1 did not stop: {board1:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Nothing of the export's trouble reaches the session.
    for hub in &h.daemon.hubs {
        let problems = hub.snapshot().problems;
        assert!(problems.iter().all(|p| !p.text.contains("OTLP")), "{problems:#?}");
    }
    let Harness { daemon, .. } = h;
    tokio::task::block_in_place(|| daemon.shutdown());
}
#[test]
fn the_collector_log_is_read_as_records_with_their_resource() {
    let log = "Resource attributes:\n     -> service.name: Str(demo)\nScopeLogs #0\nLogRecord #0\n\
               EventName: asyncmon.failure\nAttributes:\n     -> code.lineno: Int(12)\n    Span ID        : ab\n";
    let records = parse(log);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].kind, "LogRecord");
    assert_eq!(records[0].get("EventName"), Some("asyncmon.failure"));
    assert_eq!(records[0].get("code.lineno"), Some("12"));
    assert_eq!(records[0].get("Span ID"), Some("ab"));
    assert_eq!(records[0].resource("service.name"), Some("demo"));
}
