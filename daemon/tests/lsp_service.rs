//! The language server driven through its `tower::Service`, against a real daemon whose session
//! gets failures: diagnostics at the raising line, a file outside the workspace, a burst grouped
//! into one, a reset, hover, clearing by hand, and the stop command reaching the daemon.

use asyncmon_daemon::backend::sim::SimConfig;
use asyncmon_daemon::daemon::{self, DaemonConfig, TargetConfig};
use asyncmon_daemon::lsp::Backend;
use asyncmon_protocol::host::*;
use futures::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;
use tower::{Service, ServiceExt};
use tower_lsp_server::jsonrpc::Request;
use tower_lsp_server::{ClientSocket, LspService};

struct Fixture {
    workspace: tempfile::TempDir,
    _sockets: tempfile::TempDir,
    daemon: asyncmon_daemon::daemon::RunningDaemon,
    service: LspService<Backend>,
    socket: ClientSocket,
    next_id: i64,
}

fn location(file: &str, line: u32) -> Location {
    Location { file: file.into(), line, column: 5 }
}

fn failure(seq: u64, file: &str, line: u32) -> SessionEvent {
    failure_saying(seq, file, line, &format!("sensor poll #{seq} timed out"))
}

fn failure_saying(seq: u64, file: &str, line: u32, message: &str) -> SessionEvent {
    SessionEvent::Failure(Failure {
        seq,
        epoch: 1,
        at_ms: seq,
        message: "Task exception was never retrieved".into(),
        exception: Some(Exception {
            type_name: "app::SensorError".into(),
            message: message.into(),
            raised_at: Some(location(file, line)),
        }),
        task: None,
        path: FailurePath::Unretrieved,
    })
}

fn hello(epoch: u32) -> SessionEvent {
    SessionEvent::SessionStarted {
        epoch,
        firmware: FirmwareInfo { name: "app".into(), build_id: "1".into(), protocol_version: 1 },
    }
}

impl Fixture {
    async fn start() -> Fixture {
        let workspace = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(workspace.path().join("src")).unwrap();
        std::fs::write(workspace.path().join("src/sensor.rs"), "fn poll() {}\n").unwrap();
        let sockets = tempfile::tempdir().unwrap();
        // A target that never attaches: the test publishes the session's events itself.
        let mut sim = SimConfig::new("/bin/sleep", vec!["600".into()]);
        sim.attach_timeout = Duration::from_secs(600);
        let daemon = daemon::start(DaemonConfig {
            socket: sockets.path().join("d.sock"),
            targets: vec![TargetConfig::Sim(sim)],
            record: None,
            ..Default::default()
        })
        .unwrap();
        let program = std::path::PathBuf::from(env!("CARGO_BIN_EXE_asyncmond"));
        let socket_path = daemon.socket.clone();
        let (service, socket) = LspService::new(move |client| Backend::new(client, socket_path, program));
        let mut f = Fixture { workspace, _sockets: sockets, daemon, service, socket, next_id: 1 };
        let root = format!("file://{}", f.workspace.path().canonicalize().unwrap().display());
        let init = f
            .request(
                "initialize",
                json!({ "capabilities": {}, "workspaceFolders": [{ "uri": root, "name": "ws" }] }),
            )
            .await;
        assert!(init["capabilities"]["executeCommandProvider"]["commands"]
            .to_string()
            .contains("asyncmon.stop"));
        f.notify("initialized", json!({})).await;
        f.daemon.hub.publish(hello(1));
        f
    }

