//! What the demo's session must come to, wherever the demo runs (the simulated board, QEMU's
//! boards): every failure path, spawn chains and raise sites, storage sizes, then a stop that ends
//! in KeyboardInterrupt with every task's cleanup.

use super::Harness;
use asyncmon_protocol::host::{FailurePath, LogSource, TargetState, TaskOutcome, TaskState};
use std::time::Duration;

/// Waits for the demo's failures and checks each path they took, then stops the firmware and
/// checks the interrupt report, the exit and the cleanup lines.
pub async fn failure_paths_then_stop(h: &mut Harness) {
    h.until("an unretrieved failure", Duration::from_secs(20), |s| {
        s.failures.iter().any(|f| f.path == FailurePath::Unretrieved)
    })
    .await;
    let firmware = h.session.firmware.clone().expect("the hello arrived first");
    assert_eq!(firmware.name, "asyncmon-demo");
    assert_eq!(h.session.target_state, TargetState::Attached);

    let failure = h.session.failures.iter().find(|f| f.path == FailurePath::Unretrieved).unwrap().clone();
    assert_eq!(failure.message, "Task exception was never retrieved");
    let exception = failure.exception.as_ref().expect("the exception is in the context");
    assert_eq!(exception.type_name, "asyncmon_demo::demo::SensorError");
    assert_eq!(exception.message, "sensor poll #3 timed out after 50 ms");
    let raised = exception.raised_at.as_ref().expect("SensorError records where it was raised");
    assert!(raised.file.ends_with("demo/src/demo.rs"), "{raised}");
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/demo.rs")).unwrap();
    let raise_line = source.lines().nth(raised.line as usize - 1).unwrap();
    assert!(raise_line.contains("SensorError::timeout(poll)"), "raise location points at {raise_line:?}");

    let task = failure.task.as_ref().expect("the failed task is in the context");
    assert_eq!(task.name, "sensor_poll");
    let spawn_line = source.lines().nth(task.spawned_at.line as usize - 1).unwrap();
    assert!(spawn_line.contains(r#"spawn("sensor_poll""#), "spawn location points at {spawn_line:?}");
    let chain: Vec<_> =
        h.session.spawn_chain(failure.epoch, task.id).iter().map(|t| t.name.clone()).collect();
    assert_eq!(chain, ["sensor_poll", "telemetry", "main"]);

    // The failure main awaited and handled was recorded as awaited, not sent to the handler.
    assert!(h
        .session
        .failures
        .iter()
        .any(|f| f.path == FailurePath::Awaited && f.task.as_ref().is_some_and(|t| t.name == "calibrate")));
    // The self test's failure came out of the gather; its siblings were cancelled.
    let gathered =
        h.session.failures.iter().find(|f| f.path == FailurePath::Gathered).expect("a gathered failure");
    assert_eq!(gathered.task.as_ref().unwrap().name, "probe_mag");
    assert_eq!(gathered.exception.as_ref().unwrap().message, "self-test probe mag read 0xFFFF");
    for probe in ["probe_accel", "probe_gyro", "modem_connect"] {
        let task = h.session.tasks.iter().find(|t| t.name == probe).unwrap();
        assert_eq!(task.state, TaskState::Finished(TaskOutcome::Cancelled), "{probe}");
    }
    assert!(
        h.session.tasks.iter().all(|t| t.storage_bytes.is_some()),
        "every spawn carries its storage size"
    );

    h.client.request(&asyncmon_protocol::host::ClientRequest::Stop).await.unwrap();
    h.until("the interrupt acknowledgement and the exit", Duration::from_secs(10), |s| {
        s.interrupt.is_some() && matches!(s.target_state, TargetState::Exited { .. })
    })
    .await;
    let report = h.session.interrupt.clone().unwrap();
    // A sensor_poll in flight at the stop is cancelled too; the long-lived tasks always are.
    let mut ended: Vec<(&str, TaskOutcome)> = report
        .tasks
        .iter()
        .filter(|t| t.name != "sensor_poll")
        .map(|t| (t.name.as_str(), t.outcome))
        .collect();
    ended.sort_by_key(|(name, _)| *name);
    assert_eq!(
        ended,
        [
            ("blinky", TaskOutcome::Cancelled),
            ("flash_log", TaskOutcome::Cancelled),
            ("main", TaskOutcome::Cancelled),
            ("telemetry", TaskOutcome::Cancelled),
            ("uart_rx", TaskOutcome::Cancelled)
        ]
    );
    assert!(!report.hard_stop);
    assert_eq!(
        h.session.target_state,
        TargetState::Exited { code: Some(130), description: "KeyboardInterrupt (exit code 130)".into() }
    );

    // The firmware's RTT log channel: the custom handler, the timeout, and every cleanup, async ones
    // included.
    h.until("the cleanup output", Duration::from_secs(5), |s| {
        let lines: Vec<_> =
            s.logs.iter().filter(|l| l.source == LogSource::RttText).map(|l| l.text.as_str()).collect();
        [
            "handler: failure #1 in sensor_poll",
            "main: modem did not connect (timed out after 100 ms), continuing offline",
            "cleanup: modem_connect powered the modem down",
            "cleanup: blinky turned the LED off",
            "cleanup: telemetry released its resources",
            "cleanup: main released its resources",
            "demo: KeyboardInterrupt (stop request 1)",
        ]
        .iter()
        .all(|want| lines.contains(want))
    })
    .await;
    assert_eq!(h.session.stats.frames_rejected, 0);
    assert_eq!(h.session.stats.frames_lost_on_device, 0);
    assert!(h.session.stats.frames > 10);
}
