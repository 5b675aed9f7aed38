//! An embassy-executor firmware, watched by asyncmon-embassy (`firmware/embassy-example`: its tasks
//! untouched, defmt-rtt and panic-probe kept, built with fat LTO; the observer and embassy's `trace`
//! feature added), on QEMU's Cortex-M4F and Cortex-M0 and on the simulated board (embassy's std
//! platform):
//! its tasks arrive named from the firmware's symbols, with poll figures and their await traces
//! (each at its `.await`, waiting for a tick, a channel, a timer, a signal); the task that blocks
//! the executor shows its long poll; the firmware's defmt logs arrive from its own `_SEGGER_RTT`; the
//! panic (panic-probe's on a board) arrives as a failure naming the task that was running, at the
//! app's line, and on a board halts the session: every task ended with it, a stop refused at once;
//! a stop runs the firmware's stop hook and is answered as such, never as a KeyboardInterrupt.

mod support;

use asyncmon_daemon::backend::sim::SimConfig;
use asyncmon_daemon::daemon::TargetConfig;
use asyncmon_protocol::host::{FailurePath, LogSource, SessionState, TargetState, TaskState};
use std::time::Duration;
use support::boards::embassy_example_on;
use support::Harness;

fn named<'a>(session: &'a SessionState, name: &str) -> Option<&'a asyncmon_protocol::host::Task> {
    session.tasks.iter().find(|t| t.name == name && t.epoch == session.epoch)
}

/// The 1-based line of the example's source that holds `needle`.
fn source_line(needle: &str) -> u32 {
    let source = include_str!("../../firmware/embassy-example/src/tasks.rs");
    source.lines().position(|l| l.contains(needle)).expect("the line is in the example") as u32 + 1
}

/// The example built for the simulated board (`embassy/examples/sim_example.rs`: embassy's std
/// platform), in a target directory of its own (its embassy-executor has another platform than the
/// workspace's benchmarks).
fn sim_example() -> TargetConfig {
    sim_example_with(Vec::new())
}

/// [`sim_example`] given `args`.
fn sim_example_with(args: Vec<String>) -> TargetConfig {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let target_dir = format!("{root}/target/embassy-sim");
    let out = std::process::Command::new(env!("CARGO"))
        .current_dir(root)
        .args([
            "build",
            "-q",
            "-p",
            "asyncmon-embassy",
            "--example",
            "sim_example",
            "--features",
            "sim-example",
        ])
        .args(["--target-dir", &target_dir])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "building the simulated board's example failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut sim = SimConfig::new(format!("{target_dir}/debug/examples/sim_example"), args);
    sim.attach_timeout = Duration::from_secs(10);
    TargetConfig::Sim(sim)
}

/// How the example's firmware panics: panic-probe on a board (the core halts), asyncmon's panic
/// hook on the simulated board (the process ends).
#[derive(PartialEq)]
enum PanicsWith {
    PanicProbe,
    Hook,
}

