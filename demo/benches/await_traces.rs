//! The cost of await traces, on the shapes firmware (`asyncmon_demo::shapes`: 18 tasks, up to five
//! frames deep) and on the demo, on the simulated board and on QEMU's boards, printed as
//! percentiles:
//!
//! * first traces: from the daemon's start to the first traces of every task at a client (the
//!   firmware starts and says hello, the daemon loads the ELF's DWARF on a thread of its own, then
//!   reads and decodes every future);
//! * refresh: a client asks (`RefreshTraces`) and the traces come back — read afresh from target
//!   memory, one read per task, and decoded;
//! * bytes read per refresh: each task's future, once (the sizes the spawn frames report);
//! * through a probe (probe-rs's `Session` on asyncmon's virtual probe, `qemu:NAME`): the probe
//!   transactions a refresh and an RTT poll take (medians), which a real probe's round-trip time
//!   (0.1-1 ms a transfer) turns into time.
//!
//! The device runs no code for any of it: the only device cost is two words in each spawn frame.
//!
//! `cargo bench -p asyncmon-demo --bench await_traces` (`-- quick` for fewer samples)

#![allow(missing_docs)]

#[path = "common/percentiles.rs"]
mod percentiles;

#[allow(dead_code)]
#[path = "../tests/support/boards.rs"]
mod boards;

use asyncmon_daemon::backend::sim::SimConfig;
use asyncmon_daemon::client::Client;
use asyncmon_daemon::daemon::{self, DaemonConfig, TargetConfig};
use asyncmon_protocol::host::{ClientRequest, ServerMessage, SessionEvent, SessionState, TaskState};
use percentiles::percentiles;
use std::time::Instant;

/// The shapes firmware's tasks, main among them.
const SHAPES_TASKS: usize = 18;

/// What one session measured.
struct Measured {
    /// From the daemon's start to every task's trace at the client, ms.
    first: f64,
    /// Refresh round trips, ms.
    refreshes: Vec<f64>,
    /// Bytes of the futures a refresh reads.
    bytes: u64,
    /// Probe transactions per refresh (through a probe only).
    refresh_transactions: Vec<u64>,
    /// Probe transactions per RTT poll, over the session (through a probe only).
    poll_transactions: f64,
}

