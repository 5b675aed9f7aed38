//! An idle firmware lets QEMU sleep: once the demo has settled (its self test cancelled two probes
//! whose timers were still pending, and the modem task with its hour-long one), the core spends its
//! time in `wfi` between timer interrupts, and QEMU uses a few percent of a host core. Before the
//! stale-wake fix the executor spun forever after those cancellations (100% of a core); with `wfe`
//! instead of `wfi` QEMU would spin too. One QEMU per test binary: its CPU time is read from /proc.

mod support;

use asyncmon_daemon::daemon::TargetConfig;
use asyncmon_protocol::host::{TaskOutcome, TaskState};
use std::time::{Duration, Instant};
use support::boards::demo_on;
use support::Harness;

/// This process's children running `qemu-system-*`.
fn qemu_children() -> Vec<u32> {
    support::children(|_, comm| comm.starts_with("qemu-system"))
}

/// CPU time (user + system) process `pid` has used.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<u64> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|f| f.parse().unwrap())
        .collect();
    let ticks: u64 =
        String::from_utf8(std::process::Command::new("getconf").arg("CLK_TCK").output().unwrap().stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
    Duration::from_secs_f64((fields[0] + fields[1]) as f64 / ticks as f64)
}

async fn idles(board: &str, machine: &str) {
    let mut h = Harness::serve(TargetConfig::Qemu(demo_on(board, machine)), None).await;
    h.until("the modem task cancelled after its timeout", Duration::from_secs(20), |s| {
        s.tasks
            .iter()
            .any(|t| t.name == "modem_connect" && t.state == TaskState::Finished(TaskOutcome::Cancelled))
    })
    .await;
    let qemu = qemu_children();
    assert_eq!(qemu.len(), 1, "one QEMU runs the demo: {qemu:?}");
    let (cpu, wall) = (cpu_time(qemu[0]), Instant::now());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let share = (cpu_time(qemu[0]) - cpu).as_secs_f64() / wall.elapsed().as_secs_f64();
    println!("{machine}: QEMU used {:.1}% of a host core running the settled demo", share * 100.0);
    // The demo is not quite idle: a 20 ms control tick, a poll every 200 ms, and a 25 ms blocking
    // write every 700 ms (which QEMU runs flat out).
    assert!(
        share < 0.3,
        "QEMU used {:.0}% of a host core while the demo idled: the firmware does not sleep",
        share * 100.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_demo_lets_qemu_sleep() {
    idles("microbit", "microbit").await;
    idles("mps2-an386", "mps2-an386").await;
    idles("riscv-virt", "virt").await;
}
