//! The TCP RTT backend against a local TCP server that plays the asyncmon channel's bytes, as
//! OpenOCD's `rtt server` would: strings are resolved from the ELF, a dropped connection is said in
//! words and the daemon reconnects by itself, a stop request reaches the server.

use asyncmon_daemon::backend::tcp::TcpConfig;
use asyncmon_daemon::client::Client;
use asyncmon_daemon::daemon::{self, DaemonConfig, TargetConfig};
use asyncmon_protocol::decoder::{Decoded, FrameDecoder};
use asyncmon_protocol::device::*;
use asyncmon_protocol::frame::{self, MAX_FRAME};
use asyncmon_protocol::host::{ClientRequest, ServerMessage, SessionEvent, SessionState};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

/// A task name that lives in this test binary's read-only data, where the ELF says it is.
static TASK_NAME: &str = "tcp_backend_sensor_task";

/// The link-time address of `needle` in the ELF at `path`.
fn elf_address_of(path: &std::path::Path, needle: &str) -> u64 {
    use object::{Object, ObjectSegment};
    let data = std::fs::read(path).unwrap();
    let file = object::File::parse(&*data).unwrap();
    for segment in file.segments() {
        let bytes = segment.data().unwrap();
        if let Some(at) = bytes.windows(needle.len()).position(|w| w == needle.as_bytes()) {
            return segment.address() + at as u64;
        }
    }
    panic!("{needle} is not in {}", path.display());
}

