//! The soak run: the daemon (in this process) serves the soak firmware, which raises a failure
//! nobody awaits every millisecond for a set time, while a busy client takes every event and
//! another connects and takes a snapshot ten times a second. Reported: events per second held, this
//! process's peak and final memory (the daemon's), frames lost and accounted for, and whether every
//! failure the firmware raised reached the client.
//!
//! `cargo bench -p asyncmon-demo --bench soak -- SECONDS` (default 60; CI runs 5). It exits with an
//! error if a failure went missing without being counted as lost.

#![allow(missing_docs)]

use asyncmon_daemon::backend::sim::SimConfig;
use asyncmon_daemon::client::Client;
use asyncmon_daemon::daemon::{self, DaemonConfig, TargetConfig};
use asyncmon_demo::soak::parse_report;
use asyncmon_protocol::host::{ClientRequest, LogSource, ServerMessage, SessionEvent, TargetState};
use std::time::{Duration, Instant};

/// This process's resident memory, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let seconds: u64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(60);
    let dir = tempfile::tempdir().unwrap();
    let mut sim = SimConfig::new(
        env!("CARGO_BIN_EXE_asyncmon-demo-firmware"),
        vec!["soak".into(), seconds.to_string()],
    );
    sim.poll_interval = Duration::from_millis(1);
    let running = daemon::start(DaemonConfig {
        socket: dir.path().join("d.sock"),
        targets: vec![TargetConfig::Sim(sim)],
        record: None,
        ..Default::default()
    })
    .unwrap();
    let socket = running.socket.clone();

    // Another client, ten snapshots a second.
    let snapshots = tokio::spawn(async move {
        let mut taken = 0u32;
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let Ok(mut c) = Client::connect(&socket, "soak snapshots").await else { break taken };
            if c.request(&ClientRequest::Subscribe).await.is_err() {
                break taken;
            }
            if let Ok(Some(ServerMessage::Snapshot(_))) = c.recv().await {
                taken += 1;
            }
        }
    });

    let mut client = Client::connect(&running.socket, "soak").await.unwrap();
    client.request(&ClientRequest::Subscribe).await.unwrap();
    let started = Instant::now();
    let (mut events, mut failures, mut missed) = (0u64, 0u64, 0u64);
    let (mut raised, mut lost_on_device, mut exited) = (None, 0u64, false);
    let mut peak = rss_kib();
    let mut rss_samples = Vec::new();
    let mut next_sample = Instant::now();
    while !(exited && raised.is_some()) {
        // After the exit, the report line (on stdout) may still be on its way, or have been missed.
        let wait = if exited { Duration::from_secs(2) } else { Duration::from_secs(seconds + 30) };
        let message = match tokio::time::timeout(wait, client.recv()).await {
            Ok(message) => message,
            Err(_) if exited => break,
            Err(_) => panic!("the soak did not end"),
        };
        match message.unwrap() {
            Some(ServerMessage::Event(event)) => {
                events += 1;
                match event {
                    SessionEvent::Failure(_) => failures += 1,
                    SessionEvent::Stats(s) => lost_on_device = s.frames_lost_on_device,
                    SessionEvent::TargetState(TargetState::Exited { .. }) => exited = true,
                    SessionEvent::Log(l) if l.source == LogSource::FirmwareStdout => {
                        raised = raised.or(parse_report(&l.text))
                    }
                    _ => {}
                }
            }
            Some(ServerMessage::Missed { events }) => missed += events,
            Some(_) => {}
            None => break,
        }
        if Instant::now() >= next_sample {
            let rss = rss_kib();
            peak = peak.max(rss);
            rss_samples.push(rss);
            next_sample += Duration::from_secs(1);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let final_rss = rss_kib();
    // The report line can be among the events a lagging client missed (a loaded machine): the
    // session keeps the last log lines, so a snapshot has it.
    if raised.is_none() {
        let mut late = Client::connect(&running.socket, "soak report").await.unwrap();
        late.request(&ClientRequest::Subscribe).await.unwrap();
        if let Ok(Some(ServerMessage::Snapshot(session))) = late.recv().await {
            raised = session.logs.iter().rev().find_map(|l| parse_report(&l.text));
        }
    }
    running.shutdown();
    let snapshots = snapshots.await.unwrap_or(0);
    let raised = raised.expect("the firmware reported how many failures it raised");
    let quarter = rss_samples.len() / 4;
    println!(
        "soak: {seconds} s, {events} events in {elapsed:.1} s ({:.0} events/s held)",
        events as f64 / elapsed
    );
    println!(
        "soak: failures raised {raised}, received {failures}, frames the firmware dropped {lost_on_device}, events the client missed {missed}"
    );
    println!(
        "soak: daemon memory (this process's RSS) after the first quarter {} KiB, peak {peak} KiB, final {final_rss} KiB; {snapshots} snapshots taken by the second client",
        rss_samples.get(quarter).copied().unwrap_or(0)
    );
    let accounted = failures + lost_on_device + missed >= raised;
    println!(
        "soak: every failure reached the client or was counted as lost: {}",
        if accounted { "yes" } else { "NO" }
    );
    assert!(accounted, "failures went missing without being counted");
}
