//! Another local user cannot get between `asyncmon` and its daemon: a socket directory they made
//! first, a socket they own, or a daemon they run behind a socket that looks like ours is refused in
//! words — never a fake "KeyboardInterrupt" while the real firmware keeps running.
//!
//! These need root (to be, or make files of, user 4242); CI runs as root. Elsewhere they say they
//! were skipped.

use asyncmon_daemon::client::Client;
use asyncmon_daemon::socket_path::current_uid;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

const ASYNCMON: &str = env!("CARGO_BIN_EXE_asyncmon");
const STRANGER: u32 = 4242;

fn as_root() -> bool {
    if current_uid() != 0 {
        eprintln!("skipped: needs root to act as another user");
        return false;
    }
    true
}

#[test]
fn a_fallback_directory_planted_by_another_user_is_refused_by_the_client_and_the_daemon() {
    if !as_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let planted = tmp.path().join(format!("asyncmon-{}", current_uid()));
    std::fs::DirBuilder::new().mode(0o777).create(&planted).unwrap();
    let socket = planted.join("asyncmond.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::os::unix::fs::chown(&planted, Some(STRANGER), Some(STRANGER)).unwrap();
    std::os::unix::fs::chown(&socket, Some(STRANGER), Some(STRANGER)).unwrap();

    // No XDG_RUNTIME_DIR: the default socket is in the planted directory.
    let run = |args: &[&str]| {
        Command::new(ASYNCMON)
            .args(args)
            .env_remove("XDG_RUNTIME_DIR")
            .env("TMPDIR", tmp.path())
            .output()
            .unwrap()
    };
    let stop = run(&["stop"]);
    let stderr = String::from_utf8_lossy(&stop.stderr);
    assert!(!stop.status.success());
    assert!(stderr.contains("refusing to connect") && stderr.contains("belongs to user 4242"), "{stderr}");
    assert!(!String::from_utf8_lossy(&stop.stdout).contains("KeyboardInterrupt"));

    let demo = run(&["demo"]);
    let stderr = String::from_utf8_lossy(&demo.stderr);
    assert!(!demo.status.success(), "the daemon does not start in someone else's directory");
    assert!(stderr.contains("belongs to user 4242"), "{stderr}");
}

/// Run as user 4242 by the next test: listens at `$ASYNCMON_TEST_LISTEN` and waits.
#[test]
fn stranger_listener() {
    let Some(path) = std::env::var_os("ASYNCMON_TEST_LISTEN") else { return };
    let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    println!("listening");
    std::thread::sleep(std::time::Duration::from_secs(30));
}

#[tokio::test]
async fn a_daemon_run_by_another_user_behind_a_socket_that_looks_ours_is_refused() {
    if !as_root() {
        return;
    }
    // The stranger binds in a directory they may write to...
    let shared = tempfile::tempdir().unwrap();
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let theirs = shared.path().join("s.sock");
    // The stranger runs a copy of this test binary: the checkout it was built in may be closed to
    // other users (a clone in `mktemp -d` is 0700).
    let exe = shared.path().join("stranger");
    std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut stranger = Command::new(&exe)
        .args(["--exact", "stranger_listener", "--nocapture"])
        .env("ASYNCMON_TEST_LISTEN", &theirs)
        .uid(STRANGER)
        .gid(STRANGER)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut out = BufReader::new(stranger.stdout.take().unwrap());
    while !line.contains("listening") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "the stranger's listener did not start");
    }
    // ...and the socket file ends up in our private directory, ours and 0600: only the daemon's
    // uid on the connection tells.
    let ours = tempfile::tempdir().unwrap();
    let socket = ours.path().join("d.sock");
    std::fs::rename(&theirs, &socket).unwrap();
    std::os::unix::fs::chown(&socket, Some(current_uid()), Some(0)).unwrap();
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = Client::connect(&socket, "test").await.err().expect("refused");
    assert!(err.to_string().contains("runs as user 4242, not as you"), "{err}");
    stranger.kill().unwrap();
    stranger.wait().unwrap();
}
