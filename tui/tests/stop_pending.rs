//! `asyncmon stop` against a firmware that is held up (alive, reading nothing: stopped as under a
//! debugger's halt): the command says the request is still pending and what will happen, and the
//! stop takes effect once the firmware runs again. In a test binary of its own: the firmware is
//! found as this process's only child.

use asyncmon_daemon::backend::sim::SimConfig;
use asyncmon_daemon::daemon::{self, DaemonConfig, TargetConfig};
use asyncmon_protocol::host::TargetState;
use std::process::Command;
use std::time::{Duration, Instant};

const ASYNCMON: &str = env!("CARGO_BIN_EXE_asyncmon");

fn demo_daemon(socket: &std::path::Path) -> asyncmon_daemon::daemon::RunningDaemon {
    let sim = SimConfig::new(ASYNCMON, vec!["__device".into(), "demo".into()]);
    daemon::start(DaemonConfig {
        socket: socket.to_path_buf(),
        targets: vec![TargetConfig::Sim(sim)],
        record: None,
        ..Default::default()
    })
    .unwrap()
}

/// The simulated firmware processes this test started (children of this process).
fn firmware_pids() -> Vec<i32> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // `pid (comm) state ppid ...`: the parent is the fourth field, after the name's `)`.
            stat.rsplit_once(") ").and_then(|(_, rest)| rest.split(' ').nth(1)) == Some(me.as_str())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_a_held_up_firmware_does_not_answer_is_said_to_be_pending_and_then_takes_effect() {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("d.sock");
    let running = demo_daemon(&socket);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !matches!(running.hub.snapshot().target_state, TargetState::Attached) || firmware_pids().is_empty()
    {
        assert!(Instant::now() < deadline, "the demo did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Held up, as under a debugger's halt: alive, reading nothing.
    let firmware = Pid::from_raw(firmware_pids()[0]);
    kill(firmware, Signal::SIGSTOP).unwrap();
    let stop_socket = socket.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(ASYNCMON)
            .args(["stop", "--timeout", "1", "--socket"])
            .arg(&stop_socket)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the request is still pending") && stderr.contains("asyncmon reset"), "{stderr}");
    // Going again, it reads the request it was sent and stops: KeyboardInterrupt, 130.
    kill(firmware, Signal::SIGCONT).unwrap();
    while !matches!(running.hub.snapshot().target_state, TargetState::Exited { .. }) {
        assert!(Instant::now() < deadline + Duration::from_secs(10), "the stop never took effect");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(matches!(running.hub.snapshot().target_state, TargetState::Exited { code: Some(130), .. }));
    tokio::task::block_in_place(|| running.shutdown());
}
