//! `asyncmon_demo::shapes` on a QEMU board: tasks waiting in every shape an await trace must read
//! right, the same source as on the simulated board. Built with the demo by `.ci/build-firmware`.

#![no_std]
#![no_main]

asyncmon_demo_board::board_main!(asyncmon_demo::shapes::run());
