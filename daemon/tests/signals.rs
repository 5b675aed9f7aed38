//! `asyncmond` ends cleanly on SIGTERM: it exits successfully, kills the simulated firmware and
//! removes its socket. A closed stdout does not end it.

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn sigterm_ends_the_daemon_its_firmware_and_its_socket() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("d.sock");
    let marker = format!("{}", 86400 + std::process::id());
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_asyncmond"))
        .arg("--socket")
        .arg(&socket)
        .args(["sim", "--attach-timeout", "60", "/bin/sleep", &marker])
        .spawn()
        .unwrap();
    let firmware_running = || {
        Command::new("pgrep")
            .args(["-f", &format!("sleep {marker}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(socket.exists() && firmware_running()) {
        assert!(Instant::now() < deadline, "the daemon did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status().unwrap().success());
    let status = daemon.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(!socket.exists(), "the socket was removed");
    let deadline = Instant::now() + Duration::from_secs(5);
    while firmware_running() {
        assert!(Instant::now() < deadline, "the firmware was not killed");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_closed_stdout_does_not_end_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("d.sock");
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_asyncmond"))
        .arg("--socket")
        .arg(&socket)
        .args(["sim", "--attach-timeout", "60", "/bin/sleep", "60"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // As `asyncmond ... | head -0` does: the reader is gone before the daemon says where it serves.
    drop(daemon.stdout.take());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "the daemon did not start");
        assert!(daemon.try_wait().unwrap().is_none(), "the daemon ended: {:?}", daemon.try_wait());
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(daemon.try_wait().unwrap().is_none(), "the daemon is still serving");
    assert!(Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status().unwrap().success());
    assert!(daemon.wait().unwrap().success());
}
