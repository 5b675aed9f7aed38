//! The demo as firmware for QEMU's boards: built (incrementally) by `.ci/build-firmware`, so that a
//! test runs what the source says.

use asyncmon_daemon::backend::qemu::{machine, QemuConfig};
use std::path::PathBuf;
use std::process::Command;

/// Every board the demo is built for (`.ci/build-firmware`'s names).
pub const BOARDS: &[&str] = &["mps2-an386", "microbit", "riscv-virt"];

/// Builds the demo for `board` and returns the ELF's path. Fails with the build's output: a
/// machine without the firmware toolchain gets told how to install it.
pub fn demo_firmware(board: &str) -> PathBuf {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/build-firmware");
    let out = Command::new("bash").arg(script).arg(board).output().expect("bash runs");
    assert!(
        out.status.success(),
        "building the demo for {board} failed (the toolchain: bash .ci/install-firmware-toolchain):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    PathBuf::from(stdout.lines().last().expect("the script prints the ELF's path"))
}

/// The demo on QEMU's `machine`, in real time.
pub fn demo_on(board: &str, machine: &str) -> QemuConfig {
    on(demo_firmware(board), machine)
}

/// The shapes firmware (`asyncmon_demo::shapes`, built beside the demo) on QEMU's `machine`.
pub fn shapes_on(board: &str, machine: &str) -> QemuConfig {
    on(demo_firmware(board).with_file_name("shapes"), machine)
}

/// The embassy example (`firmware/embassy-example`: embassy-executor watched by asyncmon-embassy,
/// built beside the demo on the Cortex-M boards) on QEMU's `machine`.
pub fn embassy_example_on(board: &str, machine: &str) -> QemuConfig {
    on(demo_firmware(board).with_file_name("asyncmon-embassy-example"), machine)
}

/// The embassy example with the observer's `poll-trace` (every poll sent; built beside the demo on
/// mps2-an386) on QEMU's `machine`.
pub fn embassy_example_poll_trace_on(board: &str, machine: &str) -> QemuConfig {
    on(demo_firmware(board).with_file_name("asyncmon-embassy-example-poll-trace"), machine)
}

/// The idle firmware (`firmware/demo/src/bin/idle.rs`: main waits an hour, built beside the demo)
/// on QEMU's `machine`.
pub fn idle_on(board: &str, machine: &str) -> QemuConfig {
    on(demo_firmware(board).with_file_name("idle"), machine)
}

fn on(elf: PathBuf, machine: &str) -> QemuConfig {
    let mut config = QemuConfig::new(elf, machine::find(machine).unwrap());
    config.attach_timeout = std::time::Duration::from_secs(10);
    config
}
