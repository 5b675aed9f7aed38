//! Everything up to the probe, without hardware: the chip name is checked (with suggestions), the
//! ELF and its `_SEGGER_RTT` symbol are checked, and a missing probe is said in words while the
//! daemon keeps serving and retries. (These machines have no debug probe; with one plugged in, the
//! last test would attach to it.)

use asyncmon_daemon::backend::probe::ProbeConfig;
use asyncmon_daemon::daemon::{self, DaemonConfig, TargetConfig};
use asyncmon_protocol::host::TargetState;
use std::process::Command;
use std::time::{Duration, Instant};

const ASYNCMON: &str = env!("CARGO_BIN_EXE_asyncmon");

fn asyncmon(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(ASYNCMON).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn a_wrong_chip_name_gets_suggestions_before_any_probe_is_touched() {
    let (ok, _, stderr) = asyncmon(&["run", ASYNCMON, "--chip", "nrf52480_xxaa"]);
    assert!(!ok);
    assert!(
        stderr.contains("probe-rs knows no chip called \"nrf52480_xxaa\"; did you mean nRF52840_xxAA"),
        "{stderr}"
    );
}

#[test]
fn an_elf_without_the_agent_is_refused_with_the_reason() {
    let me = std::env::current_exe().unwrap();
    let (ok, _, stderr) = asyncmon(&["run", me.to_str().unwrap(), "--chip", "nRF52840_xxAA"]);
    assert!(!ok);
    assert!(
        stderr.contains(
            "has no _ASYNCMON_RTT symbol (nor _SEGGER_RTT): the firmware does not link asyncmon-agent"
        ),
        "{stderr}"
    );
    let (ok, _, stderr) = asyncmon(&["run", "/etc/hostname", "--chip", "nRF52840_xxAA"]);
    assert!(!ok);
    assert!(stderr.contains("is not an ELF file asyncmon can read"), "{stderr}");
}

#[test]
fn probes_lists_what_is_plugged_in_or_says_there_is_none() {
    let (ok, stdout, _) = asyncmon(&["probes"]);
    assert!(ok);
    assert!(
        stdout.starts_with("no debug probes found: is one plugged in") || stdout.contains("--probe "),
        "{stdout}"
    );
}

#[test]
fn a_malformed_probe_selector_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let config = ProbeConfig {
        chip: "nRF52840_xxAA".into(),
        probe: Some("jlink".into()),
        // This host binary stands in for a firmware: attached to, never flashed (it would be refused
        // for loading outside the chip's memory).
        elf: ASYNCMON.into(),
        flash: false,
        connect_under_reset: false,
        poll_interval: Duration::from_millis(10),
        attach_timeout: Duration::from_secs(1),
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _guard = runtime.enter();
    let running = daemon::start(DaemonConfig {
        socket: dir.path().join("d.sock"),
        targets: vec![TargetConfig::Probe(config)],
        record: None,
        ..Default::default()
    })
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let TargetState::Failed { reason } = running.hub.snapshot().target_state {
            assert!(reason.contains("--probe \"jlink\" is not VID:PID[:SERIAL] in hex"), "{reason}");
            break;
        }
        assert!(Instant::now() < deadline, "{:?}", running.hub.snapshot().target_state);
        std::thread::sleep(Duration::from_millis(20));
    }
    running.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_probe_is_said_in_words_retried_and_clients_are_still_served() {
    let dir = tempfile::tempdir().unwrap();
    let config = ProbeConfig {
        chip: "nRF52840_xxAA".into(),
        probe: None,
        // This host binary stands in for a firmware: attached to, never flashed (it would be refused
        // for loading outside the chip's memory).
        elf: ASYNCMON.into(),
        flash: false,
        connect_under_reset: false,
        poll_interval: Duration::from_millis(10),
        attach_timeout: Duration::from_secs(1),
    };
    let running = daemon::start(DaemonConfig {
        socket: dir.path().join("d.sock"),
        targets: vec![TargetConfig::Probe(config)],
        record: None,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(running.hub.target().backend, "probe-rs");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = running.hub.snapshot();
        let retries = s.problems.iter().filter(|p| p.text.contains("no debug probe found")).count();
        if retries >= 2 {
            assert!(s.problems[0].text.contains("trying again in"), "{}", s.problems[0].text);
            break;
        }
        assert!(Instant::now() < deadline, "{:#?}", s.problems);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(asyncmon_daemon::client::Client::connect(&running.socket, "late").await.is_ok());
    tokio::task::block_in_place(|| running.shutdown());
}
