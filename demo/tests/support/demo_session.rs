//! What the demo's session must come to, wherever the demo runs (the simulated board, QEMU's
//! boards): every failure path, spawn chains and raise sites, storage sizes, then a stop that ends
//! in KeyboardInterrupt with every task's cleanup; defmt lines decoded with level, time and line.

use super::Harness;
use asyncmon_protocol::host::{
    ClientRequest, FailurePath, LogLevel, LogLine, LogSource, SessionState, TargetState, TaskOutcome,
    TaskState,
};
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
    // And what the task's future really uses of it: less than the slot, more than nothing.
    for task in h.session.tasks.iter().filter(|t| t.name != "main") {
        let (used, reserved) = (task.future_bytes.expect("the future's size"), task.storage_bytes.unwrap());
        assert!(0 < used && used <= reserved, "{}: {used} of {reserved} bytes", task.name);
        assert_eq!(reserved, asyncmon_demo::demo::SLOT_BYTES as u32, "{}", task.name);
    }

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
    assert_eq!(h.session.stats.frames_rejected, 0, "{:#?}", h.session.problems);
    assert_eq!(h.session.stats.frames_lost_on_device, 0, "{:#?}", h.session.problems);
    assert!(h.session.stats.frames > 10);
}

/// The 1-based line of the first line of `src/demo.rs` containing `needle`.
fn demo_line(needle: &str) -> u32 {
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/demo.rs")).unwrap();
    source.lines().position(|l| l.contains(needle)).expect("the statement is in demo.rs") as u32 + 1
}

fn defmt_lines(logs: &std::collections::VecDeque<LogLine>) -> Vec<&LogLine> {
    logs.iter().filter(|l| l.source == LogSource::Defmt).collect()
}

/// Waits for the demo's defmt lines and checks they are decoded with level, device time and the
/// statement's file and line, next to the failure they led up to.
pub async fn defmt_logs(h: &mut Harness) {
    h.until("a defmt warning and the failure it led to", Duration::from_secs(20), |s| {
        s.failures.iter().any(|f| f.path == FailurePath::Unretrieved)
            && defmt_lines(&s.logs).iter().any(|l| l.level == Some(LogLevel::Warn))
    })
    .await;
    let lines = defmt_lines(&h.session.logs);

    let reading = lines.iter().find(|l| l.level == Some(LogLevel::Info)).expect("an info line");
    assert_eq!(
        reading.text, "sensor_poll: 22 C on poll 1",
        "the first poll's reading, formatted on the host"
    );
    let at = reading.location.as_ref().expect("the ELF's debug info places the statement");
    assert!(at.file.ends_with("demo/src/demo.rs"), "{at}");
    assert_eq!(at.line, demo_line(r#"defmt::info!("sensor_poll: {=i32} C on poll {=u32}""#));
    let time = reading.device_time.as_deref().expect("the firmware defines defmt::timestamp!");
    // `{=u64:us}` is shown in seconds since the firmware started.
    let seconds: f64 = time.parse().unwrap_or_else(|_| panic!("{time:?}"));
    assert!(seconds > 0.0 && seconds < 60.0, "device time {time:?}");

    let warning = lines.iter().find(|l| l.level == Some(LogLevel::Warn)).unwrap();
    assert_eq!(warning.text, "sensor_poll: no answer on poll 3");
    assert_eq!(warning.location.as_ref().unwrap().line, demo_line("defmt::warn!("));
    // The warning precedes the failure it explains.
    let failure = h.session.failures.iter().find(|f| f.path == FailurePath::Unretrieved).unwrap();
    assert!(warning.at_ms <= failure.at_ms);

    // Device time only grows, and no line was malformed.
    let times: Vec<f64> = lines.iter().filter_map(|l| l.device_time.as_deref()?.parse().ok()).collect();
    assert!(times.len() >= 2 && times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(
        !h.session.logs.iter().any(|l| l.source == LogSource::Daemon && l.text.starts_with("defmt")),
        "no defmt problem reported"
    );
}

/// After a reset: the second epoch is attached and has failed a task again.
fn a_new_epoch_with_a_failure(s: &SessionState) -> bool {
    s.epoch == 2
        && s.target_state == TargetState::Attached
        && s.failures.iter().any(|f| f.epoch == 2 && f.path == FailurePath::Unretrieved)
}

/// After a reset: the first epoch's tasks are listed as gone (or finished), the new ones run.
fn old_tasks_gone(s: &SessionState) {
    let old: Vec<_> = s.tasks.iter().filter(|t| t.epoch == 1).collect();
    assert!(!old.is_empty(), "the first epoch's tasks are still listed");
    assert!(
        old.iter().all(|t| t.state == TaskState::Gone || matches!(t.state, TaskState::Finished(_))),
        "{old:#?}"
    );
    assert!(old.iter().any(|t| t.name == "blinky" && t.state == TaskState::Gone));
    assert!(s.tasks.iter().any(|t| t.epoch == 2 && t.name == "blinky" && t.state == TaskState::Running));
}

/// Waits for a failure in the first epoch, asks for a reset, then checks the second epoch (see
/// [`a_new_epoch_follows`]) and that the reset was said with `problem`.
pub async fn a_reset_starts_a_new_epoch(h: &mut Harness, problem: &str) {
    h.until("a failure in the first epoch", Duration::from_secs(20), |s| {
        s.epoch == 1 && s.failures.iter().any(|f| f.path == FailurePath::Unretrieved)
    })
    .await;
    h.client.request(&ClientRequest::Reset).await.unwrap();
    a_new_epoch_follows(h).await;
    assert!(h.session.problems.iter().any(|p| p.text.contains(problem)), "{:#?}", h.session.problems);
}

/// Waits for the second epoch to fail a task again; the first epoch's tasks must be gone.
pub async fn a_new_epoch_follows(h: &mut Harness) {
    h.until("a failure in the second epoch", Duration::from_secs(20), a_new_epoch_with_a_failure).await;
    old_tasks_gone(&h.session);
}
