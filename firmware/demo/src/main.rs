//! The asyncmon demo on a QEMU board: `asyncmon_demo::demo`, the simulated board's demo, on a real
//! core. Build with `.ci/build-firmware` (or `cargo build --release --target T --features BOARD`
//! in `firmware/`), run with `asyncmon qemu`.

#![no_std]
#![no_main]

use asyncmon_qemu_boards as board;

#[cfg_attr(target_arch = "arm", cortex_m_rt::entry)]
fn main() -> ! {
    board::init();
    let code = asyncmon_demo::demo::run();
    board::exit(code)
}
