//! `asyncmon_demo::shapes` on a QEMU board: tasks waiting in every shape an await trace must read
//! right, the same source as on the simulated board. Built with the demo by `.ci/build-firmware`.

#![no_std]
#![no_main]

use asyncmon_qemu_boards as board;

/// Starts the board and runs the shapes until a stop; QEMU exits with 130 after it.
#[cfg_attr(target_arch = "arm", cortex_m_rt::entry)]
#[cfg_attr(target_arch = "riscv32", riscv_rt::entry)]
fn main() -> ! {
    board::init();
    let code = asyncmon_demo::shapes::run();
    board::exit(code)
}
