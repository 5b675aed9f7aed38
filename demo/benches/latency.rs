//! End-to-end latency on the simulated board, measured in one run and printed as percentiles:
//!
//! * failure to client: a task fails in the firmware process, and the `Failure` event reaches a
//!   subscribed client (the firmware stamps the raise with the wall clock);
//! * stop to acknowledgement: a client sends `Stop`, and the `Interrupted` event reaches it.
//!
//! Both are bounded by the poll intervals (the daemon's RTT poll, configurable here, and the
//! agent's 20 ms control poll for the stop), not by decoding.
//!
//! `cargo bench -p asyncmon-demo --bench latency` (`-- quick` for fewer samples)

#![allow(missing_docs)]

#[path = "common/percentiles.rs"]
mod percentiles;

use asyncmon_daemon::backend::sim::SimConfig;
use asyncmon_daemon::client::Client;
use asyncmon_daemon::daemon::{self, DaemonConfig, TargetConfig};
use asyncmon_demo::latency::raised_at_ns;
use asyncmon_protocol::host::{ClientRequest, ServerMessage, SessionEvent};
use percentiles::percentiles;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

async fn session(poll: Duration, failures: usize) -> (Vec<f64>, f64) {
    let dir = tempfile::tempdir().unwrap();
    let mut sim = SimConfig::new(env!("CARGO_BIN_EXE_asyncmon-demo-firmware"), vec!["latency".into()]);
    sim.poll_interval = poll;
    let running = daemon::start(DaemonConfig {
        socket: dir.path().join("d.sock"),
        targets: vec![TargetConfig::Sim(sim)],
        record: None,
        ..Default::default()
    })
    .unwrap();
    let mut client = Client::connect(&running.socket, "latency bench").await.unwrap();
    client.request(&ClientRequest::Subscribe).await.unwrap();
    let mut samples = Vec::new();
    while samples.len() < failures {
        if let Some(ServerMessage::Event(SessionEvent::Failure(f))) = client.recv().await.unwrap() {
            let raised = f.exception.as_ref().and_then(|e| raised_at_ns(&e.message)).unwrap();
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
            samples.push((now.saturating_sub(raised)) as f64 / 1e6);
        }
    }
    let sent = Instant::now();
    client.request(&ClientRequest::Stop).await.unwrap();
    loop {
        if let Some(ServerMessage::Event(SessionEvent::Interrupted(_))) = client.recv().await.unwrap() {
            break;
        }
    }
    let stop_ms = sent.elapsed().as_secs_f64() * 1e3;
    tokio::task::block_in_place(|| running.shutdown());
    (samples, stop_ms)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let quick = std::env::args().any(|a| a == "quick" || a == "--test" || a == "--list");
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let (failures, stops) = if quick { (10, 1) } else { (200, 10) };
    for poll_ms in [10, 1] {
        let poll = Duration::from_millis(poll_ms);
        let mut failure_samples = Vec::new();
        let mut stop_samples = Vec::new();
        for _ in 0..stops {
            let (samples, stop) = session(poll, failures / stops).await;
            failure_samples.extend(samples);
            stop_samples.push(stop);
        }
        println!("daemon RTT poll {poll_ms} ms: failure -> client: {}", percentiles(failure_samples));
        println!("daemon RTT poll {poll_ms} ms: stop -> acknowledgement: {}", percentiles(stop_samples));
    }
}
