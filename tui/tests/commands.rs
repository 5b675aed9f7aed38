//! The command line against real daemons: `asyncmon stop` makes the firmware see KeyboardInterrupt
//! and prints how each task ended; without a daemon, or with a file that is not a recording, the
//! commands say what is wrong and fail.

use asyncmon_daemon::backend::sim::SimConfig;
use asyncmon_daemon::daemon::{self, DaemonConfig, TargetConfig};
use asyncmon_protocol::host::TargetState;
use std::process::Command;
use std::time::{Duration, Instant};

const ASYNCMON: &str = env!("CARGO_BIN_EXE_asyncmon");

/// A daemon on the demo, this binary re-run as the simulated device.
fn demo_daemon(socket: &std::path::Path) -> asyncmon_daemon::daemon::RunningDaemon {
    firmware_daemon(socket, "demo")
}

/// A daemon on firmware `name` (`demo`, `shapes`), this binary re-run as the simulated device.
fn firmware_daemon(socket: &std::path::Path, name: &str) -> asyncmon_daemon::daemon::RunningDaemon {
    let sim = SimConfig::new(ASYNCMON, vec!["__device".into(), name.into()]);
    daemon::start(DaemonConfig {
        socket: socket.to_path_buf(),
        targets: vec![TargetConfig::Sim(sim)],
        record: None,
        ..Default::default()
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_prints_the_cancelled_tasks_and_the_firmware_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("d.sock");
    let running = demo_daemon(&socket);
    let deadline = Instant::now() + Duration::from_secs(20);
    let started =
        |s: &asyncmon_protocol::host::SessionState| s.logs.iter().any(|l| l.text.contains("main: modem"));
    while !started(&running.hub.snapshot()) {
        assert!(Instant::now() < deadline, "the demo did not start: {:#?}", running.hub.snapshot());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let out = tokio::task::spawn_blocking(move || {
        Command::new(ASYNCMON).args(["stop", "--socket"]).arg(&socket).output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("KeyboardInterrupt: cancelled "), "{stdout}");
    let cancelled = stdout.trim_start_matches("KeyboardInterrupt: cancelled ").split(';').next().unwrap();
    for task in ["main", "blinky", "telemetry"] {
        assert!(cancelled.contains(task), "{task} was cancelled: {stdout}");
    }
    while !matches!(running.hub.snapshot().target_state, TargetState::Exited { .. }) {
        assert!(Instant::now() < deadline, "the firmware did not exit");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(matches!(running.hub.snapshot().target_state, TargetState::Exited { code: Some(130), .. }));
    tokio::task::block_in_place(|| running.shutdown());
}

/// Runs `asyncmon ARGS --socket SOCKET` until it succeeds (the firmware's tasks may not all be
/// there yet) or `deadline`; returns its output.
async fn command_until(
    args: &[&str],
    socket: &std::path::Path,
    deadline: Instant,
    done: impl Fn(&str) -> bool,
) -> String {
    loop {
        let (args, socket) = (args.iter().map(|a| a.to_string()).collect::<Vec<_>>(), socket.to_path_buf());
        let out = tokio::task::spawn_blocking(move || {
            Command::new(ASYNCMON).args(&args).arg("--socket").arg(&socket).output().unwrap()
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() && done(&stdout) {
            return stdout;
        }
        assert!(Instant::now() < deadline, "{stdout}{}", String::from_utf8_lossy(&out.stderr));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ps_and_pstree_print_where_every_task_waits() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("d.sock");
    let running = firmware_daemon(&socket, "shapes");
    let deadline = Instant::now() + Duration::from_secs(30);
    // Every task spawned and polled once: the last of them waits on the channel.
    let settled = |out: &str| out.contains("cleaning_up") && out.contains("a message on Channel CHANNEL");
    let ps = command_until(&["ps"], &socket, deadline, settled).await;
    let mut lines = ps.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["ID", "NAME", "WAITING", "AT", "FOR", "SINCE"], "{ps}");
    let row = |name: &str| {
        ps.lines()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .unwrap_or_else(|| panic!("{name}: {ps}"))
    };
    assert!(row("three_deep").contains("asyncmon_demo::shapes::level3 at "), "{ps}");
    assert!(row("three_deep").contains("demo/src/shapes.rs:"), "{ps}");
    assert!(row("joiner").contains("join task #"), "{ps}");
    assert!(row("gatherer").contains("gather of 2 tasks, waiting for #"), "{ps}");
    assert!(row("receiver").contains("a message on Channel CHANNEL"), "{ps}");

    let tree =
        command_until(&["pstree"], &socket, deadline, |out| out.contains("a message on Channel CHANNEL"))
            .await;
    let three_deep: Vec<&str> = tree.lines().skip_while(|l| !l.contains("three_deep #")).take(5).collect();
    assert!(three_deep[0].starts_with("├─ three_deep #"), "{tree}");
    for (line, frame) in
        three_deep[1..].iter().zip(["three_deep at", "level2 at", "level3 at", "Sleep: sleep: a timer"])
    {
        assert!(line.contains(frame), "{frame} in {line:?}:\n{tree}");
    }
    // Each frame one level deeper than the one before.
    let indents: Vec<usize> = three_deep[1..].iter().map(|l| l.find('└').unwrap()).collect();
    assert!(indents.windows(2).all(|w| w[1] > w[0]), "{tree}");
    tokio::task::block_in_place(|| running.shutdown());
}

#[test]
fn stop_without_a_daemon_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        Command::new(ASYNCMON).args(["stop", "--socket"]).arg(dir.path().join("none.sock")).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot connect to asyncmond") && stderr.contains("is the daemon running?"),
        "{stderr}"
    );
}

#[test]
fn replay_of_a_file_that_is_not_a_recording_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "hi").unwrap();
    let out = Command::new(ASYNCMON)
        .arg("replay")
        .arg(&file)
        .arg("--socket")
        .arg(dir.path().join("s.sock"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not an asyncmon recording (the file does not start with ASYNCMON)"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_restarts_the_firmware_in_a_new_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("d.sock");
    let running = demo_daemon(&socket);
    let deadline = Instant::now() + Duration::from_secs(20);
    while running.hub.snapshot().epoch != 1 {
        assert!(Instant::now() < deadline, "the demo did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let out = tokio::task::spawn_blocking(move || {
        Command::new(ASYNCMON).args(["reset", "--socket"]).arg(&socket).output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.trim(), "the target was reset: session epoch 2");
    tokio::task::block_in_place(|| running.shutdown());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_returns_as_soon_as_the_firmware_ended_without_acknowledging() {
    use asyncmon_daemon::backend::TargetCommand;
    use asyncmon_daemon::hub::Hub;
    use asyncmon_protocol::host::{SessionEvent, TargetDescription};
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("d.sock");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    asyncmon_daemon::socket_path::restrict(&socket).unwrap();
    let (commands, target) = std::sync::mpsc::channel();
    let hub = Hub::new(TargetDescription { backend: "test".into(), name: "t".into() }, commands);
    hub.publish(SessionEvent::TargetState(TargetState::Attached));
    tokio::spawn(asyncmon_daemon::server::serve(listener, std::sync::Arc::new(vec![hub.clone()])));
    // The stop goes out; the target ends before it answers.
    let stop = tokio::task::spawn_blocking(move || {
        Command::new(ASYNCMON).args(["stop", "--socket"]).arg(&socket).output().unwrap()
    });
    let command =
        tokio::task::spawn_blocking(move || target.recv_timeout(Duration::from_secs(10))).await.unwrap();
    assert!(matches!(command, Ok(TargetCommand::Stop { .. })), "{command:?}");
    hub.publish(SessionEvent::TargetState(TargetState::Exited {
        code: Some(1),
        description: "failed".into(),
    }));
    let out = stop.await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("the firmware ended (failed) before it acknowledged the stop"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_says_at_once_when_the_firmware_has_already_ended() {
    use asyncmon_daemon::hub::Hub;
    use asyncmon_protocol::host::{SessionEvent, TargetDescription};
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("d.sock");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    asyncmon_daemon::socket_path::restrict(&socket).unwrap();
    let (commands, _target) = std::sync::mpsc::channel();
    let hub = Hub::new(TargetDescription { backend: "test".into(), name: "t".into() }, commands);
    hub.publish(SessionEvent::TargetState(TargetState::Attached));
    hub.publish(SessionEvent::TargetState(TargetState::Exited {
        code: Some(130),
        description: "exited with code 130".into(),
    }));
    tokio::spawn(asyncmon_daemon::server::serve(listener, std::sync::Arc::new(vec![hub.clone()])));
    let out = tokio::task::spawn_blocking(move || {
        Command::new(ASYNCMON).args(["stop", "--socket"]).arg(&socket).output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Whichever of the daemon's answers comes first (the session's snapshot, or its refusal of the
    // stop), the command says so at once, never waiting for an acknowledgement that cannot come.
    let said = format!("{stdout}{stderr}");
    assert!(
        said.contains("the firmware has already ended (exited with code 130): nothing to stop")
            || said.contains("the firmware is not running: it exited with code 130"),
        "{said}"
    );
    assert!(!said.contains("did not acknowledge"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitor_without_a_terminal_says_so_instead_of_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("d.sock");
    let running = demo_daemon(&socket);
    let out = tokio::task::spawn_blocking(move || {
        Command::new(ASYNCMON)
            .args(["monitor", "--socket"])
            .arg(&socket)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the monitor needs a terminal") && stderr.contains("asyncmon ps"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    tokio::task::block_in_place(|| running.shutdown());
}
