//! `asyncmond dap` as an editor starts it, through its lifecycle's rough edges: a second launch in
//! one session, an adapter killed with SIGKILL, a launch that cannot work, a program named like an
//! option, a header block without a length, and an editor that stops reading while the firmware
//! talks. The firmware here is `sleep` with an argument no other process has: it runs on the
//! simulated board (unwatched: it links no agent), and its process is what a leak leaves behind.

mod support;

use asyncmon_daemon::hub::Hub;
use asyncmon_protocol::host::{LogLine, LogSource, SessionEvent, TargetDescription};
use serde_json::{json, Value};
use std::io::{BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use support::stdio::{frame, messages, read_message};

/// A debug adapter process and the editor's end of its stdio.
struct Adapter {
    child: Child,
    stdin: ChildStdin,
    seq: i64,
}

impl Adapter {
    fn start(socket: &Path) -> (Adapter, ChildStdout) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_asyncmond"))
            .arg("--socket")
            .arg(socket)
            .arg("dap")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        (Adapter { child, stdin, seq: 0 }, stdout)
    }

    /// Sends a request; its sequence number.
    fn request(&mut self, command: &str, arguments: Value) -> i64 {
        self.seq += 1;
        let message =
            json!({ "seq": self.seq, "type": "request", "command": command, "arguments": arguments });
        self.stdin.write_all(&frame(message.to_string().as_bytes())).unwrap();
        self.seq
    }
}

impl Drop for Adapter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The response to request `seq`, skipping events, within `within`.
fn response(rx: &mpsc::Receiver<Value>, seq: i64, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let message = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no response to request {seq} within {within:?}"));
        if message["type"] == "response" && message["request_seq"] == seq {
            return message;
        }
    }
}

/// The processes whose command line has `word` as one of its arguments (the firmware, and the
/// daemon that started it).
fn processes_with(word: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        if cmdline.split(|b| *b == 0).any(|arg| arg == word.as_bytes()) {
            found.push(pid);
        }
    }
    found
}

fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "{what} within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An argument for `sleep` that no other process has: hours, told apart by this test's pid.
fn firmware_marker(n: u32) -> String {
    format!("{}.{}{n}", 90_000 + std::process::id() % 1000, std::process::id())
}

/// A launch of `sleep MARKER` on the simulated board, served at `socket`.
fn sleep_launch(marker: &str, socket: &Path) -> Value {
    json!({ "program": "/bin/sleep", "args": [marker], "socket": socket })
}

fn initialize(adapter: &mut Adapter, rx: &mpsc::Receiver<Value>) {
    let seq = adapter.request("initialize", json!({ "adapterID": "asyncmon" }));
    assert_eq!(response(rx, seq, Duration::from_secs(10))["success"], true);
}

#[test]
fn a_second_launch_ends_the_first_ones_daemon_and_disconnect_ends_the_second() {
    let dir = tempfile::tempdir().unwrap();
    let (mut adapter, stdout) = Adapter::start(&dir.path().join("default.sock"));
    let rx = messages(stdout);
    initialize(&mut adapter, &rx);
    let (first, second) = (firmware_marker(1), firmware_marker(2));
    let seq = adapter.request("launch", sleep_launch(&first, &dir.path().join("a.sock")));
    assert_eq!(response(&rx, seq, Duration::from_secs(15))["success"], true);
    assert!(!processes_with(&first).is_empty(), "the first firmware runs");
    // A second launch, at another socket: the first session's daemon and firmware end.
    let seq = adapter.request("launch", sleep_launch(&second, &dir.path().join("b.sock")));
    assert_eq!(response(&rx, seq, Duration::from_secs(15))["success"], true);
    wait_until("the first firmware ended", Duration::from_secs(10), || processes_with(&first).is_empty());
    assert!(!processes_with(&second).is_empty(), "the second firmware runs");
    let seq = adapter.request("disconnect", json!({ "terminateDebuggee": true }));
    response(&rx, seq, Duration::from_secs(15));
    wait_until("the second firmware ended", Duration::from_secs(10), || processes_with(&second).is_empty());
    let sockets = [dir.path().join("a.sock"), dir.path().join("b.sock")];
    for socket in sockets {
        let socket = socket.display().to_string();
        wait_until("every daemon ended", Duration::from_secs(10), || processes_with(&socket).is_empty());
    }
}

#[test]
fn an_adapter_killed_with_sigkill_takes_its_daemon_and_firmware_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("d.sock");
    let (mut adapter, stdout) = Adapter::start(&socket);
    let rx = messages(stdout);
    initialize(&mut adapter, &rx);
    let marker = firmware_marker(3);
    let seq = adapter.request("launch", sleep_launch(&marker, &socket));
    assert_eq!(response(&rx, seq, Duration::from_secs(15))["success"], true);
    assert!(!processes_with(&marker).is_empty(), "the firmware runs");
    adapter.child.kill().unwrap(); // SIGKILL: no handler runs.
    adapter.child.wait().unwrap();
    wait_until("the firmware ended", Duration::from_secs(10), || processes_with(&marker).is_empty());
    let socket = socket.display().to_string();
    wait_until("the daemon ended", Duration::from_secs(10), || processes_with(&socket).is_empty());
}

