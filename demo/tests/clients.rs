//! Clients come and go, stall and misbehave; the target reader and the other clients carry on.

mod support;

use asyncmon_daemon::client::Client;
use asyncmon_protocol::host::{ClientRequest, FailurePath, ServerMessage};
use std::time::Duration;
use support::Harness;
use tokio::io::AsyncWriteExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_vanished_and_garbage_clients_do_not_stop_the_others() {
    let mut h = Harness::start(&["demo"], Duration::from_secs(10)).await;

    // A client that subscribes and never reads again.
    let mut stalled = Client::connect(&h.daemon.socket, "stalled").await.unwrap();
    stalled.request(&ClientRequest::Subscribe).await.unwrap();
    // A client that subscribes and vanishes.
    let mut vanished = Client::connect(&h.daemon.socket, "vanished").await.unwrap();
    vanished.request(&ClientRequest::Subscribe).await.unwrap();
    drop(vanished);
    // A client that sends garbage is refused, in words.
    let mut raw = tokio::net::UnixStream::connect(&h.daemon.socket).await.unwrap();
    raw.write_all(&[0, 0, 0, 3, 0xc1, 0xc1, 0xc1]).await.unwrap();
    let mut garbage = tokio_util::codec::Framed::new(raw, asyncmon_daemon::host_codec::codec());
    use futures::StreamExt;
    let answer = garbage.next().await.unwrap().unwrap();
    let answer: ServerMessage = asyncmon_protocol::host::decode(&answer).unwrap();
    assert!(
        matches!(&answer, ServerMessage::Refused { reason } if reason.contains("unreadable request")),
        "{answer:?}"
    );

    // The subscribed test client still gets a steady stream: several new failures arrive.
    h.until("three unretrieved failures", Duration::from_secs(20), |s| {
        s.failures.iter().filter(|f| f.path == FailurePath::Unretrieved).count() >= 3
    })
    .await;
    assert_eq!(h.daemon.hub.snapshot().stats.frames_lost_on_device, 0, "the reader kept up");
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_clients_at_once_each_get_the_failure() {
    let h = Harness::start(&["demo"], Duration::from_secs(10)).await;
    let mut clients = Vec::new();
    for i in 0..100 {
        let mut client = Client::connect(&h.daemon.socket, &format!("client {i}")).await.unwrap();
        client.request(&ClientRequest::Subscribe).await.unwrap();
        clients.push(client);
    }
    let waits = clients.into_iter().map(|mut client| {
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            loop {
                let message = tokio::time::timeout_at(deadline, client.recv()).await;
                let message = message.expect("a failure within 30 s").unwrap().expect("still connected");
                let failed = match message {
                    ServerMessage::Snapshot(s) => {
                        s.failures.iter().any(|f| f.path == FailurePath::Unretrieved)
                    }
                    ServerMessage::Event(asyncmon_protocol::host::SessionEvent::Failure(f)) => {
                        f.path == FailurePath::Unretrieved
                    }
                    _ => false,
                };
                if failed {
                    return;
                }
            }
        })
    });
    for wait in futures::future::join_all(waits).await {
        wait.unwrap();
    }
    assert_eq!(h.daemon.hub.snapshot().stats.frames_lost_on_device, 0, "the reader kept up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_with_another_host_link_version_is_refused_in_words() {
    let h = Harness::start(&["demo"], Duration::from_secs(10)).await;
    let raw = tokio::net::UnixStream::connect(&h.daemon.socket).await.unwrap();
    let mut conn = tokio_util::codec::Framed::new(raw, asyncmon_daemon::host_codec::codec());
    use futures::{SinkExt, StreamExt};
    let hello = ClientRequest::Hello { version: 77, client: "old monitor".into() };
    conn.send(bytes::Bytes::from(asyncmon_protocol::host::encode(&hello).unwrap())).await.unwrap();
    let answer: ServerMessage =
        asyncmon_protocol::host::decode(&conn.next().await.unwrap().unwrap()).unwrap();
    let ServerMessage::Refused { reason } = answer else { panic!("{answer:?}") };
    assert!(reason.contains("old monitor speaks host-link v77"), "{reason}");
}
