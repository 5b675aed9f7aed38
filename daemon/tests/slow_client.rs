//! A client that falls behind is told how many events it missed and gets a fresh snapshot; the
//! publisher (the target reader) never waits for it.

use asyncmon_daemon::client::Client;
use asyncmon_daemon::hub::{Hub, CLIENT_BACKLOG};
use asyncmon_protocol::host::{
    ClientRequest, LogLine, LogSource, ServerMessage, SessionEvent, TargetDescription,
};
use std::sync::Arc;
use std::time::Duration;

/// A hub with no target, served to at most `max_clients` at `d.sock` in the returned directory.
fn served_hub(max_clients: usize) -> (tempfile::TempDir, Arc<Hub>) {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("d.sock");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    asyncmon_daemon::socket_path::restrict(&socket).unwrap();
    // Commands have no target to go to: the receiver is dropped, and a stop is refused anyway.
    let (commands, _) = std::sync::mpsc::channel();
    let hub = Hub::new(TargetDescription { backend: "test".into(), name: "t".into() }, commands);
    tokio::spawn(asyncmon_daemon::server::serve_at_most(listener, Arc::new(vec![hub.clone()]), max_clients));
    (dir, hub)
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
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("d.sock");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    asyncmon_daemon::socket_path::restrict(&socket).unwrap();
    let (commands, _) = std::sync::mpsc::channel();
    let hub = Hub::new(TargetDescription { backend: "test".into(), name: "t".into() }, commands);
    let limits = asyncmon_daemon::server::Limits { max_clients: 2, hello_within: Duration::from_millis(200) };
    tokio::spawn(asyncmon_daemon::server::serve_limited(listener, Arc::new(vec![hub]), limits));
    // Every seat taken by connections that say nothing.
    let silent: Vec<_> =
        futures::future::join_all((0..2).map(|_| tokio::net::UnixStream::connect(&socket))).await;
    assert!(silent.iter().all(Result::is_ok));
    // Once their time to say Hello is up, a client gets in.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match Client::connect(&socket, "asyncmon stop").await {
            Ok(_) => break,
            Err(e) => assert!(std::time::Instant::now() < deadline, "the silent ones kept their seats: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(silent);
}
