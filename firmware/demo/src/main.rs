//! The asyncmon demo on a QEMU board: `asyncmon_demo::demo`, the simulated board's demo, on a real
//! core. Build with `.ci/build-firmware` (or `cargo build --release --target T --features BOARD`
//! in `firmware/`), run with `asyncmon qemu`.

#![no_std]
#![no_main]

asyncmon_demo_board::board_main!(asyncmon_demo::demo::run());