fn frame_of(msg: &DeviceMessage<'_>) -> Vec<u8> {
    let mut out = [0u8; MAX_FRAME];
    frame::encode(msg, &mut out).unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strings_from_the_elf_a_dropped_connection_and_a_stop() {
    let elf = std::env::current_exe().unwrap();
    let name_addr = elf_address_of(&elf, std::hint::black_box(TASK_NAME));
    let hello = DeviceMessage::Hello(Hello {
        version: PROTOCOL_VERSION,
        firmware: Text::Inline("tcp-fw"),
        build_id: Text::Inline("7"),
    });
    let define = DeviceMessage::DefineText {
        id: 0,
        text: Text::Static { addr: name_addr, len: TASK_NAME.len() as u32 },
    };
    let spawned = DeviceMessage::Spawned {
        task: TaskInfo {
            id: 4,
            name: Text::Interned(0),
            spawned_at: SourceLocation { file: Text::Inline("src/main.rs"), line: 9, column: 5 },
            parent: Some(0),
        },
        storage_bytes: 1024,
    };
    let failure = DeviceMessage::TaskFailure {
        message: Text::Inline("Task exception was never retrieved"),
        exception: Some(ExceptionInfo {
            type_name: Text::Inline("app::Error"),
            message: Text::Inline("bus fault"),
            raised_at: None,
        }),
        task: Some(4),
        path: FailurePath::Unretrieved,
    };
    let first_connection = [frame_of(&hello), frame_of(&define), frame_of(&spawned)].concat();
    let failure_frame = frame_of(&failure);

    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap().to_string();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // First connection: the session's start, then half a frame, then the server goes away.
        let (mut conn, _) = server.accept().unwrap();
        conn.write_all(&first_connection).unwrap();
        conn.write_all(&failure_frame[..failure_frame.len() / 2]).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        drop(conn);
        // Second connection: the failure whole; then read what the daemon writes.
        let (mut conn, _) = server.accept().unwrap();
        conn.write_all(&failure_frame).unwrap();
        let mut decoder = FrameDecoder::<64>::new();
        let mut buf = [0u8; 64];
        loop {
            let n = conn.read(&mut buf).unwrap_or(0);
            if n == 0 {
                return;
            }
            decoder.feed(&buf[..n], |d| {
                if let Decoded::Frame(payload) = d {
                    let _ = stop_tx.send(frame::decode::<HostCommand>(payload).unwrap());
                }
            });
        }
    });

    let dir = tempfile::tempdir().unwrap();
    let tcp = TcpConfig { addr: addr.clone(), elf, initial_backoff: Duration::from_millis(50) };
    let running = daemon::start(DaemonConfig {
        socket: dir.path().join("d.sock"),
        targets: vec![TargetConfig::Tcp(tcp)],
        record: None,
        ..Default::default()
    })
    .unwrap();
    let mut client = Client::connect(&running.socket, "tcp test").await.unwrap();
    assert_eq!(client.target.backend, "tcp");
    client.request(&ClientRequest::Subscribe).await.unwrap();
    let mut session: Option<SessionState> = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let msg = tokio::time::timeout_at(deadline, client.recv())
            .await
            .expect("the failure arrives")
            .unwrap()
            .unwrap();
        match msg {
            ServerMessage::Snapshot(s) => session = Some(*s),
            ServerMessage::Event(e) => session.as_mut().unwrap().apply(&e),
            _ => {}
        }
        if session.as_ref().is_some_and(|s| !s.failures.is_empty()) {
            break;
        }
    }
    let session = session.unwrap();
    let failure = &session.failures[0];
    assert_eq!(failure.task.as_ref().unwrap().name, TASK_NAME, "the interned name was resolved from the ELF");
    assert_eq!(failure.exception.as_ref().unwrap().message, "bus fault");
    assert_eq!(session.firmware.as_ref().unwrap().build_id, "7");
    let went_away =
        session.problems.iter().find(|p| p.text.contains("went away")).expect("the drop is said in words");
    assert!(
        went_away.text.contains(&addr) && went_away.text.contains("bytes of a frame lost"),
        "{}",
        went_away.text
    );
    assert_eq!(session.stats.frames_rejected, 0, "the half frame was dropped at the reconnect, not misread");

    // What `asyncmon ps` asks: no traces here, and the answer says why and where to get them.
    client.request(&ClientRequest::RefreshTraces { target: 0 }).await.unwrap();
    let unavailable = loop {
        let msg =
            tokio::time::timeout_at(deadline, client.recv()).await.expect("an answer").unwrap().unwrap();
        if let ServerMessage::Event(SessionEvent::AwaitTraces(traces)) = msg {
            break traces.unavailable.expect("no traces through a TCP server");
        }
    };
    assert!(unavailable.contains("RTT TCP server passes the RTT bytes only"), "{unavailable}");
    assert!(unavailable.contains("asyncmon run"), "{unavailable}");

    client.request(&ClientRequest::Stop).await.unwrap();
    let command =
        tokio::task::spawn_blocking(move || stop_rx.recv_timeout(Duration::from_secs(10))).await.unwrap();
    assert!(matches!(command, Ok(HostCommand::Stop { .. })), "{command:?}");
    tokio::task::block_in_place(|| running.shutdown());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_server_is_said_in_words_and_the_daemon_keeps_serving() {
    // A port nothing listens on: bind one, then let it go.
    let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let tcp = TcpConfig {
        addr: addr.clone(),
        elf: std::env::current_exe().unwrap(),
        initial_backoff: Duration::from_millis(50),
    };
    let running = daemon::start(DaemonConfig {
        socket: dir.path().join("d.sock"),
        targets: vec![TargetConfig::Tcp(tcp)],
        record: None,
        ..Default::default()
    })
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let problems: Vec<String> = running.hub.snapshot().problems.iter().map(|p| p.text.clone()).collect();
        if problems
            .iter()
            .filter(|p| p.contains(&format!("cannot connect to the RTT server at {addr}")))
            .count()
            >= 2
        {
            assert!(
                problems[0].contains("rtt server start"),
                "the message says what to check: {}",
                problems[0]
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{problems:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(Client::connect(&running.socket, "late").await.is_ok(), "clients are still served");
    tokio::task::block_in_place(|| running.shutdown());
}

#[test]
fn an_elf_that_is_not_an_elf_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let elf = dir.path().join("app.elf");
    std::fs::write(&elf, "not an elf").unwrap();
    let tcp = TcpConfig { addr: "127.0.0.1:1".into(), elf, initial_backoff: Duration::from_millis(50) };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _guard = runtime.enter();
    let err = daemon::start(DaemonConfig {
        socket: dir.path().join("d.sock"),
        targets: vec![TargetConfig::Tcp(tcp)],
        record: None,
        ..Default::default()
    })
    .err()
    .expect("refused");
    assert!(err.to_string().contains("is not an ELF file asyncmon can read"), "{err}");
}
