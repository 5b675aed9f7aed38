//! The asyncmon demo on a QEMU board: `asyncmon_demo::demo`, the simulated board's demo, on a real
//! core. Build with `.ci/build-firmware` (or `cargo build --release --target T --features BOARD`
//! in `firmware/`), run with `asyncmon qemu`.

#![no_std]
#![no_main]

use asyncmon_qemu_boards as board;

/// Starts the board and runs the demo; QEMU exits with the demo's exit code (130 after a stop).
#[cfg_attr(target_arch = "arm", cortex_m_rt::entry)]
#[cfg_attr(target_arch = "riscv32", riscv_rt::entry)]
fn main() -> ! {
    board::init();
    let code = asyncmon_demo::demo::run();
    board::exit(code)
}
