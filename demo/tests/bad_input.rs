//! Bad input on the simulated board: each fault gives a clear message in the session (which the
//! monitor shows) and the daemon keeps serving its clients.

mod support;

use asyncmon_daemon::client::Client;
use asyncmon_demo::faults::{EXIT_MID_FRAME_CODE, WRONG_VERSION};
use asyncmon_protocol::host::{ClientRequest, FailurePath, ServerMessage, TargetState};
use asyncmon_protocol::PROTOCOL_VERSION;
use std::time::Duration;
use support::Harness;

/// A second client can still connect and get a snapshot: the daemon keeps serving.
async fn still_serving(h: &Harness) {
    let mut late = Client::connect(&h.daemon.socket, "late client").await.expect("still accepting clients");
    late.request(&ClientRequest::Subscribe).await.unwrap();
    assert!(matches!(late.recv().await.unwrap(), Some(ServerMessage::Snapshot(_))));
}

fn problems(h: &Harness) -> Vec<String> {
    h.session.problems.iter().map(|p| p.text.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firmware_that_never_creates_an_rtt_block() {
    let mut h = Harness::start(&["no-rtt"], Duration::from_millis(700)).await;
    h.until("the attach to fail", Duration::from_secs(10), |s| {
        matches!(s.target_state, TargetState::Failed { .. })
    })
    .await;
    let TargetState::Failed { reason } = &h.session.target_state else { unreachable!() };
    assert!(reason.contains("did not create its RTT control block"), "{reason}");
    assert!(reason.contains("asyncmon_agent::link::init"), "the message says what to do: {reason}");
    still_serving(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firmware_that_exits_mid_frame() {
    let mut h = Harness::start(&["exit-mid-frame"], Duration::from_secs(10)).await;
    h.until("the exit", Duration::from_secs(10), |s| matches!(s.target_state, TargetState::Exited { .. }))
        .await;
    assert_eq!(
        h.session.target_state,
        TargetState::Exited {
            code: Some(EXIT_MID_FRAME_CODE),
            description: format!("failed (exit code {EXIT_MID_FRAME_CODE})")
        }
    );
    assert_eq!(
        h.session.firmware.as_ref().unwrap().name,
        "exit-mid-frame",
        "the hello before the cut arrived"
    );
    let problems = problems(&h);
    assert!(
        problems.iter().any(|p| p.contains("exited in the middle of a frame")
            && p.contains("bytes of an unfinished frame were lost")),
        "{problems:?}"
    );
    assert!(h.session.stats.bytes_rejected > 0);
    still_serving(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firmware_with_another_protocol_version() {
    let mut h = Harness::start(&["wrong-version"], Duration::from_secs(10)).await;
    h.until("the version mismatch", Duration::from_secs(10), |s| {
        matches!(s.target_state, TargetState::Failed { .. })
    })
    .await;
    let TargetState::Failed { reason } = &h.session.target_state else { unreachable!() };
    assert!(reason.contains(&format!("protocol v{WRONG_VERSION}")), "{reason}");
    assert!(reason.contains(&format!("reads v{PROTOCOL_VERSION}")), "{reason}");
    assert!(h.session.firmware.is_none(), "nothing from an unreadable firmware is shown as if it were read");
    h.until("later frames to be skipped, not misread", Duration::from_secs(10), |s| {
        s.stats.frames_rejected >= 3
    })
    .await;
    assert!(h.session.tasks.is_empty());
    still_serving(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_in_the_channel() {
    let mut h = Harness::start(&["garbage"], Duration::from_secs(10)).await;
    h.until("a failure after the garbage", Duration::from_secs(20), |s| {
        s.failures.iter().any(|f| f.path == FailurePath::Unretrieved)
    })
    .await;
    let problems = problems(&h);
    assert!(
        problems.iter().any(|p| p.contains("rejected") && p.contains("bytes from the device link")),
        "{problems:?}"
    );
    assert!(h.session.stats.frames_rejected >= 1);
    assert_eq!(h.session.firmware.as_ref().unwrap().name, "garbage");
    still_serving(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firmware_that_panics() {
    let mut h = Harness::start(&["panic"], Duration::from_secs(10)).await;
    h.until("the panic and the exit", Duration::from_secs(10), |s| {
        s.failures.iter().any(|f| f.path == FailurePath::Panic)
            && matches!(s.target_state, TargetState::Exited { .. })
    })
    .await;
    let panic = h.session.failures.iter().find(|f| f.path == FailurePath::Panic).unwrap();
    let exception = panic.exception.as_ref().unwrap();
    assert_eq!(exception.message, "attempt to divide by zero");
    assert!(exception.raised_at.as_ref().unwrap().file.ends_with("demo/src/faults.rs"));
    assert_eq!(panic.task.as_ref().map(|t| t.name.as_str()), Some("divider"), "the task that was running");
    assert!(
        matches!(h.session.target_state, TargetState::Exited { code: Some(101), .. }),
        "{:?}",
        h.session.target_state
    );
    still_serving(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooded_up_channel_loses_frames_but_accounts_for_every_one() {
    let mut h = Harness::start(&["flood"], Duration::from_secs(10)).await;
    h.until("the flood's report and exit", Duration::from_secs(20), |s| {
        matches!(s.target_state, TargetState::Exited { .. })
            && s.logs.iter().any(|l| l.text.starts_with("flood: produced"))
    })
    .await;
    let report = h.session.logs.iter().find(|l| l.text.starts_with("flood: produced")).unwrap().text.clone();
    let numbers: Vec<u64> =
        report.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
    let (produced, dropped) = (numbers[0], numbers[1]);
    assert!(dropped > 0, "the flood overflowed the 1 KiB buffer: {report}");
    let stats = h.session.stats;
    let loss_reports =
        h.session.problems.iter().filter(|p| p.text.contains("the firmware dropped")).count() as u64;
    let received = stats.frames - loss_reports;
    assert_eq!(stats.frames_lost_on_device, dropped, "every drop was reported: {report}");
    assert_eq!(
        received + stats.frames_lost_on_device,
        produced,
        "received + reported lost = produced ({report})"
    );
    assert_eq!(stats.frames_rejected, 0, "a dropped frame is dropped whole: nothing half-written");
    let failures = h.session.failures.len() as u64;
    assert!(failures > 0 && failures < u64::from(asyncmon_demo::faults::FLOOD_TASKS), "{failures}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firmware_printing_bytes_that_are_not_utf8_is_shown_lossily_and_keeps_running() {
    let mut h = Harness::start(&["non-utf8"], Duration::from_secs(10)).await;
    h.until("the output after the bad bytes, and a failure", Duration::from_secs(20), |s| {
        s.logs.iter().any(|l| l.text == "still printing 49")
            && s.failures.iter().any(|f| f.path == FailurePath::Unretrieved)
    })
    .await;
    let raw = h.session.logs.iter().find(|l| l.text.starts_with("raw ")).expect("the line is shown");
    assert_eq!(raw.text, "raw \u{fffd}\u{fffd} bytes");
    assert!(matches!(h.session.target_state, TargetState::Attached), "{:?}", h.session.target_state);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firmware_that_cannot_be_started_is_tried_again_until_it_can() {
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("firmware");
    let sim = asyncmon_daemon::backend::sim::SimConfig::new(&program, vec!["demo".into()]);
    let mut h = Harness::serve(asyncmon_daemon::daemon::TargetConfig::Sim(sim), None).await;
    h.until("the failed start, said with a retry", Duration::from_secs(10), |s| {
        matches!(&s.target_state, TargetState::Failed { reason }
            if reason.contains("cannot start the firmware") && reason.contains("trying again in"))
    })
    .await;
    // The firmware appears (a build finished, file descriptors were freed): the target comes up
    // by itself.
    std::os::unix::fs::symlink(support::firmware(), &program).unwrap();
    h.until("the firmware started on a later try", Duration::from_secs(20), |s| {
        s.target_state == TargetState::Attached && s.firmware.is_some()
    })
    .await;
    still_serving(&h).await;
}
