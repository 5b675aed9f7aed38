//! The board path through probe-rs's own `Session`, against a running QEMU: a virtual probe
//! (`--probe qemu:NAME`) that probe-rs attaches through, whose loader writes the firmware, whose
//! reset and run start it, and through which the daemon reads RTT and await traces and writes a
//! stop (which the executor finds on its own look: QEMU cannot be rung, see `board_main`). The same `Board` code as with a real probe; what this cannot prove is
//! USB and a real chip's timing.

mod support;

use asyncmon_daemon::backend::probe::ProbeConfig;
use asyncmon_daemon::daemon::TargetConfig;
use asyncmon_protocol::host::{LogSource, TargetState};
use std::path::PathBuf;
use std::time::Duration;
use support::boards::demo_firmware;
use support::{demo_session, shape_traces, Harness};

fn through_virtual_probe(elf: PathBuf, machine: &str, flash: bool) -> TargetConfig {
    TargetConfig::Probe(ProbeConfig {
        chip: String::new(),
        probe: Some(format!("qemu:{machine}")),
        elf,
        flash,
        connect_under_reset: false,
        poll_interval: Duration::from_millis(10),
        attach_timeout: Duration::from_secs(10),
    })
}

async fn demo(board: &str, machine: &str) -> Harness {
    let h = Harness::serve(through_virtual_probe(demo_firmware(board), machine, true), None).await;
    assert_eq!(h.session.target.backend, "probe-rs");
    h
}

async fn loaded_by_probe_rs_then_every_failure_path_and_a_stop(board: &str, machine: &str) {
    let mut h = demo(board, machine).await;
    demo_session::failure_paths_then_stop(&mut h).await;
    // The firmware got there through probe-rs's loader, and the daemon said so.
    let said: Vec<&str> =
        h.session.logs.iter().filter(|l| l.source == LogSource::Daemon).map(|l| l.text.as_str()).collect();
    assert!(
        said.iter().any(|l| l.starts_with("attached to the ") && l.contains("virtual probe")),
        "{said:#?}"
    );
    assert!(said.iter().any(|l| l.starts_with("flashed ")), "{said:#?}");
    // The firmware's doorbell is its board's serial port (QEMU's gdbstub cannot pend an NVIC
    // interrupt): the daemon rang it beside the probe after each command, and said so once.
    assert_eq!(
        said.iter()
            .filter(|l| **l
                == "the firmware's doorbell rang: it is rung after each command (a byte on the virtual board's serial port)")
            .count(),
        1,
        "{said:#?}"
    );
}

async fn every_shape_is_traced_through_the_probe(board: &str, machine: &str) {
    let shapes = demo_firmware(board).with_file_name("shapes");
    let mut h = Harness::serve(through_virtual_probe(shapes, machine, true), None).await;
    shape_traces::every_shape_is_traced(&mut h).await;
}

async fn a_reset_through_the_probe_starts_a_new_epoch(board: &str, machine: &str) {
    let mut h = demo(board, machine).await;
    demo_session::a_reset_starts_a_new_epoch(&mut h, "the target was reset").await;
}

async fn no_flash_attaches_to_the_firmware_that_runs(board: &str, machine: &str) {
    // The machine starts with the firmware already in it and running, as a board flashed earlier.
    let mut h = Harness::serve(through_virtual_probe(demo_firmware(board), machine, false), None).await;
    h.until("the running firmware's tasks", Duration::from_secs(20), |s| {
        ["blinky", "telemetry", "uart_rx"].iter().all(|name| s.tasks.iter().any(|t| &t.name == name))
    })
    .await;
    assert_eq!(h.session.target_state, TargetState::Attached);
    let said: Vec<&str> =
        h.session.logs.iter().filter(|l| l.source == LogSource::Daemon).map(|l| l.text.as_str()).collect();
    assert!(!said.iter().any(|l| l.starts_with("flashed ")), "--no-flash flashed: {said:#?}");
}

macro_rules! through_probe {
    ($core:ident, $board:literal, $machine:literal) => {
        mod $core {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn loaded_by_probe_rs_then_every_failure_path_and_a_stop_in_keyboard_interrupt() {
                super::loaded_by_probe_rs_then_every_failure_path_and_a_stop($board, $machine).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn every_shape_is_traced_line_by_line_through_the_probe() {
                super::every_shape_is_traced_through_the_probe($board, $machine).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_reset_through_the_probe_starts_a_new_epoch() {
                super::a_reset_through_the_probe_starts_a_new_epoch($board, $machine).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn no_flash_attaches_to_the_firmware_that_runs() {
                super::no_flash_attaches_to_the_firmware_that_runs($board, $machine).await;
            }
        }
    };
}

through_probe!(cortex_m4f, "mps2-an386", "mps2-an386");
through_probe!(cortex_m0, "microbit", "microbit");
