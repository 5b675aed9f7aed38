//! The daemon stopped and started again while the firmware runs: the new daemon attaches to the
//! same process and the same control block (`SimConfig::attach_to`, `asyncmond sim --pid`), without
//! a reset: the agent resyncs, the running tasks reappear under their names, new failures arrive,
//! and a stop through the new daemon still ends the firmware with KeyboardInterrupt.

mod support;

use asyncmon_daemon::backend::process::alive;
use asyncmon_daemon::backend::sim::SimConfig;
use asyncmon_daemon::daemon::TargetConfig;
use asyncmon_protocol::host::{ClientRequest, FailurePath, TargetState, TaskState};
use std::time::Duration;
use support::Harness;

fn attach_to(pid: u32) -> TargetConfig {
    let mut sim = SimConfig::new(format!("/proc/{pid}/exe"), Vec::new());
    sim.attach_to = Some(pid);
    TargetConfig::Sim(sim)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_daemon_reattaches_to_the_running_firmware_without_a_reset() {
    // The firmware runs on its own, as after `asyncmond` was started and stopped.
    let (mut firmware, _) = support::running_demo();
    let pid = firmware.id();

    let mut first = Harness::serve(attach_to(pid), None).await;
    first
        .until("a failure through the first daemon", Duration::from_secs(20), |s| {
            s.failures.iter().any(|f| f.path == FailurePath::Unretrieved)
        })
        .await;
    let first_failures = first.session.failures.len();
    drop(first); // The daemon goes away (its Drop shuts it down); the firmware must not.
    std::thread::sleep(Duration::from_millis(200));
    assert!(alive(pid), "stopping the daemon left the firmware running");

    let mut second = Harness::serve(attach_to(pid), None).await;
    second
        .until("the running tasks, announced again, and a new failure", Duration::from_secs(20), |s| {
            s.target_state == TargetState::Attached
                && s.tasks.iter().any(|t| t.name == "blinky" && t.state == TaskState::Running)
                && s.tasks.iter().any(|t| t.name == "telemetry" && t.state == TaskState::Running)
                && s.failures.iter().any(|f| f.path == FailurePath::Unretrieved)
        })
        .await;
    let failure = second.session.failures.iter().find(|f| f.path == FailurePath::Unretrieved).unwrap();
    assert_eq!(failure.task.as_ref().unwrap().name, "sensor_poll", "task names resolve after the resync");
    assert!(first_failures > 0);
    assert_eq!(second.session.firmware.as_ref().unwrap().name, "asyncmon-demo");
    assert!(alive(pid), "no reset: the same process");

    second.client.request(&ClientRequest::Stop).await.unwrap();
    second.until("the acknowledgement", Duration::from_secs(10), |s| s.interrupt.is_some()).await;
    let status = tokio::task::spawn_blocking(move || firmware.wait().unwrap()).await.unwrap();
    assert_eq!(status.code(), Some(130), "the firmware ended with KeyboardInterrupt");
    second
        .until("the exit", Duration::from_secs(10), |s| matches!(s.target_state, TargetState::Exited { .. }))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_daemon_on_a_served_firmware_says_so_and_leaves_the_first_alone() {
    let (mut firmware, target) = support::running_demo();
    let pid = firmware.id();
    let mut first = Harness::serve(target, None).await;
    first.until("attached", Duration::from_secs(20), |s| s.target_state == TargetState::Attached).await;

    let mut second = Harness::serve(attach_to(pid), None).await;
    second
        .until("the refusal", Duration::from_secs(10), |s| {
            matches!(&s.target_state, TargetState::Failed { reason } if reason.contains("already served by another asyncmond"))
        })
        .await;
    let failures = first.session.failures.len();
    first
        .until("the first daemon's next failure", Duration::from_secs(20), |s| s.failures.len() > failures)
        .await;
    assert!(second.session.firmware.is_none(), "the second daemon read nothing");
    first.client.request(&ClientRequest::Stop).await.unwrap();
    first.until("the stop's report", Duration::from_secs(10), |s| s.interrupt.is_some()).await;
    firmware.wait().unwrap();
}