#[test]
fn a_launch_that_cannot_work_fails_at_once_with_the_daemons_own_reason() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("d.sock");
    let (mut adapter, stdout) = Adapter::start(&socket);
    let rx = messages(stdout);
    initialize(&mut adapter, &rx);
    let cases = [
        (json!({ "machine": "bogus", "program": "/nonexistent.elf" }), "no QEMU machine \"bogus\""),
        (json!({ "chip": "bogus", "program": "/nonexistent.elf" }), "knows no chip called \"bogus\""),
    ];
    for (launch, reason) in cases {
        let started = Instant::now();
        let seq = adapter.request("launch", launch);
        let answer = response(&rx, seq, Duration::from_secs(15));
        assert_eq!(answer["success"], false, "{answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(reason) && !message.contains("is the daemon running"), "{message}");
        assert_eq!(answer["body"]["error"]["showUser"], true, "the editor shows it: {answer}");
        assert!(started.elapsed() < Duration::from_secs(5), "it took {:?}", started.elapsed());
    }
}

#[test]
fn a_program_named_like_an_option_is_run_as_the_program() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("d.sock");
    let (mut adapter, stdout) = Adapter::start(&socket);
    let mut stderr = adapter.child.stderr.take().unwrap();
    let rx = messages(stdout);
    initialize(&mut adapter, &rx);
    // Once `sim --pid 1`: attach to process 1. It is a file name.
    let seq = adapter.request("launch", json!({ "program": "--pid", "args": ["1"], "socket": socket }));
    assert_eq!(response(&rx, seq, Duration::from_secs(15))["success"], true);
    let seq = adapter.request("disconnect", json!({ "terminateDebuggee": true }));
    response(&rx, seq, Duration::from_secs(15));
    drop(adapter);
    let mut said = String::new();
    stderr.read_to_string(&mut said).unwrap();
    assert!(said.contains("cannot start the firmware --pid"), "the daemon's words, passed on: {said}");
    assert!(!said.contains("pid=1"), "{said}");
}

#[test]
fn a_header_block_without_a_length_costs_itself_and_the_next_request_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let (mut adapter, stdout) = Adapter::start(&dir.path().join("d.sock"));
    let rx = messages(stdout);
    adapter
        .stdin
        .write_all(
            b"Content-Type: application/json\r\n\r\n{\"seq\":1,\"type\":\"request\",\"command\":\"threads\"}",
        )
        .unwrap();
    adapter.seq = 1;
    initialize(&mut adapter, &rx);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_that_stops_reading_does_not_grow_the_adapter() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("d.sock");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    asyncmon_daemon::socket_path::restrict(&socket).unwrap();
    let (commands, _) = std::sync::mpsc::channel();
    let hub = Hub::new(TargetDescription { backend: "test".into(), name: "chatty".into() }, commands);
    tokio::spawn(asyncmon_daemon::server::serve(listener, Arc::new(vec![hub.clone()])));

    let (mut adapter, stdout) = Adapter::start(&socket);
    let mut stdout = BufReader::new(stdout);
    let seq = adapter.request("initialize", json!({ "adapterID": "asyncmon" }));
    let seq_attach = adapter.request("attach", json!({}));
    let mut attached = false;
    while !attached {
        let message = tokio::task::block_in_place(|| read_message(&mut stdout)).expect("the adapter answers");
        attached = message["request_seq"] == seq_attach && message["success"] == true;
        assert!(message["request_seq"] != seq || message["success"] == true, "{message}");
    }
    // From here on the editor reads nothing; the firmware prints 200 MB of log lines over 4 s.
    let publisher = hub.clone();
    tokio::task::spawn_blocking(move || {
        for i in 0..100_000u64 {
            let text = format!("line {i} {}", "x".repeat(2000));
            publisher.publish(SessionEvent::Log(LogLine::plain(i, LogSource::FirmwareStdout, text)));
            if i % 1000 == 0 {
                std::thread::sleep(Duration::from_millis(40));
            }
        }
    })
    .await
    .unwrap();
    let status = std::fs::read_to_string(format!("/proc/{}/status", adapter.child.id())).unwrap();
    let rss_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert!(rss_kb < 80 * 1024, "the adapter holds {} MB", rss_kb / 1024);
    // And once the editor reads again, the adapter answers.
    let seq = adapter.request("threads", json!({}));
    let answered = tokio::task::block_in_place(|| {
        while let Some(message) = read_message(&mut stdout) {
            if message["request_seq"] == seq {
                return Some(message);
            }
        }
        None
    });
    assert_eq!(answered.expect("an answer")["success"], true);
}
