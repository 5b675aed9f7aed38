//! The demo as firmware on QEMU's boards, from the same source as the simulated board's: the
//! daemon starts QEMU, reads the RTT control block in the guest RAM (a shared file) while the guest
//! runs, and the session must come to what it comes to on the simulated board — on each core.

mod support;

use asyncmon_daemon::daemon::TargetConfig;
use support::boards::demo_on;
use support::{demo_session, Harness};

async fn demo(board: &str, machine: &str) -> Harness {
    let h = Harness::serve(TargetConfig::Qemu(demo_on(board, machine)), None).await;
    assert_eq!(h.session.target.backend, "qemu");
    h
}

async fn failure_paths_then_stop(board: &str, machine: &str) {
    demo_session::failure_paths_then_stop(&mut demo(board, machine).await).await;
}

async fn defmt_logs(board: &str, machine: &str) {
    demo_session::defmt_logs(&mut demo(board, machine).await).await;
}

async fn a_reset_starts_a_new_epoch(board: &str, machine: &str) {
    let mut h = demo(board, machine).await;
    demo_session::a_reset_starts_a_new_epoch(&mut h, "the target was reset").await;
    // The same QEMU, reset in place: the first epoch's failures are kept beside the new ones.
    assert!(h.session.failures.iter().any(|f| f.epoch == 1));
}

#[test]
fn a_firmware_built_for_another_machine_is_refused_before_qemu_starts() {
    let risc_v = support::boards::demo_firmware("riscv-virt");
    let config = asyncmon_daemon::backend::qemu::QemuConfig::new(
        risc_v,
        asyncmon_daemon::backend::qemu::machine::find("mps2-an386").unwrap(),
    );
    let err = asyncmon_daemon::backend::qemu::check(&config).unwrap_err().to_string();
    assert!(err.contains("the RTT control block is at 0x8"), "{err}");
    assert!(err.contains("outside mps2-an386's RAM at 0x21000000..0x22000000"), "{err}");
}

/// Every check, on one board.
macro_rules! on_board {
    ($core:ident, $board:literal, $machine:literal) => {
        mod $core {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn every_failure_path_then_stop_ends_in_keyboard_interrupt() {
                super::failure_paths_then_stop($board, $machine).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn defmt_logs_arrive_decoded() {
                super::defmt_logs($board, $machine).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_reset_restarts_the_firmware_in_a_new_epoch() {
                super::a_reset_starts_a_new_epoch($board, $machine).await;
            }
        }
    };
}

on_board!(cortex_m0, "microbit", "microbit");
on_board!(cortex_m4f, "mps2-an386", "mps2-an386");
on_board!(risc_v, "riscv-virt", "virt");
