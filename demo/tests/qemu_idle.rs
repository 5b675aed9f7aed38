//! An idle firmware lets QEMU sleep: once the demo has settled (its self test cancelled two probes
//! whose timers were still pending, and the modem task with its hour-long one), the core spends its
//! time in `wfi` between timer interrupts, and QEMU uses a few percent of a host core. Before the
//! stale-wake fix the executor spun forever after those cancellations (100% of a core); with `wfe`
//! instead of `wfi` QEMU would spin too. Its QEMU is found among the test's children by the
//! firmware it runs, and its CPU time read from /proc.
//!
//! And a firmware with nothing to do does not wake at all: its doorbell is the board's serial port,
//! which the daemon rings after each command, so it never looks for commands on its own.

mod support;

use asyncmon_daemon::daemon::TargetConfig;
use asyncmon_protocol::host::{ClientRequest, TaskOutcome, TaskState};
use std::time::{Duration, Instant};
use support::boards::{demo_on, idle_on};
use support::Harness;

/// This process's children running `qemu-system-*` on `elf`.
fn qemu_children(elf: &std::path::Path) -> Vec<u32> {
    let elf = elf.to_string_lossy().into_owned();
    support::children(|pid, comm| {
        comm.starts_with("qemu-system")
            && std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| cmdline.split(|b| *b == 0).any(|arg| arg == elf.as_bytes()))
    })
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
    let config = demo_on(board, machine);
    let elf = config.elf.clone();
    let mut h = Harness::serve(TargetConfig::Qemu(config), None).await;
    h.until("the modem task cancelled after its timeout", Duration::from_secs(20), |s| {
        s.tasks
            .iter()
            .any(|t| t.name == "modem_connect" && t.state == TaskState::Finished(TaskOutcome::Cancelled))
    })
    .await;
    let qemu = qemu_children(&elf);
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

/// The idle firmware sleeps a few seconds, is stopped, and says how often its run loop went round
/// meanwhile. Its only timer is an hour away, so the stop reaches it through the doorbell or not
/// at all; a firmware that looked for commands every `fallback_poll` (20 ms) would have gone round
/// 50 times a second.
async fn sleeps_until_rung(board: &str, machine: &str) {
    let mut h = Harness::serve(TargetConfig::Qemu(idle_on(board, machine)), None).await;
    h.until("the idle firmware waiting", Duration::from_secs(20), |s| {
        s.logs.iter().any(|l| l.text == "idle: waiting")
    })
    .await;
    let idle = Duration::from_secs(3);
    tokio::time::sleep(idle).await;
    h.client.request(&ClientRequest::Stop).await.unwrap();
    let said = "idle: the run loop went round ";
    h.until(
        "the stop, through the doorbell (the firmware's timer is an hour away)",
        Duration::from_secs(10),
        |s| s.logs.iter().any(|l| l.text.starts_with(said)),
    )
    .await;
    let line = h.session.logs.iter().find(|l| l.text.starts_with(said)).unwrap().text.clone();
    let passes: u32 = line[said.len()..].trim_end_matches(" times").parse().unwrap();
    println!("{machine}: {passes} run-loop passes in {idle:?} idle and a stop");
    // Start-up, the hello, the host's first commands and the stop take a handful of passes.
    assert!(passes < 20, "{line}: the firmware woke while idle ({board})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_firmware_sleeps_until_the_host_rings() {
    for (board, machine) in [("microbit", "microbit"), ("mps2-an386", "mps2-an386"), ("riscv-virt", "virt")] {
        sleeps_until_rung(board, machine).await;
    }
}
