//! Board support for QEMU's machines, for async firmware (on `asyncmon-agent` or embassy-executor).
//!
//! One board is chosen by a feature; each gives:
//! * the memory layout (`memory.x`, from `build.rs`), with RAM where QEMU can share it with the
//!   host — the daemon reads the RTT control block there while the guest runs, as a probe would;
//! * an `embassy-time` driver that follows QEMU's virtual clock (a hardware counter, never counted
//!   interrupts, which lose time when the host is loaded), with one alarm for the timer queue;
//! * [`exit`]: ends QEMU with the firmware's exit code, through semihosting;
//! * [`cost`]: instruction counts under QEMU's `-icount shift=0` (the device-cost benchmark).
//!
//! Firmware calls [`init`] first, then runs its executor.
//!
//! | feature | QEMU machine | core | target |
//! | --- | --- | --- | --- |
//! | `mps2-an386` | `mps2-an386` | Cortex-M4F | thumbv7em-none-eabihf |
//! | `microbit` | `microbit` | Cortex-M0 (nRF51822) | thumbv6m-none-eabi |
//! | `riscv-virt` | `virt` (`qemu-system-riscv32 -bios none`) | RV32IMAC | riscv32imac-unknown-none-elf |

#![no_std]

mod alarm_queue;
pub mod cost;
#[cfg(feature = "microbit")]
mod microbit;
mod mmio;
#[cfg(feature = "mps2-an386")]
mod mps2;
#[cfg(feature = "_cortex-m")]
mod nvic;
#[cfg(feature = "riscv-virt")]
mod riscv_virt;
#[cfg(feature = "_cortex-m")]
mod wrapping_counter;

#[cfg(feature = "microbit")]
use microbit as board;
#[cfg(feature = "mps2-an386")]
use mps2 as board;
#[cfg(feature = "riscv-virt")]
use riscv_virt as board;

/// The QEMU machine this firmware is built for (`qemu-system-* -machine MACHINE`).
pub const MACHINE: &str = board::MACHINE;

/// Starts the board: the clock and its alarm interrupt. Call once, before the executor runs.
pub fn init() {
    board::init();
}

/// Gives the board's spare interrupt line to `handler` (an agent's doorbell:
/// `asyncmon_agent::link::doorbell::ring`) and unmasks it; returns the line's number for
/// `doorbell::set_interrupt`. `None` on a board without one (RISC-V `virt`: its PLIC has no line
/// a host can pend). No host can pend it on QEMU 7.2 (what its gdbstub writes to the System
/// Control Space is dropped: the set-pending register reads back clear, and a firmware that named
/// the line saw a stop only at its next timer), so the demo's firmwares do not name it.
#[cfg(feature = "_cortex-m")]
pub fn doorbell_interrupt(handler: fn()) -> Option<u16> {
    nvic::claim_spare(board::SPARE_IRQ, handler);
    Some(board::SPARE_IRQ.0)
}

/// See the Cortex-M boards' `doorbell_interrupt`: this board has no line a host can pend.
#[cfg(not(feature = "_cortex-m"))]
pub fn doorbell_interrupt(_handler: fn()) -> Option<u16> {
    None
}

/// Ends the emulation with `code` as QEMU's exit status (semihosting `SYS_EXIT_EXTENDED`).
pub fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}
