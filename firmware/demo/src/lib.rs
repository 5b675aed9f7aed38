//! What the firmwares of this package share: their `main`, which starts the board, runs the
//! firmware and ends QEMU with its exit code.

#![no_std]

/// Defines the `main` of a firmware on a QEMU board: [`start_board`], then `$run`
/// (an expression giving the exit code), then [`asyncmon_qemu_boards::exit`] with that code
/// (130 after a stop). The firmware depends on `cortex-m-rt` (Arm) or `riscv-rt` (RISC-V).
#[macro_export]
macro_rules! board_main {
    ($run:expr) => {
        /// Starts the board and runs the firmware; QEMU exits with its exit code.
        #[cfg_attr(target_arch = "arm", cortex_m_rt::entry)]
        #[cfg_attr(target_arch = "riscv32", riscv_rt::entry)]
        fn main() -> ! {
            $crate::start_board();
            let code = $run;
            asyncmon_qemu_boards::exit(code)
        }
    };
}

/// Starts the board ([`asyncmon_qemu_boards::init`]) and the agent's doorbell on its first serial
/// port: the host rings it with a byte after each command, and an idle executor sleeps until
/// then or its next timer instead of looking at the down channel every `Config::fallback_poll`.
/// (Not the NVIC: QEMU drops what its gdbstub writes to the System Control Space, so no host could
/// pend an interrupt there.)
pub fn start_board() {
    asyncmon_qemu_boards::init();
    let port = asyncmon_qemu_boards::doorbell_serial(asyncmon_agent::link::doorbell::ring);
    asyncmon_agent::link::doorbell::set_serial(port);
}