/// One session on `target`, whose firmware runs `tasks` tasks once settled.
async fn session(target: TargetConfig, tasks: usize, refreshes: usize) -> Measured {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let running = daemon::start(DaemonConfig {
        socket: dir.path().join("d.sock"),
        targets: vec![target],
        record: None,
        ..Default::default()
    })
    .unwrap();
    let mut client = Client::connect(&running.socket, "await traces bench").await.unwrap();
    client.request(&ClientRequest::Subscribe).await.unwrap();
    let mut session: Option<SessionState> = None;
    let first = loop {
        match client.recv().await.unwrap() {
            Some(ServerMessage::Snapshot(s)) => session = Some(*s),
            Some(ServerMessage::Event(event)) => {
                let s = session.as_mut().unwrap();
                s.apply(&event);
                if let SessionEvent::AwaitTraces(traces) = &event {
                    if traces.tasks.len() >= tasks {
                        break started.elapsed().as_secs_f64() * 1e3;
                    }
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    };
    let s = session.as_ref().unwrap();
    let bytes = s
        .tasks
        .iter()
        .filter(|t| t.epoch == s.epoch && t.state == TaskState::Running && s.trace(t.id).is_some())
        .filter_map(|t| t.future_bytes)
        .map(u64::from)
        .sum();
    let mut samples = Vec::new();
    let mut refresh_transactions = Vec::new();
    let counters = &asyncmon_daemon::backend::probe::counters::COUNTERS;
    let [polls_before, link_before, ..] = counters.snapshot();
    for _ in 0..refreshes {
        let asked = Instant::now();
        let [.., memory_before, _] = counters.snapshot();
        client.request(&ClientRequest::RefreshTraces { target: 0 }).await.unwrap();
        while !matches!(
            client.recv().await.unwrap(),
            Some(ServerMessage::Event(SessionEvent::AwaitTraces(_)))
        ) {}
        samples.push(asked.elapsed().as_secs_f64() * 1e3);
        refresh_transactions.push(counters.snapshot()[2] - memory_before);
    }
    let [polls_after, link_after, ..] = counters.snapshot();
    let poll_transactions = (link_after - link_before) as f64 / (polls_after - polls_before).max(1) as f64;
    tokio::task::block_in_place(|| running.shutdown());
    Measured { first, refreshes: samples, bytes, refresh_transactions, poll_transactions }
}

/// Makes a fresh target of one kind, for each session.
type MakeTarget = Box<dyn Fn() -> TargetConfig>;

fn sim(firmware: &str) -> TargetConfig {
    TargetConfig::Sim(SimConfig::new(env!("CARGO_BIN_EXE_asyncmon-demo-firmware"), vec![firmware.into()]))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let quick = std::env::args().any(|a| a == "quick" || a == "--test");
    let (sessions, refreshes) = if quick { (1, 10) } else { (5, 100) };
    let mut targets: Vec<(String, MakeTarget, usize)> = vec![
        ("simulated board: shapes".into(), Box::new(|| sim("shapes")), SHAPES_TASKS),
        ("simulated board: demo".into(), Box::new(|| sim("demo")), 5),
    ];
    for (board, machine) in [("microbit", "microbit"), ("mps2-an386", "mps2-an386"), ("riscv-virt", "virt")] {
        let elf = boards::demo_firmware(board).with_file_name("shapes");
        let machine_config = asyncmon_daemon::backend::qemu::machine::find(machine).unwrap();
        targets.push((
            format!("{machine}: shapes"),
            Box::new(move || {
                let mut config = asyncmon_daemon::backend::qemu::QemuConfig::new(elf.clone(), machine_config);
                config.attach_timeout = std::time::Duration::from_secs(10);
                TargetConfig::Qemu(config)
            }),
            SHAPES_TASKS,
        ));
    }
    for machine in ["microbit", "mps2-an386"] {
        let elf = boards::demo_firmware(machine).with_file_name("shapes");
        targets.push((
            format!("probe qemu:{machine}: shapes"),
            Box::new(move || {
                TargetConfig::Probe(asyncmon_daemon::backend::probe::ProbeConfig {
                    chip: String::new(),
                    probe: Some(format!("qemu:{machine}")),
                    elf: elf.clone(),
                    flash: true,
                    connect_under_reset: false,
                    poll_interval: std::time::Duration::from_millis(10),
                    attach_timeout: std::time::Duration::from_secs(10),
                })
            }),
            SHAPES_TASKS,
        ));
    }
    for (name, target, tasks) in targets {
        let (mut first, mut refresh, mut bytes, mut transactions, mut polls) =
            (Vec::new(), Vec::new(), 0, Vec::new(), Vec::new());
        for _ in 0..sessions {
            let m = session(target(), tasks, refreshes).await;
            first.push(m.first);
            refresh.extend(m.refreshes);
            bytes = m.bytes;
            transactions.extend(m.refresh_transactions);
            polls.push(m.poll_transactions);
        }
        println!("{name}: first traces after the daemon's start: {}", percentiles(first));
        println!("{name}: refresh (ask -> traces at the client): {}", percentiles(refresh));
        println!("{name}: bytes read per refresh: {bytes} ({tasks} tasks)");
        if name.starts_with("probe") {
            transactions.sort_unstable();
            let median = transactions[transactions.len() / 2];
            let poll = polls.iter().sum::<f64>() / polls.len() as f64;
            println!(
                "{name}: probe transactions per refresh: median {median} (max {}); per RTT poll: {poll:.1}",
                transactions.last().unwrap()
            );
        }
    }
}
