//! The monitor rendered into ratatui's `TestBackend` from a known session: the task table, the
//! failure detail and the status line, at 80x24 and 120x40, and after the target went away.

use asyncmon_protocol::host::*;
use asyncmon_tui::monitor::input::Action;
use asyncmon_tui::monitor::state::MonitorState;
use asyncmon_tui::monitor::view;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn loc(file: &str, line: u32) -> Location {
    Location { file: file.into(), line, column: 5 }
}

fn task(id: TaskId, name: &str, parent: Option<TaskId>, state: TaskState) -> Task {
    Task {
        epoch: 1,
        id,
        name: name.into(),
        spawned_at: loc("src/main.rs", 10 + id),
        parent,
        state,
        storage_bytes: Some(2048),
        future_bytes: Some(96),
        stats: None,
    }
}

/// A session like the demo's: main, blinky, telemetry and a failed sensor_poll.
fn session() -> MonitorState {
    let target = TargetDescription { backend: "sim".into(), name: "/work/target/debug/firmware".into() };
    let mut state = MonitorState::new(target.clone(), "/run/asyncmon/demo.sock".into());
    let mut events = vec![
        SessionEvent::TargetState(TargetState::Attached),
        SessionEvent::SessionStarted {
            epoch: 1,
            firmware: FirmwareInfo {
                name: "asyncmon-demo".into(),
                build_id: "0.1.0".into(),
                protocol_version: 1,
            },
        },
    ];
    for t in [
        task(0, "main", None, TaskState::Running),
        task(1, "blinky", Some(0), TaskState::Running),
        task(2, "telemetry", Some(0), TaskState::Running),
        task(5, "sensor_poll", Some(2), TaskState::Running),
    ] {
        events.push(SessionEvent::TaskSpawned(t));
    }
    events.push(SessionEvent::TaskFinished { id: 5, outcome: TaskOutcome::Failed });
    events.push(SessionEvent::Failure(Failure {
        seq: 1,
        epoch: 1,
        at_ms: 1200,
        message: "Task exception was never retrieved".into(),
        exception: Some(Exception {
            type_name: "demo::SensorError".into(),
            message: "sensor poll #3 timed out after 50 ms".into(),
            raised_at: Some(loc("src/sensor.rs", 120)),
        }),
        task: Some(task(5, "sensor_poll", Some(2), TaskState::Finished(TaskOutcome::Failed))),
        path: FailurePath::Unretrieved,
    }));
    events.push(SessionEvent::Log(LogLine {
        level: Some(LogLevel::Warn),
        location: Some(Location { file: "/home/dev/app/src/sensor.rs".into(), line: 117, column: 0 }),
        device_time: Some("0.240100".into()),
        ..LogLine::plain(240, LogSource::Defmt, "sensor_poll: no answer on poll 3".into())
    }));
    events.push(SessionEvent::Log(LogLine::plain(
        300,
        LogSource::FirmwareStdout,
        "main: calibrated, offset 20".into(),
    )));
    // Sampled poll statistics: blinky is quiet, telemetry once blocked the executor for 25 ms.
    let stats = |polls, busy_us, max_poll_us, idle_us| PollStats {
        polls,
        busy_us,
        max_poll_us,
        self_wakes: 0,
        idle_us,
        sampled_at_ms: 300,
        state: TaskRunState::Waiting,
    };
    events.push(SessionEvent::TaskStats { id: 1, stats: stats(12, 240, 30, 120_000) });
    events.push(SessionEvent::TaskStats { id: 2, stats: stats(40, 26_100, 25_000, 3_000) });
    events.push(SessionEvent::Stats(LinkStats {
        bytes: 2048,
        frames: 40,
        frames_lost_on_device: 2,
        frames_rejected: 1,
        bytes_rejected: 9,
    }));
    // Await traces: main awaits a task, telemetry sleeps; blinky has none yet.
    let frame = |depth, function: &str, location: Option<Location>, state| AwaitFrame {
        depth,
        function: function.into(),
        location,
        state,
    };
    let sleep = |depth| {
        frame(
            depth,
            "asyncmon_agent::time::Sleep",
            None,
            FrameState::Waiting { description: Some("sleep: a timer".into()) },
        )
    };
    events.push(SessionEvent::AwaitTraces(AwaitTraces {
        epoch: 1,
        at_ms: 3_000,
        tasks: vec![
            TaskTrace {
                task: 0,
                frames: vec![
                    frame(0, "app::main", Some(loc("/work/app/src/main.rs", 30)), FrameState::Awaiting),
                    frame(
                        1,
                        "asyncmon_agent::join::JoinHandle<(), app::Error>",
                        None,
                        FrameState::Waiting { description: Some("join task #2".into()) },
                    ),
                ],
                since_ms: 1_000,
            },
            TaskTrace {
                task: 2,
                frames: vec![
                    frame(0, "app::telemetry", Some(loc("/work/app/src/main.rs", 40)), FrameState::Awaiting),
                    frame(1, "app::read<u16>", Some(loc("/work/app/src/main.rs", 42)), FrameState::Awaiting),
                    sleep(2),
                ],
                since_ms: 2_500,
            },
        ],
        unavailable: None,
    }));
    let mut snapshot = SessionState::new(target);
    for e in &events {
        snapshot.apply(e);
    }
    state.on_message(ServerMessage::Snapshot(Box::new(snapshot)), 0);
    state
}

