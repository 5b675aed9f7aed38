//! Record a demo session, replay it, and see the same session: the same tasks, failures, firmware
//! and shutdown. A replay has no firmware to stop, and says so.

mod support;

use asyncmon_daemon::backend::replay::ReplayConfig;
use asyncmon_daemon::backend::sim::SimConfig;
use asyncmon_daemon::daemon::TargetConfig;
use asyncmon_protocol::host::recording::RecordingReader;
use asyncmon_protocol::host::{
    AwaitTraces, ClientRequest, FailurePath, SessionEvent, SessionState, TargetState,
};
use std::time::Duration;
use support::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_demo_replays_as_the_same_session() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("demo.asyncmon");
    let sim = SimConfig::new(support::firmware(), vec!["demo".into()]);
    let mut live = Harness::serve(TargetConfig::Sim(sim), Some(file.clone())).await;
    live.until("two unretrieved failures", Duration::from_secs(20), |s| {
        s.failures.iter().filter(|f| f.path == FailurePath::Unretrieved).count() >= 2
    })
    .await;
    let telemetry = |s: &SessionState| s.tasks.iter().rev().find(|t| t.name == "telemetry").map(|t| t.id);
    live.until("telemetry's await trace", Duration::from_secs(10), |s| {
        telemetry(s).is_some_and(|id| s.trace(id).is_some())
    })
    .await;
    live.client.request(&ClientRequest::Stop).await.unwrap();
    live.until("the exit", Duration::from_secs(10), |s| {
        s.interrupt.is_some() && matches!(s.target_state, TargetState::Exited { .. })
    })
    .await;
    // Let the firmware's last output lines arrive, then end the live session.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let support::Harness { daemon, .. } = live;
    let original = daemon.hub.snapshot();
    tokio::task::block_in_place(|| daemon.shutdown());

    // The recording kept the await traces read during the session: telemetry waiting in the demo.
    let recorded = recorded_traces(&file);
    let id = telemetry(&original).unwrap();
    let trace = recorded.iter().find_map(|t| t.task(id)).expect("telemetry's trace was recorded");
    assert!(trace.frames[0].function.ends_with("demo::telemetry"), "{trace:?}");
    assert!(trace.frames[0].location.as_ref().unwrap().file.ends_with("demo/src/demo.rs"), "{trace:?}");

    let mut replay = Harness::serve(TargetConfig::Replay(ReplayConfig { file, fast: true }), None).await;
    replay
        .until("the replay to reach the exit", Duration::from_secs(10), |s| {
            matches!(s.target_state, TargetState::Exited { .. }) && s.logs.len() == original.logs.len()
        })
        .await;
    let replayed = replay.daemon.hub.snapshot();
    assert_eq!(replayed.target.backend, "replay");
    assert!(replayed.target.name.starts_with("recording of sim: "), "{}", replayed.target.name);
    assert_eq!(replayed.firmware, original.firmware, "the firmware and its build id");
    assert_eq!(replayed.tasks, original.tasks);
    assert_eq!(replayed.failures, original.failures);
    assert_eq!(replayed.interrupt, original.interrupt);
    assert_eq!(replayed.target_state, original.target_state);
    assert_eq!(replayed.logs, original.logs);

    // Asked for traces, the replay answers with the last ones it played.
    replay.client.request(&ClientRequest::RefreshTraces { target: 0 }).await.unwrap();
    let traces = loop {
        if let SessionEvent::AwaitTraces(traces) = replay.next_event(Duration::from_secs(5)).await {
            break traces;
        }
    };
    assert_eq!(Some(&traces), recorded.last());

    // Stopping a replay is refused in words.
    replay.client.request(&ClientRequest::Stop).await.unwrap();
    let reason = replay.refusal(Duration::from_secs(5)).await;
    assert!(reason.contains("replay of a recording: there is no firmware to stop"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_not_a_recording_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "shopping list").unwrap();
    let config = asyncmon_daemon::daemon::DaemonConfig {
        socket: dir.path().join("d.sock"),
        targets: vec![TargetConfig::Replay(ReplayConfig { file, fast: true })],
        record: None,
        ..Default::default()
    };
    let err = asyncmon_daemon::daemon::start(config).err().expect("refused");
    assert!(err.to_string().contains("not an asyncmon recording"), "{err}");
    assert!(!dir.path().join("d.sock").exists(), "nothing was started");
}

/// Every set of await traces in the recording `file`, in order.
fn recorded_traces(file: &std::path::Path) -> Vec<AwaitTraces> {
    let mut reader =
        RecordingReader::new(std::io::BufReader::new(std::fs::File::open(file).unwrap())).unwrap();
    let mut traces = Vec::new();
    while let Some(recorded) = reader.next_event().unwrap() {
        if let SessionEvent::AwaitTraces(t) = recorded.event {
            traces.push(t);
        }
    }
    traces
}