    async fn request(&mut self, method: &'static str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let request = match params {
            Value::Null => Request::build(method).id(id).finish(),
            params => Request::build(method).id(id).params(params).finish(),
        };
        let response = self.service.ready().await.unwrap().call(request).await.unwrap().expect("a response");
        let (_, result) = response.into_parts();
        result.unwrap_or_else(|e| json!({ "error": e.message }))
    }

    async fn notify(&mut self, method: &'static str, params: Value) {
        let request = Request::build(method).params(params).finish();
        self.service.ready().await.unwrap().call(request).await.unwrap();
    }

    /// The next server-to-client message with `method`, within a few seconds.
    async fn next(&mut self, method: &str) -> Value {
        let wait = async {
            loop {
                let message = self.socket.next().await.expect("the server is running");
                if message.method() == method {
                    return message.params().cloned().unwrap_or(Value::Null);
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait).await.unwrap_or_else(|_| panic!("no {method}"))
    }

    fn uri(&self, file: &str) -> String {
        format!("file://{}", self.workspace.path().canonicalize().unwrap().join(file).display())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_become_diagnostics_that_a_reset_clears() {
    let mut f = Fixture::start().await;
    f.daemon.hub.publish(failure(1, "/home/ci/app/src/sensor.rs", 1));
    let published = f.next("textDocument/publishDiagnostics").await;
    assert_eq!(
        published["uri"],
        f.uri("src/sensor.rs"),
        "the build machine's path is mapped to the workspace"
    );
    let d = &published["diagnostics"][0];
    assert_eq!(d["range"]["start"], json!({ "line": 0, "character": 4 }));
    assert_eq!(d["severity"], 1);
    assert_eq!(d["source"], "asyncmon");
    assert_eq!(d["message"], "SensorError: sensor poll #1 timed out");

    let hover = f
        .request("textDocument/hover", json!({ "textDocument": { "uri": f.uri("src/sensor.rs") }, "position": { "line": 0, "character": 6 } }))
        .await;
    assert!(hover["contents"]["value"].as_str().unwrap().contains("never retrieved"), "{hover}");

    // A burst on one line, each with its own message: one diagnostic, the latest message with a
    // count, and the hover ends by counting the others.
    for seq in 2..=300 {
        f.daemon.hub.publish(failure_saying(
            seq,
            "src/sensor.rs",
            1,
            &format!("bus stuck after {seq} retries"),
        ));
    }
    let mut published = f.next("textDocument/publishDiagnostics").await;
    while !published["diagnostics"].to_string().contains("(×300)") {
        published = f.next("textDocument/publishDiagnostics").await;
    }
    let messages: Vec<&str> =
        published["diagnostics"].as_array().unwrap().iter().map(|d| d["message"].as_str().unwrap()).collect();
    assert_eq!(messages, ["SensorError: bus stuck after 300 retries (×300)"]);
    let hover = f
        .request("textDocument/hover", json!({ "textDocument": { "uri": f.uri("src/sensor.rs") }, "position": { "line": 0, "character": 6 } }))
        .await;
    let hover = hover["contents"]["value"].as_str().unwrap();
    assert!(
        hover.contains("bus stuck after 300 retries") && hover.contains("and 299 more like it"),
        "{hover}"
    );

    // A file not in the workspace is shown on the workspace, not dropped.
    f.daemon.hub.publish(failure(301, "/rustc/abc/library/core/src/result.rs", 9));
    let published = f.next("textDocument/publishDiagnostics").await;
    assert_eq!(published["uri"], format!("file://{}", f.workspace.path().canonicalize().unwrap().display()));
    assert!(published["diagnostics"][0]["message"].as_str().unwrap().contains("not in this workspace"));

    // A reset (a new epoch) clears every file.
    f.daemon.hub.publish(hello(2));
    let mut cleared = Vec::new();
    while cleared.len() < 2 {
        let published = f.next("textDocument/publishDiagnostics").await;
        assert_eq!(published["diagnostics"], json!([]));
        cleared.push(published["uri"].as_str().unwrap().to_string());
    }
    assert!(cleared.contains(&f.uri("src/sensor.rs")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_notification_follows_the_target_and_stop_reaches_the_daemon() {
    let mut f = Fixture::start().await;
    let mut summary = f.next("asyncmon/session").await;
    while summary["firmware"] != "app" {
        summary = f.next("asyncmon/session").await;
    }
    assert_eq!(summary["connected"], true);
    assert!(summary["target"].as_str().unwrap().starts_with("sim: "), "{summary}");

    // This target cannot be used (`sleep` links no agent): a stop says so instead of vanishing.
    while summary["state"] != "failed" {
        summary = f.next("asyncmon/session").await;
    }
    let refused = f.request("workspace/executeCommand", json!({ "command": "asyncmon.stop" })).await;
    assert!(refused["error"].as_str().unwrap().contains("has no _ASYNCMON_RTT symbol"), "{refused}");

    // Once the session reads as attached, a stop goes to the daemon.
    f.daemon.hub.publish(SessionEvent::TargetState(TargetState::Attached));
    while summary["state"] != "attached" {
        summary = f.next("asyncmon/session").await;
    }
    let answer = f.request("workspace/executeCommand", json!({ "command": "asyncmon.stop" })).await;
    assert_eq!(answer, Value::Null, "{answer}");
    // The stop reached the target: with no RTT link, it says it was not sent.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !f
        .daemon
        .hub
        .snapshot()
        .problems
        .iter()
        .any(|p| p.text.contains("was not sent: the RTT link is not attached"))
    {
        assert!(std::time::Instant::now() < deadline, "the stop never reached the daemon");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let unknown = f.request("workspace/executeCommand", json!({ "command": "asyncmon.dance" })).await;
    assert!(unknown["error"].as_str().unwrap().contains("unknown command"), "{unknown}");
    let no_words =
        f.request("workspace/executeCommand", json!({ "command": "asyncmon.attach", "arguments": [] })).await;
    assert!(no_words["error"].as_str().unwrap().contains("needs target arguments"), "{no_words}");
    // The firmware is being started: another start is not a second session.
    let again = f
        .request(
            "workspace/executeCommand",
            json!({ "command": "asyncmon.attach", "arguments": ["sim", "/bin/true"] }),
        )
        .await;
    assert!(again.as_str().unwrap().contains("already running"), "{again}");

    // The failures can be cleared by hand.
    f.daemon.hub.publish(failure(1, "src/sensor.rs", 1));
    let published = f.next("textDocument/publishDiagnostics").await;
    assert_eq!(published["diagnostics"].as_array().unwrap().len(), 1);
    let cleared = f.request("workspace/executeCommand", json!({ "command": "asyncmon.clearFailures" })).await;
    assert_eq!(cleared, Value::Null, "{cleared}");
    let published = f.next("textDocument/publishDiagnostics").await;
    assert_eq!(published["diagnostics"], json!([]));

    // The editor goes away: a daemon the server did not start (this test's) is left running.
    assert_eq!(f.request("shutdown", Value::Null).await, Value::Null);
    asyncmon_daemon::client::Client::connect(&f.daemon.socket, "after the editor")
        .await
        .expect("the daemon still serves");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inlay_hints_and_hover_show_the_tasks_waiting_at_an_await() {
    let mut f = Fixture::start().await;
    f.daemon.hub.publish(SessionEvent::TaskSpawned(Task {
        epoch: 1,
        id: 2,
        name: "telemetry".into(),
        spawned_at: location("src/main.rs", 3),
        parent: Some(0),
        state: TaskState::Running,
        storage_bytes: None,
        future_bytes: None,
        stats: None,
    }));
    let frame = |depth, function: &str, location, state| AwaitFrame {
        depth,
        function: function.into(),
        location,
        state,
    };
    f.daemon.hub.publish(SessionEvent::AwaitTraces(AwaitTraces {
        epoch: 1,
        at_ms: 4_000,
        tasks: vec![TaskTrace {
            task: 2,
            frames: vec![
                frame(
                    0,
                    "app::telemetry",
                    Some(location("/home/ci/app/src/sensor.rs", 1)),
                    FrameState::Awaiting,
                ),
                frame(
                    1,
                    "asyncmon_agent::time::Sleep",
                    None,
                    FrameState::Waiting { description: Some("sleep: a timer".into()) },
                ),
            ],
            since_ms: 1_000,
        }],
        unavailable: None,
    }));
    let uri = f.uri("src/sensor.rs");
    let range = json!({ "start": { "line": 0, "character": 0 }, "end": { "line": 10, "character": 0 } });
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let hints = loop {
        let hints = f
            .request("textDocument/inlayHint", json!({ "textDocument": { "uri": uri }, "range": range }))
            .await;
        if hints.as_array().is_some_and(|h| !h.is_empty()) {
            break hints;
        }
        assert!(std::time::Instant::now() < deadline, "no inlay hint came: {hints}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(hints[0]["position"], json!({ "line": 0, "character": 12 }), "at the end of `fn poll() {{}}`");
    assert_eq!(hints[0]["label"], "← telemetry waiting here · 3.0 s");
    let hover = f
        .request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri }, "position": { "line": 0, "character": 3 } }),
        )
        .await;
    let hover = hover["contents"]["value"].as_str().unwrap();
    assert!(hover.contains("telemetry #2 — waiting 3.0 s"), "{hover}");
    assert!(hover.contains("└ asyncmon_agent::time::Sleep: sleep: a timer"), "{hover}");
    // The task ends: it waits nowhere.
    f.daemon.hub.publish(SessionEvent::TaskFinished { id: 2, outcome: TaskOutcome::Completed });
    loop {
        let hints = f
            .request("textDocument/inlayHint", json!({ "textDocument": { "uri": uri }, "range": range }))
            .await;
        if hints.as_array().is_some_and(|h| h.is_empty()) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the hint stayed: {hints}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