fn draw(state: &MonitorState, width: u16, height: u16) -> (Terminal<TestBackend>, Vec<String>) {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| view::render(f, state)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    let lines = (0..height)
        .map(|y| (0..width).map(|x| buffer[(x, y)].symbol().to_string()).collect::<String>())
        .collect();
    (terminal, lines)
}

fn screen_has(lines: &[String], text: &str) -> bool {
    lines.iter().any(|l| l.contains(text))
}

#[test]
fn the_task_table_lists_each_task_with_its_state_and_parent() {
    let (_, lines) = draw(&session(), 80, 24);
    let row =
        lines.iter().find(|l| l.contains("telemetry ") && l.contains("waiting")).expect("telemetry row");
    assert!(row.contains("main"), "telemetry's parent is main: {row}");
    assert!(row.contains("96/2048"), "STORAGE: what the future uses of what its slot reserves: {row}");
    let failed =
        lines.iter().find(|l| l.contains("sensor_poll") && l.contains("failed")).expect("failed row");
    assert!(failed.contains("telemetry"), "{failed}");
}

#[test]
fn a_long_task_name_is_shown_whole_where_the_terminal_has_room() {
    let mut state = session();
    state.on_message(
        ServerMessage::Event(SessionEvent::TaskSpawned(task(
            7,
            "slow_logger_publisher",
            Some(0),
            TaskState::Running,
        ))),
        0,
    );
    let (_, lines) = draw(&state, 120, 40);
    assert!(screen_has(&lines, "slow_logger_publisher "), "{lines:#?}");
    // On 80 columns WAITING AT keeps its room: the name is cut there.
    let (_, narrow) = draw(&state, 80, 24);
    assert!(screen_has(&narrow, "slow_logger_pu"), "{narrow:#?}");
}

#[test]
fn a_halted_firmware_says_so_with_every_task_halted() {
    let mut state = session();
    let halted = TargetState::Halted { reason: "panic in telemetry at src/main.rs:40:9".into() };
    state.on_message(ServerMessage::Event(SessionEvent::TargetState(halted)), 0);
    let (_, lines) = draw(&state, 120, 40);
    assert!(lines.last().unwrap().contains("HALTED: panic in telemetry at src/main.rs:40:9"), "{lines:#?}");
    let row = lines.iter().find(|l| l.contains("blinky ")).expect("blinky's row");
    assert!(row.contains("halted"), "{row}");
}

#[test]
fn the_failure_detail_shows_type_message_raise_site_spawn_chain_and_path() {
    let (_, lines) = draw(&session(), 80, 24);
    assert!(screen_has(&lines, "SensorError: sensor poll #3 timed out after"));
    assert!(screen_has(&lines, "raised at   src/sensor.rs:120:5"));
    assert!(screen_has(&lines, "spawn chain sensor_poll ← telemetry ← main"));
    assert!(screen_has(&lines, "path        never retrieved → handler"));
}

#[test]
fn the_status_line_shows_the_target_and_the_link_counters() {
    let (_, lines) = draw(&session(), 80, 24);
    let status = lines.last().unwrap();
    assert!(status.contains("ATTACHED"), "{status}");
    assert!(
        status.contains("frames 40") && status.contains("lost 2") && status.contains("rejected 1"),
        "{status}"
    );
}

#[test]
fn stop_asks_for_confirmation_on_screen() {
    let mut state = session();
    state.on_action(Action::Stop);
    let (_, lines) = draw(&state, 80, 24);
    assert!(screen_has(&lines, "The firmware will see KeyboardInterrupt."));
    assert!(screen_has(&lines, "[y]es / [n]o"));
}