async fn tasks_polls_and_the_panic(target: TargetConfig, panics: PanicsWith) {
    let mut h = Harness::serve(target, None).await;
    h.until("the example's four tasks, by name", Duration::from_secs(30), |s| {
        ["ticker", "waiter", "auditor", "hog", "faulty"].iter().all(|name| named(s, name).is_some())
    })
    .await;
    assert!(
        h.session.tasks.iter().all(|t| !t.name.starts_with("embassy task @")),
        "every task is named from its pool: {:?}",
        h.session.tasks.iter().map(|t| &t.name).collect::<Vec<_>>()
    );
    // Await traces, read from guest RAM with the ELF's DWARF (embassy's TaskStorage<F>): each task
    // at its `.await`, waiting for what it waits for, in words, with the static it waits on.
    h.client.request(&asyncmon_protocol::host::ClientRequest::RefreshTraces { target: 0 }).await.unwrap();
    let expected = [
        ("ticker", "ticker.next().await", "the next tick"),
        ("waiter", "READINGS.receive().await", "a message on Channel READINGS"),
        ("auditor", "*LEDGER.lock().await", "the lock of Mutex LEDGER"),
        ("hog", "Timer::after_millis(500).await", "a timer"),
        ("faulty", "FAULT.wait().await", "Signal FAULT"),
    ];
    h.until("every task's await trace", Duration::from_secs(10), |s| {
        expected.iter().all(|(name, line, what)| {
            let Some(task) = named(s, name) else { return false };
            let Some(trace) = s.trace(task.id) else { return false };
            let at = trace.innermost_await().and_then(|f| f.location.as_ref());
            at.is_some_and(|at| {
                at.file.ends_with("embassy-example/src/tasks.rs") && at.line == source_line(line)
            }) && asyncmon_protocol::host::wording::waiting_for_words(trace) == *what
        })
    })
    .await;
    // Where each task comes from: the device sends no place for an embassy task; its function's
    // declaration, from the debug info.
    h.until("the tasks' declarations", Duration::from_secs(10), |s| {
        ["ticker", "waiter", "auditor"]
            .iter()
            .all(|name| named(s, name).is_some_and(|t| t.spawned_at.line > 0))
    })
    .await;
    for name in ["ticker", "waiter", "auditor"] {
        let at = &named(&h.session, name).unwrap().spawned_at;
        assert!(at.file.ends_with("embassy-example/src/tasks.rs"), "{name}: {at:?}");
        assert_eq!(at.line, source_line(&format!("pub async fn {name}()")), "{name}: {at:?}");
    }
    let ticker = named(&h.session, "ticker").unwrap().id;
    let frames = &h.session.trace(ticker).unwrap().frames;
    assert!(frames[0].function.ends_with("::tasks::ticker"), "the task's body, as written: {frames:?}");
    // Poll figures: the ticker is polled every 100 ms; hog blocks for 30 ms in one poll.
    h.until("the ticker's and hog's poll figures", Duration::from_secs(10), |s| {
        named(s, "ticker").and_then(|t| t.stats).is_some_and(|st| st.polls >= 5)
            && named(s, "hog").and_then(|t| t.stats).is_some_and(|st| st.max_poll_us >= 25_000)
    })
    .await;
    // The executor's idle time: it mostly sleeps; hog's 30 ms of every 500 ms are busy.
    h.until("the executor's idle time", Duration::from_secs(10), |s| {
        s.executor_load.is_some_and(|load| load.elapsed_us >= 1_000_000)
    })
    .await;
    let idle = h.session.executor_load.unwrap().idle_percent();
    assert!((50.0..99.5).contains(&idle), "idle {idle:.1}%: asleep most of the time, busy in hog's polls");
    let ticker = named(&h.session, "ticker").unwrap().stats.unwrap();
    assert!(ticker.max_poll_us < 10_000, "the ticker's polls are short: {ticker:?}");
    // At tick 40 (4 s) `faulty` panics: a failure naming it.
    h.until("the panic", Duration::from_secs(20), |s| {
        s.failures.iter().any(|f| f.path == FailurePath::Panic)
    })
    .await;
    let panic = h.session.failures.iter().find(|f| f.path == FailurePath::Panic).unwrap();
    let exception = panic.exception.as_ref().expect("the panic's message");
    // `defmt::unwrap!` on a board (its own panic line, at the app's line, not inside defmt), std's
    // `unwrap` on the simulated board.
    assert!(exception.message.contains("NoAnswer { tick: 40 }"), "{panic:?}");
    if panics == PanicsWith::PanicProbe {
        assert!(exception.message.starts_with("unwrap failed: gyro_reading(tick)"), "{panic:?}");
    }
    assert_eq!(panic.task.as_ref().map(|t| t.name.as_str()), Some("faulty"), "{panic:?}");
    let raised_at = exception.raised_at.as_ref().expect("where it was raised");
    assert!(raised_at.file.ends_with("embassy-example/src/tasks.rs"), "{raised_at:?}");
    assert_eq!(raised_at.line, source_line("unwrap!(gyro_reading(tick))"), "the app's line: {raised_at:?}");
    if panics == PanicsWith::Hook {
        return;
    }
    // The firmware's defmt line, decoded from defmt-rtt's own control block.
    assert!(
        h.session.logs.iter().any(|l| l.source == LogSource::Defmt && l.text == "embassy example: started"),
        "{:?}",
        h.session.logs
    );
    // panic-probe halted the core: the session says so, no task is left waiting, a stop is refused.
    h.until("the halt", Duration::from_secs(5), |s| matches!(s.target_state, TargetState::Halted { .. }))
        .await;
    let TargetState::Halted { reason } = &h.session.target_state else { unreachable!() };
    assert!(reason.starts_with("panic in faulty at ") && reason.contains("tasks.rs:"), "{reason}");
    let epoch = h.session.epoch;
    let tasks: Vec<_> = h.session.tasks.iter().filter(|t| t.epoch == epoch).collect();
    assert!(tasks.iter().all(|t| t.state != TaskState::Running), "{tasks:?}");
    assert!(named(&h.session, "waiter").is_some_and(|t| t.state == TaskState::Halted));
    assert!(h.session.traces.tasks.is_empty(), "no stale waits: {:?}", h.session.traces);
    h.client.request(&asyncmon_protocol::host::ClientRequest::Stop).await.unwrap();
    let refused = h.refusal(Duration::from_secs(2)).await;
    assert!(refused.contains("halted (panic in faulty") && refused.contains("asyncmon reset"), "{refused}");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_mps2_an386_tasks_polls_and_the_panic_arrive() {
    let target = TargetConfig::Qemu(embassy_example_on("mps2-an386", "mps2-an386"));
    tasks_polls_and_the_panic(target, PanicsWith::PanicProbe).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn on_the_simulated_board_tasks_polls_and_the_panic_arrive() {
    tasks_polls_and_the_panic(sim_example(), PanicsWith::Hook).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn on_microbit_tasks_polls_and_the_panic_arrive() {
    let target = TargetConfig::Qemu(embassy_example_on("microbit", "microbit"));
    tasks_polls_and_the_panic(target, PanicsWith::PanicProbe).await;
}

async fn a_stop_runs_the_firmwares_stop_hook(target: TargetConfig) {
    let mut h = Harness::serve(target, None).await;
    h.until("the ticker", Duration::from_secs(30), |s| named(s, "ticker").is_some()).await;
    assert_eq!(h.session.executor, asyncmon_protocol::host::Executor::Embassy);
    h.client.request(&asyncmon_protocol::host::ClientRequest::Stop).await.unwrap();
    h.until("the stop hook's answer and the firmware's end", Duration::from_secs(10), |s| {
        s.stop_handled.is_some()
            && matches!(s.target_state, asyncmon_protocol::host::TargetState::Exited { .. })
    })
    .await;
    let answer = h.session.stop_handled.clone().unwrap();
    assert!(answer.contains("stop hook ran") && answer.contains("no KeyboardInterrupt"), "{answer}");
    assert!(h.session.interrupt.is_none(), "no KeyboardInterrupt report for an embassy firmware");
    assert!(h.session.failures.is_empty(), "it stopped before its panic: {:?}", h.session.failures);
}

#[tokio::test(flavor = "multi_thread")]
async fn on_mps2_an386_a_stop_runs_the_stop_hook_never_a_keyboard_interrupt() {
    a_stop_runs_the_firmwares_stop_hook(TargetConfig::Qemu(embassy_example_on("mps2-an386", "mps2-an386")))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn on_the_simulated_board_a_stop_runs_the_stop_hook() {
    a_stop_runs_the_firmwares_stop_hook(sim_example()).await;
}

/// More tasks than the observer's table holds (32): the first 32 are shown, and the host says how
/// many run unseen and what to do about it.
#[tokio::test(flavor = "multi_thread")]
async fn on_the_simulated_board_tasks_past_the_observers_table_are_said_to_run_unseen() {
    let target = sim_example_with(vec!["--crowd".into(), "40".into()]);
    let mut h = Harness::serve(target, None).await;
    // main, the example's five tasks and forty more: fourteen past the table.
    let unseen =
        |s: &SessionState| s.problems.iter().find(|p| p.text.starts_with("14 tasks unseen:")).cloned();
    h.until("the crowd spawned and the unseen said", Duration::from_secs(30), |s| {
        unseen(s).is_some() && s.tasks.iter().filter(|t| t.state == TaskState::Running).count() >= 32
    })
    .await;
    let text = unseen(&h.session).unwrap().text;
    assert!(text.contains("at most 32"), "{text}");
    assert!(text.contains("max-tasks-64"), "it says what to do: {text}");
    let shown = h.session.tasks.iter().filter(|t| t.state == TaskState::Running).count();
    assert_eq!(shown, 32, "the table's tasks are shown, the others are not made up");
}

/// The example built with the observer's `poll-trace` on QEMU's Cortex-M4F: every poll arrives,
/// in the order the core ran them, with its length in the device's clock (the hog's 30 ms blocking
/// poll is one slice of at least 30 ms; the ticker is polled about every 100 ms), and the recording's
/// Perfetto timeline draws each as a slice inside its task's life.
#[tokio::test(flavor = "multi_thread")]
async fn on_mps2_an386_every_poll_arrives_in_order_and_is_a_slice_inside_its_tasks_life() {
    use asyncmon_protocol::host::{PollSlice, SessionEvent};
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("polls.asyncmon");
    let target =
        TargetConfig::Qemu(support::boards::embassy_example_poll_trace_on("mps2-an386", "mps2-an386"));
    let mut h = Harness::serve(target, Some(recording.clone())).await;
    h.until("the example's tasks, by name", Duration::from_secs(30), |s| {
        ["ticker", "hog"].iter().all(|name| named(s, name).is_some())
    })
    .await;
    let (ticker, hog) = (named(&h.session, "ticker").unwrap().id, named(&h.session, "hog").unwrap().id);
    let mut polls: Vec<PollSlice> = Vec::new();
    let long_hog = |polls: &[PollSlice]| polls.iter().any(|p| p.task == hog && p.busy_ns >= 30_000_000);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !(long_hog(&polls) && polls.iter().filter(|p| p.task == ticker).count() >= 8) {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        assert!(!left.is_zero(), "no hog's long poll and 8 ticker polls in 30 s: {polls:?}");
        if let SessionEvent::Polls(batch) = h.next_event(left).await {
            polls.extend(batch.slices);
        }
    }
    assert!(
        polls.windows(2).all(|w| w[0].start_ns + w[0].busy_ns <= w[1].start_ns),
        "polls overlap: {polls:?}"
    );
    let blocked = polls.iter().filter(|p| p.task == hog).map(|p| p.busy_ns).max().unwrap();
    assert!((30_000_000..100_000_000).contains(&blocked), "the hog blocks 30 ms: its poll took {blocked} ns");
    let ticks: Vec<u64> = polls.iter().filter(|p| p.task == ticker).map(|p| p.start_ns).collect();
    let spacing = (ticks[ticks.len() - 1] - ticks[0]) / (ticks.len() as u64 - 1);
    assert!(
        (40_000_000..200_000_000).contains(&spacing),
        "the ticker ticks every 100 ms: {spacing} ns apart"
    );

    // The recording's timeline: the hog's polls inside its life, on its track.
    let Harness { daemon, .. } = h;
    tokio::task::block_in_place(|| daemon.shutdown());
    let (header, events) = asyncmon_daemon::export::perfetto::read_recording(&recording).unwrap();
    let trace = asyncmon_daemon::export::perfetto::trace(&header.target.name, &events);
    let events = trace["traceEvents"].as_array().unwrap();
    let track = events
        .iter()
        .find(|e| e["name"] == "thread_name" && e["args"]["name"].as_str().unwrap().starts_with("hog (task"))
        .expect("the hog's track")["tid"]
        .clone();
    let slices: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["ph"] == "X" && e["tid"] == track).collect();
    let life = slices.iter().find(|e| e["name"] == "hog").expect("the hog's life");
    let (from, to) =
        (life["ts"].as_f64().unwrap(), life["ts"].as_f64().unwrap() + life["dur"].as_f64().unwrap());
    let hog_polls: Vec<&&serde_json::Value> = slices.iter().filter(|e| e["name"] == "poll").collect();
    assert!(hog_polls.len() >= 2, "{slices:?}");
    for poll in hog_polls {
        let (start, dur) = (poll["ts"].as_f64().unwrap(), poll["dur"].as_f64().unwrap());
        assert!(
            from <= start && start + dur <= to,
            "a poll at {start} µs for {dur} µs outside the life {from}..{to}"
        );
    }
}
