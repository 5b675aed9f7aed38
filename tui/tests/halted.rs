//! After a panic, the command line as a user meets it: the embassy example (defmt-rtt and
//! panic-probe kept) on QEMU's mps2-an386 panics at 4 s and panic-probe halts the core; `asyncmon
//! ps` and `pstree` then say the firmware halted and every task with it (no stale waits), `asyncmon
//! stop` is refused at once with the reason and the next step, and `asyncmon reset` starts it
//! again.

use asyncmon_daemon::backend::qemu::{machine, QemuConfig};
use asyncmon_daemon::daemon::{self, DaemonConfig, TargetConfig};
use asyncmon_protocol::host::TargetState;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const ASYNCMON: &str = env!("CARGO_BIN_EXE_asyncmon");

/// The embassy example for mps2-an386, built by `.ci/build-firmware`.
fn embassy_example() -> PathBuf {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/build-firmware");
    let out = Command::new("bash").arg(script).arg("mps2-an386").output().expect("bash runs");
    assert!(out.status.success(), "building the firmware failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let demo = PathBuf::from(String::from_utf8(out.stdout).unwrap().lines().last().unwrap());
    demo.with_file_name("asyncmon-embassy-example")
}

fn asyncmon(socket: &Path, args: &[&str]) -> Output {
    Command::new(ASYNCMON).args(args).arg("--socket").arg(socket).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_panic_ps_says_halted_stop_is_refused_at_once_and_reset_starts_it_again() {
    tokio::task::block_in_place(check);
}

fn check() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("d.sock");
    let mut qemu = QemuConfig::new(embassy_example(), machine::find("mps2-an386").unwrap());
    qemu.attach_timeout = Duration::from_secs(10);
    let running = daemon::start(DaemonConfig {
        socket: socket.clone(),
        targets: vec![TargetConfig::Qemu(qemu)],
        record: None,
        ..Default::default()
    })
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !matches!(running.hub.snapshot().target_state, TargetState::Halted { .. }) {
        assert!(Instant::now() < deadline, "the example did not halt: {:#?}", running.hub.snapshot());
        std::thread::sleep(Duration::from_millis(50));
    }

    let ps = asyncmon(&socket, &["ps"]);
    let stdout = text(&ps.stdout);
    assert!(ps.status.success(), "{stdout}{}", text(&ps.stderr));
    assert!(stdout.starts_with("the firmware halted (panic in faulty at "), "{stdout}");
    let row =
        |name: &str| stdout.lines().find(|l| l.split_whitespace().nth(1) == Some(name)).unwrap_or_default();
    assert!(row("waiter").contains("nothing: the firmware halted"), "{stdout}");
    assert!(row("faulty").contains("nothing: it panicked"), "{stdout}");
    assert!(!stdout.contains("Channel READINGS"), "no stale waits: {stdout}");
    let pstree = asyncmon(&socket, &["pstree"]);
    assert!(
        text(&pstree.stdout).contains("faulty #5\n   └ nothing: it panicked"),
        "{}",
        text(&pstree.stdout)
    );

    let asked = Instant::now();
    let stop = asyncmon(&socket, &["stop"]);
    assert_eq!(stop.status.code(), Some(1));
    assert!(asked.elapsed() < Duration::from_secs(2), "refused at once, not after a wait");
    let said = text(&stop.stderr);
    assert!(
        said.contains("the firmware halted (panic in faulty") && said.contains("`asyncmon reset`"),
        "{said}"
    );

    let reset = asyncmon(&socket, &["reset"]);
    assert!(reset.status.success(), "{}", text(&reset.stderr));
    while !matches!(running.hub.snapshot().target_state, TargetState::Attached) {
        assert!(Instant::now() < deadline + Duration::from_secs(10), "not attached again after the reset");
        std::thread::sleep(Duration::from_millis(50));
    }
    running.shutdown();
}