#[test]
fn a_stop_sent_before_a_reset_is_not_said_to_be_on_its_way_after_it() {
    let mut state = session();
    state.on_message(ServerMessage::StopSent { request_id: 2 }, 0);
    let (_, before) = draw(&state, 120, 40);
    assert!(before.last().unwrap().contains("stop #2"), "{:?}", before.last());
    let firmware =
        FirmwareInfo { name: "asyncmon-demo".into(), build_id: "0.1.0".into(), protocol_version: 1 };
    state.on_message(ServerMessage::Event(SessionEvent::SessionStarted { epoch: 2, firmware }), 10);
    let (_, after) = draw(&state, 120, 40);
    assert!(!after.last().unwrap().contains("stop #2"), "{:?}", after.last());
}

#[test]
fn after_a_stop_the_acknowledgement_and_exit_are_shown() {
    let mut state = session();
    for e in [
        SessionEvent::Interrupted(InterruptReport {
            request_id: 1,
            tasks: [(0, "main"), (1, "blinky"), (2, "telemetry")]
                .into_iter()
                .map(|(id, name)| TaskEndingReport { id, name: name.into(), outcome: TaskOutcome::Cancelled })
                .chain([TaskEndingReport {
                    id: 9,
                    name: "flusher".into(),
                    outcome: TaskOutcome::DroppedAtDeadline,
                }])
                .collect(),
            total: 4,
            hard_stop: true,
        }),
        SessionEvent::TargetState(TargetState::Exited {
            code: Some(130),
            description: "KeyboardInterrupt (exit code 130)".into(),
        }),
    ] {
        state.on_message(ServerMessage::Event(e), 10);
    }
    let (_, lines) = draw(&state, 80, 24);
    assert!(
        screen_has(&lines, "KeyboardInterrupt (hard stop): cancelled main, blinky, telemetry;"),
        "{lines:#?}"
    );
    assert!(screen_has(&lines, "deadline flusher (4 tasks)"), "no task's ending is cut off: {lines:#?}");
    assert!(lines.last().unwrap().contains("EXITED: KeyboardInterrupt (exit code 130)"));
}

#[test]
fn a_failed_target_and_a_lost_daemon_are_said_in_words() {
    let target = TargetDescription { backend: "sim".into(), name: "fw".into() };
    let mut state = MonitorState::new(target, "/tmp/s".into());
    let reason = "the firmware did not create its RTT control block within 5s".to_string();
    state.on_message(
        ServerMessage::Event(SessionEvent::TargetState(TargetState::Failed { reason: reason.clone() })),
        0,
    );
    let (_, lines) = draw(&state, 80, 24);
    assert!(screen_has(&lines, "the firmware did not create its RTT control"), "{lines:#?}");
    assert!(lines.last().unwrap().contains("FAILED"));
    state.on_disconnect("asyncmond closed the connection".into());
    let (_, lines) = draw(&state, 80, 24);
    assert!(lines.last().unwrap().contains("DISCONNECTED: asyncmond closed the connection"));
}

