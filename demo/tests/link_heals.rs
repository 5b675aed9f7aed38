//! A control block that stops making sense for a moment, as after a brown-out or a flash on a real
//! board: the daemon says so once, leaves `Attached` (a stop is refused in words, not swallowed),
//! and re-attaches by itself within a second of the block being sane again; the firmware resyncs
//! and its failures and a stop go through as before.
//!
//! The block is corrupted the way a probe would see it: in the firmware's memory, through
//! `/proc/PID/mem`, while the firmware is paused with SIGSTOP (so that it does not act on the bad
//! value itself).

mod support;

use asyncmon_daemon::backend::locate_in_process;
use asyncmon_daemon::backend::sim::UP_CHANNEL;
use asyncmon_daemon::memory::{ProcessMemory, TargetMemory};
use asyncmon_daemon::rtt::ControlBlock;
use asyncmon_protocol::host::{ClientRequest, FailurePath, TargetState, TaskState};
use std::process::Command;
use std::time::{Duration, Instant};
use support::Harness;

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill").args([&format!("-{name}"), &pid.to_string()]).status().unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_control_block_is_reported_once_and_the_link_heals_by_itself() {
    let (mut firmware, target) = support::running_demo();
    let pid = firmware.id();
    let mut h = Harness::serve(target, None).await;
    h.until("the demo's tasks, attached", Duration::from_secs(20), |s| {
        s.target_state == TargetState::Attached && s.tasks.iter().any(|t| t.name == "telemetry")
    })
    .await;

    // Where the asyncmon up channel's write offset is, as the daemon finds it.
    let (addr, width) = locate_in_process(pid).unwrap();
    let mut mem = ProcessMemory::open(pid).unwrap();
    let block = ControlBlock::read(&mut mem, addr, width).unwrap();
    let up = block.up_channel(UP_CHANNEL).unwrap().clone();
    let n = width.bytes() as usize;
    let mut saved = [0u8; 8];

    signal(pid, "STOP");
    mem.read(up.write_offset_addr(), &mut saved[..n]).unwrap();
    mem.write(up.write_offset_addr(), &(up.size + 1000).to_le_bytes()[..n]).unwrap();
    h.until("the link said lost", Duration::from_secs(5), |s| {
        s.target_state == TargetState::WaitingForControlBlock
            && s.problems.iter().any(|p| p.text.contains("RTT link lost") && p.text.contains("outside its"))
    })
    .await;
    h.client.request(&ClientRequest::Stop).await.unwrap();
    let refused = h.refusal(Duration::from_secs(5)).await;
    assert!(refused.contains("not attached"), "a stop that cannot be delivered is refused: {refused}");
    // Long enough for several attempts to re-open the bad block.
    tokio::time::sleep(Duration::from_millis(600)).await;

    mem.write(up.write_offset_addr(), &saved[..n]).unwrap();
    let sane = Instant::now();
    h.until("re-attached", Duration::from_secs(5), |s| s.target_state == TargetState::Attached).await;
    let healed = sane.elapsed();
    assert!(healed < Duration::from_secs(1), "re-attached {healed:?} after the block was sane again");
    signal(pid, "CONT");

    let (epoch, failures) = (h.session.epoch, h.session.failures.len());
    h.until("the firmware's resync and a new failure", Duration::from_secs(20), |s| {
        s.epoch > epoch
            && s.tasks
                .iter()
                .any(|t| t.epoch == s.epoch && t.name == "telemetry" && t.state == TaskState::Running)
            && s.failures.len() > failures
            && s.failures.last().is_some_and(|f| f.path == FailurePath::Unretrieved)
    })
    .await;
    let lost: Vec<_> =
        h.session.problems.iter().filter(|p| p.text.contains("RTT link")).map(|p| &p.text).collect();
    assert_eq!(lost.len(), 2, "said once, and the recovery once: {lost:?}");

    h.client.request(&ClientRequest::Stop).await.unwrap();
    h.until("the stop's report", Duration::from_secs(10), |s| s.interrupt.is_some()).await;
    firmware.wait().unwrap();
}
