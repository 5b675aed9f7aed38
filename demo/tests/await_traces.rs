//! Await traces end to end: the shapes firmware (`asyncmon_demo::shapes`) runs on the simulated
//! board and on each of QEMU's boards, and every task's trace, read by the daemon from target
//! memory with the firmware's DWARF, names the right `.await` lines and what each task waits for.

mod support;

use asyncmon_daemon::daemon::TargetConfig;
use std::time::Duration;
use support::boards::shapes_on;
use support::{shape_traces, Harness};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_simulated_board_every_shape_is_traced_line_by_line() {
    let mut h = Harness::start(&["shapes"], Duration::from_secs(5)).await;
    shape_traces::every_shape_is_traced(&mut h).await;
}

async fn on_qemu(board: &str, machine: &str) {
    let mut h = Harness::serve(TargetConfig::Qemu(shapes_on(board, machine)), None).await;
    shape_traces::every_shape_is_traced(&mut h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cortex_m0_every_shape_is_traced_line_by_line() {
    on_qemu("microbit", "microbit").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cortex_m4f_every_shape_is_traced_line_by_line() {
    on_qemu("mps2-an386", "mps2-an386").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_risc_v_every_shape_is_traced_line_by_line() {
    on_qemu("riscv-virt", "virt").await;
}
