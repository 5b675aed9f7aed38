//! Attach time and stop latency of the demo firmware on QEMU's boards, measured in one run and
//! printed as percentiles:
//!
//! * attach: from the daemon starting QEMU to the firmware's `SessionStarted` at a client (QEMU's
//!   start-up, the firmware's boot, finding its control block — on the micro:bit, in QEMU's process
//!   memory — and the hello frame);
//! * stop to acknowledgement: a client sends `Stop` to the settled demo, and the `Interrupted`
//!   event reaches it (the daemon rings the firmware's doorbell, a byte on the board's serial port,
//!   and reads every millisecond while the answer is due; the demo's shutdown runs its cleanups);
//! * the same on `idle` (main waits an hour; nothing to clean up): what the ring itself takes, since
//!   nothing else would wake that firmware.
//!
//! QEMU runs in real time, as interactive sessions do.
//!
//! `cargo bench -p asyncmon-demo --bench qemu_latency` (`-- quick` for fewer samples)

#![allow(missing_docs)]

#[path = "common/percentiles.rs"]
mod percentiles;

#[allow(dead_code)]
#[path = "../tests/support/boards.rs"]
mod boards;

use asyncmon_daemon::client::Client;
use asyncmon_daemon::daemon::{self, DaemonConfig, TargetConfig};
use asyncmon_protocol::host::{ClientRequest, ServerMessage, SessionEvent};
use percentiles::percentiles;
use std::time::Instant;

/// One session: (attach, stop → acknowledgement), in milliseconds, the stop sent once a log line
/// says `settled`.
async fn session(config: asyncmon_daemon::backend::qemu::QemuConfig, settled_by: &str) -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let running = daemon::start(DaemonConfig {
        socket: dir.path().join("d.sock"),
        targets: vec![TargetConfig::Qemu(config)],
        record: None,
        ..Default::default()
    })
    .unwrap();
    let mut client = Client::connect(&running.socket, "qemu latency bench").await.unwrap();
    client.request(&ClientRequest::Subscribe).await.unwrap();
    let mut attach = None;
    let mut settled = false;
    while !settled || attach.is_none() {
        match client.recv().await.unwrap() {
            Some(ServerMessage::Event(SessionEvent::SessionStarted { .. })) if attach.is_none() => {
                attach = Some(started.elapsed().as_secs_f64() * 1e3);
            }
            Some(ServerMessage::Event(SessionEvent::Log(line))) if line.text.contains(settled_by) => {
                settled = true;
            }
            _ => {}
        }
    }
    let sent = Instant::now();
    client.request(&ClientRequest::Stop).await.unwrap();
    while !matches!(client.recv().await.unwrap(), Some(ServerMessage::Event(SessionEvent::Interrupted(_)))) {}
    let stop = sent.elapsed().as_secs_f64() * 1e3;
    tokio::task::block_in_place(|| running.shutdown());
    (attach.expect("the session started before it settled"), stop)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let quick = std::env::args().any(|a| a == "quick" || a == "--test");
    let sessions = if quick { 2 } else { 20 };
    for (board, machine) in [("microbit", "microbit"), ("mps2-an386", "mps2-an386"), ("riscv-virt", "virt")] {
        let (mut attach, mut stop, mut idle_stop) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..sessions {
            // Settled: the self test is over and the modem task has been given up on.
            let (a, s) = session(boards::demo_on(board, machine), "continuing offline").await;
            attach.push(a);
            stop.push(s);
            idle_stop.push(session(boards::idle_on(board, machine), "idle: waiting").await.1);
        }
        println!("{machine}: attach: {}", percentiles(attach));
        println!("{machine}: stop -> acknowledgement: {}", percentiles(stop));
        println!("{machine}: stop -> acknowledgement, idle firmware: {}", percentiles(idle_stop));
    }
}
