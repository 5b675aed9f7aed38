//! One daemon, two boards (here two simulated ones, as a radio pair would be two boards on two
//! probes): each has its own session; a client picks one by number or watches all; a stop reaches
//! only the board it names.

mod support;

use asyncmon_daemon::backend::sim::SimConfig;
use asyncmon_daemon::client::Client;
use asyncmon_daemon::daemon::{self, DaemonConfig, TargetConfig};
use asyncmon_protocol::host::{ClientRequest, FailurePath, ServerMessage, SessionState, TargetState};
use std::collections::BTreeMap;
use std::time::Duration;

fn demo() -> TargetConfig {
    TargetConfig::Sim(SimConfig::new(support::firmware(), vec!["demo".into()]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_targets_have_their_own_sessions_and_a_stop_reaches_only_one() {
    let dir = tempfile::tempdir().unwrap();
    let running = daemon::start(DaemonConfig {
        socket: dir.path().join("d.sock"),
        targets: vec![demo(), demo()],
        record: None,
        ..Default::default()
    })
    .unwrap();

    // A client that watches everything.
    let mut all = Client::connect(&running.socket, "watch all").await.unwrap();
    assert_eq!(all.targets.len(), 2);
    all.request(&ClientRequest::SubscribeAll).await.unwrap();

    // A client that watches target 1 stops it.
    let mut one = Client::connect(&running.socket, "target 1").await.unwrap();
    one.request(&ClientRequest::SubscribeTarget { target: 1 }).await.unwrap();
    let mut session_one: Option<SessionState> = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !session_one.as_ref().is_some_and(|s| s.failures.iter().any(|f| f.path == FailurePath::Unretrieved))
    {
        match tokio::time::timeout_at(deadline, one.recv())
            .await
            .expect("target 1's failure")
            .unwrap()
            .unwrap()
        {
            ServerMessage::Snapshot(s) => session_one = Some(*s),
            ServerMessage::Event(e) => session_one.as_mut().unwrap().apply(&e),
            _ => {}
        }
    }
    one.request(&ClientRequest::StopTarget { target: 1, hard: false }).await.unwrap();

    // The watch-all client sees both sessions, tagged, and target 1 (only) ending.
    let mut sessions: BTreeMap<u32, SessionState> = BTreeMap::new();
    let done = |s: &BTreeMap<u32, SessionState>| {
        s.get(&1).is_some_and(|t| matches!(t.target_state, TargetState::Exited { code: Some(130), .. }))
            && s.get(&0).is_some_and(|t| t.failures.iter().any(|f| f.path == FailurePath::Unretrieved))
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done(&sessions) {
        match tokio::time::timeout_at(deadline, all.recv()).await.expect("both sessions").unwrap().unwrap() {
            ServerMessage::TargetSnapshot { target, snapshot } => {
                sessions.insert(target, *snapshot);
            }
            ServerMessage::TargetEvent { target, event } => sessions.get_mut(&target).unwrap().apply(&event),
            other => panic!("a watch-all client gets tagged messages, not {other:?}"),
        }
    }
    assert_eq!(sessions[&0].target_state, TargetState::Attached, "target 0 was not stopped");
    assert!(sessions[&1].interrupt.is_some());
    assert!(sessions[&0].interrupt.is_none());
    assert_eq!(running.hubs.len(), 2);

    // A target number that does not exist is refused in words.
    one.request(&ClientRequest::StopTarget { target: 7, hard: false }).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        if let ServerMessage::Refused { reason } =
            tokio::time::timeout_at(deadline, one.recv()).await.unwrap().unwrap().unwrap()
        {
            assert_eq!(reason, "this asyncmond has 2 target(s); there is no target 7");
            break;
        }
    }
    tokio::task::block_in_place(|| running.shutdown());
}
