//! `asyncmon export FILE --perfetto OUT` on a recording of the demo: the trace it writes is read
//! back as ui.perfetto.dev reads it (the JSON trace event format) — a track per task, the tasks'
//! lives as slices (each poll a slice inside its task's life), the unretrieved failures on their tasks' tracks, the stop on the session's.
//! `asyncmon export FILE --otlp URL` sends the same recording to a real collector (rotel).

#[path = "../../demo/tests/support/collector.rs"]
mod collector;

use asyncmon_daemon::backend::sim::SimConfig;
use asyncmon_daemon::daemon::{self, DaemonConfig, TargetConfig};
use asyncmon_protocol::host::{FailurePath, TargetState};
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

const ASYNCMON: &str = env!("CARGO_BIN_EXE_asyncmon");

/// Records the demo on the simulated board until its second unretrieved failure, then stops it
/// with `asyncmon stop`; returns the recording's path.
async fn record_demo(dir: &std::path::Path) -> std::path::PathBuf {
    let (socket, file) = (dir.join("d.sock"), dir.join("demo.asyncmon"));
    let sim = SimConfig::new(ASYNCMON, vec!["__device".into(), "demo".into()]);
    let running = daemon::start(DaemonConfig {
        socket: socket.clone(),
        targets: vec![TargetConfig::Sim(sim)],
        record: Some(file.clone()),
        ..Default::default()
    })
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while running.hub.snapshot().failures.iter().filter(|f| f.path == FailurePath::Unretrieved).count() < 2 {
        assert!(Instant::now() < deadline, "the demo's failures did not come: {:#?}", running.hub.snapshot());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stop = {
        let socket = socket.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(ASYNCMON).args(["stop", "--socket"]).arg(&socket).output()
        })
    };
    assert!(stop.await.unwrap().unwrap().status.success());
    while !matches!(running.hub.snapshot().target_state, TargetState::Exited { .. }) {
        assert!(Instant::now() < deadline, "the firmware did not exit");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::task::block_in_place(|| running.shutdown());
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_demo_exports_as_a_timeline_with_a_track_per_task() {
    let dir = tempfile::tempdir().unwrap();
    let file = record_demo(dir.path()).await;
    let out = dir.path().join("trace.json");
    let export =
        Command::new(ASYNCMON).arg("export").arg(&file).arg("--perfetto").arg(&out).output().unwrap();
    let said = String::from_utf8_lossy(&export.stdout);
    assert!(export.status.success(), "{said}{}", String::from_utf8_lossy(&export.stderr));
    assert!(
        said.contains("open it in ui.perfetto.dev or Chrome DevTools' Performance panel (Load profile)"),
        "{said}"
    );

    let trace: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    let track = |task: &str| {
        events
            .iter()
            .find(|e| {
                e["name"] == "thread_name"
                    && e["args"]["name"].as_str().unwrap().starts_with(&format!("{task} (task "))
            })
            .unwrap_or_else(|| panic!("no track for {task}"))["tid"]
            .as_u64()
            .unwrap()
    };
    // Each task's life is a slice on its track, saying how it ended: the stop cancelled telemetry.
    let telemetry = track("telemetry");
    let slices: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X" && e["tid"] == telemetry).collect();
    let life = slices.iter().find(|e| e["name"] == "telemetry").expect("telemetry's slice");
    assert_eq!(life["args"]["ended"], "cancelled", "{life}");
    assert!(life["dur"].as_u64().unwrap() > 0, "{life}");
    // The demo sends every poll (`poll-trace`): each is a slice inside its task's life.
    let (from, to) =
        (life["ts"].as_f64().unwrap(), life["ts"].as_f64().unwrap() + life["dur"].as_f64().unwrap());
    let polls: Vec<&&Value> = slices.iter().filter(|e| e["name"] == "poll").collect();
    assert!(!polls.is_empty(), "telemetry's polls: {slices:#?}");
    for poll in polls {
        let (start, end) =
            (poll["ts"].as_f64().unwrap(), poll["ts"].as_f64().unwrap() + poll["dur"].as_f64().unwrap());
        assert!(from <= start && end <= to, "a poll {start}..{end} outside telemetry's life {from}..{to}");
    }
    // The unretrieved failures are on their tasks' tracks, with the path they took.
    let failures: Vec<&Value> = events
        .iter()
        .filter(|e| e["ph"] == "i" && e["name"].as_str().unwrap().starts_with("failure: "))
        .filter(|e| e["args"]["path"].as_str().unwrap().starts_with("never retrieved"))
        .collect();
    assert!(failures.len() >= 2, "{failures:#?}");
    assert!(failures.iter().all(|f| f["tid"] != 0), "on a task's track: {failures:#?}");
    // The stop, on the session's track.
    let stop = events.iter().find(|e| e["name"] == "stop: KeyboardInterrupt").expect("the stop");
    assert_eq!(stop["tid"], 0);
    assert!(stop["args"]["summary"].as_str().unwrap().contains("telemetry"), "{stop}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_demo_sent_to_a_collector_arrives_at_its_recorded_times() {
    let dir = tempfile::tempdir().unwrap();
    let file = record_demo(dir.path()).await;
    let recorded_at = std::fs::metadata(&file).unwrap().modified().unwrap();
    let collector = collector::Collector::start();
    let export = Command::new(ASYNCMON)
        .arg("export")
        .arg(&file)
        .args(["--otlp", &collector.grpc, "--otlp-protocol", "grpc"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&export.stdout);
    assert!(export.status.success(), "{said}{}", String::from_utf8_lossy(&export.stderr));
    assert!(said.contains(&format!("recorded events to {}", collector.grpc)), "{said}");
    let unretrieved = |r: &collector::Record| r.get("asyncmon.failure.path") == Some("never_retrieved");
    let records = collector
        .wait_for("an unretrieved failure and main's span", Duration::from_secs(10), |records| {
            records.iter().any(unretrieved) && records.iter().any(|r| r.get("Name") == Some("main"))
        })
        .await;
    let failure = records.iter().find(|r| unretrieved(r)).unwrap();
    assert_eq!(failure.get("asyncmon.task.spawn_chain"), Some("main → telemetry → sensor_poll"));
    assert_eq!(failure.resource("asyncmon.target.backend"), Some("sim"));
    // At the time it was recorded, not the time it was sent.
    let at = std::time::UNIX_EPOCH + Duration::from_nanos(failure.get("Timestamp").unwrap().parse().unwrap());
    let age = recorded_at.duration_since(at).expect("stamped before the recording was written");
    assert!(age < Duration::from_secs(60), "{age:?}");
    let main =
        records.iter().find(|r| r.kind == "Span" && r.get("Name") == Some("main")).expect("main's span");
    assert_eq!(main.get("asyncmon.task.outcome"), Some("cancelled"), "the stop cancelled main: {main:#?}");
}

#[test]
fn an_export_to_a_collector_url_it_cannot_use_says_what_to_give() {
    let out = Command::new(ASYNCMON)
        .args(["export", "any.asyncmon", "--otlp", "https://collector:4318"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("https is not built in"), "{stderr}");
}

#[test]
fn an_export_without_a_format_or_of_a_file_that_is_not_a_recording_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "hi").unwrap();
    let out = Command::new(ASYNCMON).arg("export").arg(&notes).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--perfetto"), "{out:?}");
    let out = Command::new(ASYNCMON).arg("export").arg(&notes).args(["--perfetto", "-"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a recording asyncmon can read"), "{stderr}");
}

#[test]
fn a_live_session_writes_its_timeline_when_it_is_stopped() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let (socket, out) = (dir.path().join("d.sock"), dir.path().join("live.json"));
    let mut demo = Command::new(ASYNCMON)
        .args(["demo", "--plain", "--socket"])
        .arg(&socket)
        .arg("--perfetto")
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(demo.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.contains("sensor poll #")) {
        let line = lines.next().expect("the demo printed its failure").unwrap();
        seen.push(line);
    }
    assert!(!out.exists(), "written when the session ends, not before");
    let stop = Command::new(ASYNCMON).args(["stop", "--socket"]).arg(&socket).output().unwrap();
    assert!(stop.status.success(), "{stop:?}");
    for line in lines.by_ref() {
        drop(line);
    }
    let status = demo.wait().unwrap();
    assert_eq!(status.code(), Some(130), "KeyboardInterrupt's exit code");

    let trace: Value =
        serde_json::from_slice(&std::fs::read(&out).expect("the timeline was written")).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    assert!(events.iter().any(|e| e["name"] == "stop: KeyboardInterrupt"), "the stop is on it");
    let ended: Vec<&str> =
        events.iter().filter(|e| e["ph"] == "X").filter_map(|e| e["args"]["ended"].as_str()).collect();
    assert!(ended.contains(&"cancelled"), "the stop cancelled the tasks: {ended:?}");
    let exit = events.iter().find(|e| e["name"].as_str().is_some_and(|n| n.starts_with("exited"))).unwrap();
    assert_eq!(exit["tid"], 0, "the exit is on the session's track: {exit}");
}
