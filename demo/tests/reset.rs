//! Resets on the simulated board: the firmware process restarts, a new hello arrives, the daemon
//! re-attaches by itself, starts a new session epoch and shows the old tasks as gone.

mod support;

use asyncmon_daemon::backend::sim::SimConfig;
use asyncmon_daemon::daemon::TargetConfig;
use asyncmon_protocol::host::TargetState;
use std::time::Duration;
use support::Harness;

/// The tests here look for their firmware among this process's children: one at a time.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_from_a_client_restarts_the_firmware_in_a_new_epoch() {
    let _turn = TURN.lock().await;
    let mut h = Harness::start(&["demo"], Duration::from_secs(10)).await;
    support::demo_session::a_reset_starts_a_new_epoch(&mut h, "the firmware was reset").await;
}

/// The firmware processes this test process started.
fn firmware_children() -> Vec<u32> {
    let firmware = std::fs::canonicalize(support::firmware()).unwrap();
    support::children(|pid, _| {
        std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == firmware)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_firmware_is_restarted_when_restart_is_on() {
    let _turn = TURN.lock().await;
    let mut sim = SimConfig::new(support::firmware(), vec!["demo".into()]);
    sim.restart = true;
    let mut h = Harness::serve(TargetConfig::Sim(sim), None).await;
    h.until("the first epoch attached", Duration::from_secs(20), |s| {
        s.epoch == 1 && s.target_state == TargetState::Attached && s.tasks.len() >= 3
    })
    .await;
    let children = firmware_children();
    assert_eq!(children.len(), 1, "one firmware process: {children:?}");
    let killed = std::process::Command::new("kill").args(["-9", &children[0].to_string()]).status().unwrap();
    assert!(killed.success());
    support::demo_session::a_new_epoch_follows(&mut h).await;
    assert!(
        h.session
            .problems
            .iter()
            .any(|p| p.text.contains("killed by signal 9") && p.text.contains("restarting it")),
        "{:#?}",
        h.session.problems
    );
}
