//! A client that falls behind is told how many events it missed and gets a fresh snapshot; the
//! publisher (the target reader) never waits for it.

use asyncmon_daemon::client::Client;
use asyncmon_daemon::hub::{Hub, CLIENT_BACKLOG};
use asyncmon_daemon::server::Limits;
use asyncmon_protocol::host::{
    ClientRequest, FirmwareInfo, Location, LogLine, LogSource, ServerMessage, SessionEvent,
    TargetDescription, Task, TaskState, MAX_HOST_FRAME, MAX_RUNNING_TASKS,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A hub with no target, served within `limits` at `d.sock` in the returned directory.
fn served_hub_within(limits: Limits) -> (tempfile::TempDir, Arc<Hub>) {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("d.sock");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    asyncmon_daemon::socket_path::restrict(&socket).unwrap();
    // Commands have no target to go to: the receiver is dropped, and a stop is refused anyway.
    let (commands, _) = std::sync::mpsc::channel();
    let hub = Hub::new(TargetDescription { backend: "test".into(), name: "t".into() }, commands);
    tokio::spawn(asyncmon_daemon::server::serve_limited(listener, Arc::new(vec![hub.clone()]), limits));
    (dir, hub)
}

/// A hub with no target, served to at most `max_clients`.
fn served_hub(max_clients: usize) -> (tempfile::TempDir, Arc<Hub>) {
    served_hub_within(Limits { max_clients, ..Limits::default() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_falls_behind_is_told_and_resynchronised() {
    let (dir, hub) = served_hub(asyncmon_daemon::server::MAX_CLIENTS);
    let socket = dir.path().join("d.sock");

    let mut client = Client::connect(&socket, "slow").await.unwrap();
    client.request(&ClientRequest::Subscribe).await.unwrap();
    assert!(matches!(client.recv().await.unwrap(), Some(ServerMessage::Snapshot(_))));

    // Publish far more than the backlog and the socket buffer hold, without the client reading.
    // If publishing waited for the client, this would never finish: the guard turns a deadlock
    // into a failure.
    let events = CLIENT_BACKLOG * 8;
    let publisher = hub.clone();
    let publish = tokio::task::spawn_blocking(move || {
        for i in 0..events {
            let text = format!("line {i} {}", "x".repeat(200));
            publisher.publish(SessionEvent::Log(LogLine::plain(i as u64, LogSource::FirmwareStdout, text)));
        }
    });
    tokio::time::timeout(Duration::from_secs(60), publish)
        .await
        .expect("publishing waited for a client")
        .unwrap();

    let (mut missed, mut resynced, mut last_line) = (0, false, None);
    while last_line != Some(events - 1) {
        match tokio::time::timeout(Duration::from_secs(10), client.recv()).await.unwrap().unwrap() {
            Some(ServerMessage::Missed { events }) => missed += events,
            Some(ServerMessage::Snapshot(s)) => {
                resynced = true;
                last_line = s.logs.back().map(|l| l.at_ms as usize);
            }
            Some(ServerMessage::Event(SessionEvent::Log(l))) => last_line = Some(l.at_ms as usize),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(missed > 0, "the slow client was told it missed events");
    assert!(resynced, "and got a fresh snapshot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_too_many_is_refused_in_words_and_a_seat_frees_when_one_leaves() {
    let (dir, _hub) = served_hub(3);
    let socket = dir.path().join("d.sock");
    let mut seated = Vec::new();
    for i in 0..3 {
        seated.push(Client::connect(&socket, &format!("client {i}")).await.unwrap());
    }
    let err = Client::connect(&socket, "one too many").await.err().expect("refused");
    assert!(err.to_string().contains("serves at most 3 clients at once"), "{err}");
    drop(seated.pop());
    // The seat is given back when the connection's task ends.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while Client::connect(&socket, "again").await.is_err() {
        assert!(std::time::Instant::now() < deadline, "the seat was never freed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_say_hello_lose_their_seats() {
    let limits = Limits { max_clients: 2, hello_within: Duration::from_millis(200) };
    let (dir, _hub) = served_hub_within(limits);
    let mut silent = tokio::net::UnixStream::connect(dir.path().join("d.sock")).await.unwrap();
    // Once its time to say Hello is up, the daemon closes it (after saying why).
    let mut said = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut said)).await;
    assert!(read.is_ok(), "a connection that said nothing kept its seat");
    assert!(String::from_utf8_lossy(&said).contains("no Hello within"), "{said:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_takes_the_seat_of_a_connection_that_has_not_said_hello() {
    // Seats held by connections that say nothing, long before their time is up.
    let limits = Limits { max_clients: 2, hello_within: Duration::from_secs(60) };
    let (dir, _hub) = served_hub_within(limits);
    let socket = dir.path().join("d.sock");
    let mut silent = Vec::new();
    for _ in 0..2 {
        silent.push(tokio::net::UnixStream::connect(&socket).await.unwrap());
    }
    let started = std::time::Instant::now();
    let stop = Client::connect(&socket, "asyncmon stop").await;
    assert!(stop.is_ok(), "refused: {:?}", stop.err());
    assert!(started.elapsed() < Duration::from_secs(2), "it waited {:?}", started.elapsed());
    // The oldest silent one gave its seat up, and was told.
    let mut said = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), silent[0].read_to_end(&mut said)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&said).contains("its seat went to a newer one"), "{said:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_a_frame_cannot_hold_sixteen_mebibytes() {
    let (dir, _hub) = served_hub(4);
    let mut conn = tokio::net::UnixStream::connect(dir.path().join("d.sock")).await.unwrap();
    // A header that promises a 16 MiB request, and then nothing: the daemon does not wait for it
    // (or reserve room for it); it closes the connection.
    conn.write_all(&(MAX_HOST_FRAME as u32).to_be_bytes()).await.unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the daemon waits for the rest of a 16 MiB request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_tasks_that_never_end_leaves_a_snapshot_every_client_can_read() {
    let (dir, hub) = served_hub(4);
    let firmware = FirmwareInfo { name: "flood".into(), build_id: "1".into(), protocol_version: 1 };
    hub.publish(SessionEvent::SessionStarted { epoch: 1, firmware });
    // 70,000 tasks with 1 KB names, none ever ends: 70 MB if all were kept.
    let announced = 70_000u32;
    for id in 0..announced {
        hub.publish(SessionEvent::TaskSpawned(Task {
            epoch: 1,
            id,
            name: format!("t{id}-{}", "n".repeat(1000)),
            spawned_at: Location { file: "src/main.rs".into(), line: 1, column: 1 },
            parent: None,
            state: TaskState::Running,
            storage_bytes: None,
            future_bytes: None,
            stats: None,
        }));
    }
    let mut client = Client::connect(&dir.path().join("d.sock"), "asyncmon ps").await.unwrap();
    client.request(&ClientRequest::Subscribe).await.unwrap();
    let Some(ServerMessage::Snapshot(session)) =
        tokio::time::timeout(Duration::from_secs(10), client.recv()).await.unwrap().unwrap()
    else {
        panic!("no snapshot")
    };
    assert_eq!(session.tasks.len(), MAX_RUNNING_TASKS);
    assert_eq!(session.tasks_dropped, u64::from(announced) - MAX_RUNNING_TASKS as u64, "and it says so");
    assert_eq!(session.tasks.last().map(|t| t.id), Some(announced - 1), "the newest are kept");
}
