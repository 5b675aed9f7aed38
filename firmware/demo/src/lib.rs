//! What the firmwares of this package share: their `main`, which starts the board, runs the
//! firmware and ends QEMU with its exit code.

#![no_std]

/// Defines the `main` of a firmware on a QEMU board: [`asyncmon_qemu_boards::init`] and the agent's
/// doorbell on the board's spare interrupt (Cortex-M), then `$run`
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
            // A doorbell where the board has a spare interrupt: the host pends it after writing a
            // command, so the executor sleeps until something is due instead of polling.
            if let Some(irq) = asyncmon_qemu_boards::doorbell_interrupt(asyncmon_agent::link::doorbell::ring)
            {
                asyncmon_agent::link::doorbell::set_interrupt(irq);
            }
            let code = $run;
            asyncmon_qemu_boards::exit(code)
        }
    };
}