#[test]
fn snapshot_80x24() {
    let (terminal, _) = draw(&session(), 80, 24);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn snapshot_120x40() {
    let (terminal, _) = draw(&session(), 120, 40);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn a_tiny_terminal_does_not_panic() {
    for (w, h) in [(1, 1), (20, 5), (40, 10)] {
        draw(&session(), w, h);
        let mut state = session();
        state.on_action(Action::Stop);
        draw(&state, w, h);
    }
}

#[test]
fn the_help_lists_every_key() {
    let mut state = session();
    state.on_action(Action::Help);
    // Whole, on one line each, at the classic 80 columns.
    let (_, lines) = draw(&state, 80, 24);
    for (key, what) in asyncmon_tui::monitor::input::KEYS {
        assert!(lines.iter().any(|l| l.contains(key) && l.contains(what)), "{key}: {lines:#?}");
    }
    // Narrower, wrapped: every word is still there, none cut.
    let (_, lines) = draw(&state, 50, 30);
    let screen = lines.join(" ");
    for (key, what) in asyncmon_tui::monitor::input::KEYS {
        for word in what.split(' ') {
            assert!(
                screen.contains(&format!(" {word}")) || screen.contains(&format!("{word} ")),
                "{key}: {word:?} {lines:#?}"
            );
        }
    }
    state.on_action(Action::Down);
    assert_eq!(state.overlay, asyncmon_tui::monitor::state::Overlay::None, "any key closes the help");
}

#[test]
fn a_filter_narrows_tasks_and_failures_and_is_shown() {
    let mut state = session();
    state.on_action(Action::StartFilter);
    for c in "blink".chars() {
        state.on_action(Action::FilterChar(c));
    }
    let (_, lines) = draw(&state, 80, 24);
    assert!(lines[0].contains("filter: blink"), "{}", lines[0]);
    assert!(screen_has(&lines, "blinky") && !screen_has(&lines, "telemetry "), "{lines:#?}");
    assert!(screen_has(&lines, "Failures (0)"), "the sensor_poll failure does not match");
    state.on_action(Action::EndFilter);
    for _ in 0..5 {
        state.on_action(Action::FilterBackspace);
    }
    state.on_action(Action::StartFilter);
    for c in "TIMED OUT".chars() {
        state.on_action(Action::FilterChar(c));
    }
    let (_, lines) = draw(&state, 80, 24);
    assert!(screen_has(&lines, "Failures (1)"), "failures match on their message, any case: {lines:#?}");
}

#[test]
fn the_spawn_tree_shows_each_task_under_its_spawner() {
    let mut state = session();
    state.on_action(Action::ToggleTree);
    let (terminal, lines) = draw(&state, 80, 24);
    assert!(screen_has(&lines, "main #0 running"));
    assert!(screen_has(&lines, "└─ telemetry #2 running"));
    assert!(screen_has(&lines, "   └─ sensor_poll #5 failed"), "{lines:#?}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn a_second_stop_during_a_shutdown_asks_for_a_hard_stop() {
    let mut state = session();
    state.on_action(Action::Stop);
    state.on_action(Action::Confirm);
    state.on_message(ServerMessage::StopSent { request_id: 1 }, 5);
    state.on_action(Action::Stop);
    let (_, lines) = draw(&state, 80, 24);
    assert!(screen_has(&lines, "Drop every task now, without cleanup."), "{lines:#?}");
}

#[test]
fn an_empty_session_and_two_hundred_tasks_render() {
    let target = TargetDescription { backend: "sim".into(), name: "fw".into() };
    let empty = MonitorState::new(target, "/tmp/s".into());
    let (terminal, lines) = draw(&empty, 80, 24);
    assert!(screen_has(&lines, "no firmware hello yet") && screen_has(&lines, "No failures yet."));
    insta::assert_snapshot!("empty_80x24", terminal.backend());

    let mut state = session();
    for id in 10..210 {
        state.on_message(
            ServerMessage::Event(SessionEvent::TaskSpawned(task(id, "worker", Some(0), TaskState::Running))),
            1,
        );
    }
    let (terminal, lines) = draw(&state, 120, 40);
    assert!(screen_has(&lines, "Tasks (203 running, 204 shown)"), "{lines:#?}");
    insta::assert_snapshot!("two_hundred_tasks_120x40", terminal.backend());
}

#[test]
fn a_long_message_is_wrapped_in_the_detail_and_cut_in_the_list() {
    let mut state = session();
    let long = "x".repeat(300);
    let mut failure = state.session.failures[0].clone();
    failure.seq = 2;
    failure.exception.as_mut().unwrap().message = long;
    state.on_message(ServerMessage::Event(SessionEvent::Failure(failure)), 1);
    let (_, lines) = draw(&state, 80, 24);
    let detail_lines = lines.iter().filter(|l| l.contains("xxxxxxxxxx")).count();
    assert!(detail_lines >= 2, "the message wraps over several lines: {lines:#?}");
    assert!(lines.iter().all(|l| l.chars().count() == 80), "nothing spills out of the screen");
}

#[test]
fn a_failure_numbered_in_the_thousands_late_in_a_session_keeps_its_number_apart_from_its_time() {
    let mut state = session();
    let mut failure = state.session.failures[0].clone();
    (failure.seq, failure.at_ms) = (1818, 1_096_700);
    state.on_message(ServerMessage::Event(SessionEvent::Failure(failure)), 1);
    let (_, lines) = draw(&state, 120, 40);
    assert!(screen_has(&lines, "#1818 1096.7s"), "{lines:#?}");
}

#[test]
fn poll_columns_show_the_sampled_statistics_and_a_long_poll_is_warned_about() {
    let (_, lines) = draw(&session(), 120, 40);
    let header = lines.iter().find(|l| l.contains("POLLS")).expect("a header with the poll columns");
    for column in ["BUSY", "IDLE", "STORAGE", "STATE▼"] {
        assert!(header.contains(column), "{header}");
    }
    let telemetry = lines.iter().find(|l| l.contains("telemetry") && l.contains("waiting")).unwrap();
    assert!(
        telemetry.contains("⚠ telemetry") && telemetry.contains("40") && telemetry.contains("26ms"),
        "{telemetry}"
    );
    assert!(screen_has(&lines, "⚠ telemetry #2: a poll took 25.0 ms; every other task waited"));
    assert!(screen_has(&lines, "⚠ 1 failure never retrieved"));
}

#[test]
fn o_sorts_by_the_next_column_and_capital_o_reverses() {
    let mut state = session();
    let order = |state: &MonitorState| state.task_rows().iter().map(|t| t.name.clone()).collect::<Vec<_>>();
    assert_eq!(order(&state), ["main", "blinky", "telemetry", "sensor_poll"]);
    for _ in 0..3 {
        state.on_action(Action::NextSort);
    }
    let (_, lines) = draw(&state, 120, 40);
    assert!(screen_has(&lines, "POLLS▼"));
    assert_eq!(&order(&state)[..2], ["telemetry", "blinky"], "most polled first");
    state.on_action(Action::ReverseSort);
    assert_eq!(order(&state).last().unwrap(), "telemetry");
    let (_, lines) = draw(&state, 120, 40);
    assert!(screen_has(&lines, "POLLS▲"));
}

/// Opens telemetry's detail as a user does: the failure list has the focus first, Tab goes through
/// the logs to the tasks, telemetry is the third row, Enter.
fn open_telemetry_detail(state: &mut MonitorState) {
    for action in [Action::NextPane, Action::NextPane, Action::Down, Action::Down, Action::Detail] {
        state.on_action(action);
    }
}

#[test]
fn enter_opens_the_selected_tasks_detail_and_esc_closes_it() {
    let mut state = session();
    open_telemetry_detail(&mut state);
    let (_, lines) = draw(&state, 80, 24);
    assert!(screen_has(&lines, "Task telemetry #2"));
    assert!(screen_has(&lines, "spawn chain   telemetry #2 ← main #0"));
    assert!(screen_has(&lines, "longest poll  25ms"));
    assert!(screen_has(&lines, "⚠ telemetry #2: a poll took 25.0 ms"));
    insta::assert_snapshot!(lines.join("\n"));
    state.on_action(Action::Cancel);
    let (_, lines) = draw(&state, 80, 24);
    assert!(!screen_has(&lines, "longest poll"));
}

#[test]
fn enter_on_a_failure_shows_its_whole_context() {
    let mut state = session();
    state.on_action(Action::Detail);
    let (_, lines) = draw(&state, 80, 24);
    assert!(screen_has(&lines, "Failure #"));
    assert!(screen_has(&lines, "spawn chain sensor_poll ← telemetry ← main"));
    insta::assert_snapshot!("failure_detail_80x24", lines.join("\n"));
    insta::assert_snapshot!("failure_detail_120x40", draw(&state, 120, 40).1.join("\n"));
}

#[test]
fn l_shows_the_logs_full_screen_with_level_and_source_line_and_the_filter_applies() {
    let mut state = session();
    state.on_action(Action::ToggleLogs);
    let (_, lines) = draw(&state, 80, 24);
    assert!(screen_has(&lines, "Logs and problems"));
    assert!(screen_has(&lines, "WARN  sensor_poll: no answer on poll 3  sensor.rs:117"));
    assert!(screen_has(&lines, "main: calibrated, offset 20"));
    // The failure sits among the lines, after the warning that led up to it.
    let warning = lines.iter().position(|l| l.contains("no answer on poll 3")).unwrap();
    let failure =
        lines.iter().position(|l| l.contains("✗ sensor_poll failed: SensorError: sensor poll #3")).unwrap();
    assert!(warning < failure, "{lines:#?}");
    insta::assert_snapshot!("logs_80x24", lines.join("\n"));
    insta::assert_snapshot!("logs_120x40", draw(&state, 120, 40).1.join("\n"));
    for c in "calibrated".chars() {
        state.on_action(Action::FilterChar(c));
    }
    let (_, lines) = draw(&state, 80, 24);
    assert!(!screen_has(&lines, "no answer on poll 3"));
    assert!(screen_has(&lines, "main: calibrated, offset 20"));
    state.on_action(Action::ToggleLogs);
    let (_, lines) = draw(&state, 80, 24);
    assert!(screen_has(&lines, "Failures"));
}

#[test]
fn tab_goes_from_tasks_to_failures_to_the_logs_and_back() {
    use asyncmon_tui::monitor::state::Pane;
    let mut state = session();
    assert!(state.pane == Pane::Failures && !state.logs_view);
    state.on_action(Action::NextPane);
    assert!(state.logs_view);
    state.on_action(Action::NextPane);
    assert!(!state.logs_view && state.pane == Pane::Tasks);
    state.on_action(Action::NextPane);
    assert!(state.pane == Pane::Failures && !state.logs_view);
}

#[test]
fn finished_tasks_are_greyed_then_dropped_after_a_while_and_idle_time_grows() {
    let mut state = session();
    let idle = |state: &MonitorState| {
        let blinky = state.task_rows().into_iter().find(|t| t.name == "blinky").unwrap();
        asyncmon_tui::monitor::tasks::idle_us(blinky, &state.seen, state.now_ms)
    };
    assert_eq!(idle(&state), Some(120_000));
    assert!(state.on_tick(5_000), "a clock-driven column is shown: redraw");
    assert_eq!(idle(&state), Some(5_120_000));
    assert!(state.task_rows().iter().any(|t| t.name == "sensor_poll"));
    state.on_tick(asyncmon_tui::monitor::tasks::FINISHED_KEPT_MS + 1);
    assert!(!state.task_rows().iter().any(|t| t.name == "sensor_poll"), "the finished task left the table");
    assert_eq!(state.task_rows().len(), 3);
}

#[test]
fn waiting_at_shows_each_running_tasks_innermost_await_and_the_detail_the_whole_trace() {
    let mut state = session();
    let (_, lines) = draw(&state, 120, 40);
    let row = |name: &str| lines.iter().find(|l| l.contains(&format!(" {name} "))).unwrap().clone();
    assert!(row("telemetry").contains("…/src/main.rs:42 read"), "the innermost await: {}", row("telemetry"));
    assert!(row("main").contains("…/src/main.rs:30 main"), "{}", row("main"));
    assert!(row("blinky").trim_end_matches('│').trim_end().ends_with('-'), "no trace yet: {}", row("blinky"));
    assert!(!row("sensor_poll").contains("main.rs"), "a finished task waits nowhere: {}", row("sensor_poll"));
    // telemetry's detail: the whole trace, outermost first, and for how long (3.0 s - 2.5 s).
    open_telemetry_detail(&mut state);
    let (_, lines) = draw(&state, 120, 40);
    assert!(screen_has(&lines, "waiting at    for 500ms (outermost first)"), "{lines:#?}");
    assert!(screen_has(&lines, "  └ app::telemetry at /work/app/src/main.rs:40"));
    assert!(screen_has(&lines, "    └ app::read<u16> at /work/app/src/main.rs:42"));
    assert!(screen_has(&lines, "      └ asyncmon_agent::time::Sleep: sleep: a timer"));
}

#[test]
fn an_embassy_firmware_is_said_to_fail_only_by_panics_and_its_stop_is_its_hook() {
    use asyncmon_protocol::host::{Executor, ExecutorLoad, SessionEvent};
    let mut state =
        MonitorState::new(TargetDescription { backend: "qemu".into(), name: "app".into() }, "/tmp/s".into());
    state.on_message(ServerMessage::Event(SessionEvent::ExecutorObserved(Executor::Embassy)), 0);
    let load = ExecutorLoad { idle_us: 970_000, elapsed_us: 1_000_000 };
    state.on_message(ServerMessage::Event(SessionEvent::ExecutorLoad(load)), 0);
    let (_, lines) = draw(&state, 80, 24);
    assert!(screen_has(&lines, "embassy executor: failures are panics"), "{lines:#?}");
    assert!(
        lines[0].contains("embassy, idle 97%"),
        "the title says the executor and its idle time: {}",
        lines[0]
    );
    state.on_action(Action::Stop);
    let (_, lines) = draw(&state, 80, 24);
    assert!(screen_has(&lines, "stop hook runs (embassy)"), "{lines:#?}");
    assert!(!screen_has(&lines, "KeyboardInterrupt"), "{lines:#?}");
    state.on_action(Action::Cancel);
    let answer = SessionEvent::StopHandled { request_id: 1, hook_ran: false, hard: false };
    state.on_message(ServerMessage::Event(answer), 10);
    let (_, lines) = draw(&state, 200, 24);
    assert!(screen_has(&lines, "nothing was stopped"), "the answer is on the status line: {lines:#?}");
}
