//! Frames lost on the device leave no ghosts: tasks whose end frames were dropped (the up buffer was
//! full) are resolved by a roll call in the same session — shown gone, not running forever — and the
//! failures already shown stay, because the session (its epoch) does not change.

mod support;

use asyncmon_demo::faults::LOST_ENDS_TASKS;
use asyncmon_protocol::host::{ClientRequest, SessionState, TaskState};
use std::time::Duration;
use support::Harness;

fn sleepers(s: &SessionState) -> impl Iterator<Item = &asyncmon_protocol::host::Task> {
    s.tasks.iter().filter(|t| t.name == "sleeper")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_whose_end_frames_were_lost_are_resolved_in_the_same_session() {
    let dir = tempfile::tempdir().unwrap();
    let go = dir.path().join("go");
    let mut h = Harness::start(&["lost-ends", go.to_str().unwrap()], Duration::from_secs(10)).await;
    h.until("the sleepers running and the unawaited failure", Duration::from_secs(20), |s| {
        sleepers(s).filter(|t| t.state == TaskState::Running).count() == LOST_ENDS_TASKS
            && !s.failures.is_empty()
    })
    .await;
    let (epoch, failures) = (h.session.epoch, h.session.failures.clone());

    std::fs::write(&go, b"").unwrap();
    h.until("the lost frames counted and no sleeper left running", Duration::from_secs(20), |s| {
        s.stats.frames_lost_on_device > 0 && sleepers(s).all(|t| t.state != TaskState::Running)
    })
    .await;
    let gone = sleepers(&h.session).filter(|t| t.state == TaskState::Gone).count();
    assert!(gone > 0, "some end frames were lost, and those tasks are shown gone: {:#?}", h.session.tasks);
    assert_eq!(h.session.epoch, epoch, "the same session: no new epoch");
    assert_eq!(h.session.failures[..failures.len()], failures[..], "the failures shown before stay");
    assert!(
        h.session.tasks.iter().any(|t| t.id == 0 && t.epoch == epoch && t.state == TaskState::Running),
        "main, still running, is not a ghost"
    );

    h.client.request(&ClientRequest::Stop).await.unwrap();
    h.until("the stop's report", Duration::from_secs(10), |s| s.interrupt.is_some()).await;
}
