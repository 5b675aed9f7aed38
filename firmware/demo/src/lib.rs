//! What the firmwares of this package share: their `main`, which starts the board, runs the
//! firmware and ends QEMU with its exit code.

#![no_std]

/// Defines the `main` of a firmware on a QEMU board: [`asyncmon_qemu_boards::init`], then `$run`
/// (an expression giving the exit code), then [`asyncmon_qemu_boards::exit`] with that code
/// (130 after a stop). The firmware depends on `cortex-m-rt` (Arm) or `riscv-rt` (RISC-V).
#[macro_export]
macro_rules! board_main {
    ($run:expr) => {
        /// Starts the board and runs the firmware; QEMU exits with its exit code.
        #[cfg_attr(target_arch = "arm", cortex_m_rt::entry)]
        #[cfg_attr(target_arch = "riscv32", riscv_rt::entry)]
        fn main() -> ! {
            asyncmon_qemu_boards::init();
            // No doorbell: QEMU drops what its gdbstub writes to the System Control Space (the
            // NVIC's set-pending register stays clear), so no host can ring one here, and a
            // firmware that said it had one would wait for its next timer to see a stop. The
            // executor looks at the down channel every `Config::fallback_poll` instead.
            let code = $run;
            asyncmon_qemu_boards::exit(code)
        }
    };
}
