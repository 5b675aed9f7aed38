//! Firmware for asyncmon's simulated board, built on the agent's `std` platform, and the demo for
//! real cores: without the `std` feature the crate is `no_std` and holds only [`demo`], which the
//! board firmware in `firmware/` runs on QEMU's Cortex-M and RISC-V machines — the same source.
//!
//! * [`demo`]: the demo application `asyncmon demo` runs: named tasks, one that fails now and then
//!   with nobody awaiting it, one whose failure its parent awaits and handles, and cleanup that
//!   prints when it runs.
//! * [`shapes`]: tasks waiting in every shape an await trace must read right (demo and QEMU).
//! * [`faults`]: firmware that misbehaves on purpose, for the end-to-end tests of the daemon.
//! * [`quiet`]: one ticking task and nothing else, for what the agent does on its own.
//!
//! Both are plain functions returning an exit code, so any binary can become the simulated device
//! (the `asyncmon` binary re-runs itself with `__device demo`).

#![cfg_attr(not(feature = "std"), no_std)]

pub mod demo;
#[cfg(feature = "std")]
pub mod faults;
#[cfg(feature = "std")]
pub mod latency;
#[cfg(feature = "std")]
pub mod quiet;
pub mod shapes;
#[cfg(feature = "std")]
pub mod soak;

#[cfg(feature = "std")]
/// Runs the firmware called `name` (`demo`, or a fault from [`faults::FAULTS`]) and returns its exit
/// code, or `None` when there is no such firmware.
pub fn run_firmware(name: &str) -> Option<i32> {
    match name {
        "demo" => Some(demo::run()),
        "latency" => Some(latency::run()),
        "shapes" => Some(shapes::run()),
        "quiet" => Some(quiet::run()),
        // `asyncmon-demo-firmware soak SECONDS`
        "soak" => Some(soak::run(std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(10))),
        fault => faults::run(fault),
    }
}
