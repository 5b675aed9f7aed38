//! Board support for QEMU's machines, for async firmware (on `asyncmon-agent` or embassy-executor).
//!
//! One board is chosen by a feature; each gives:
//! * the memory layout (`memory.x`, from `build.rs`), with RAM where QEMU can share it with the
//!   host — the daemon reads the RTT control block there while the guest runs, as a probe would;
//! * an `embassy-time` driver that follows QEMU's virtual clock (a hardware counter, never counted
//!   interrupts, which lose time when the host is loaded), with one alarm for the timer queue;
//! * [`doorbell_serial`]: the first serial port as an agent's doorbell, which the host rings from
//!   outside the guest;
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
mod serial_doorbell;
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

/// Makes the board's first serial port a doorbell (an agent's: `handler` is
/// `asyncmon_agent::link::doorbell::ring`): each byte that arrives runs `handler` from the UART's
/// receive interrupt, which this enables. Returns the port's number, for
/// `doorbell::set_serial`. The host that runs the board (QEMU's `-serial`, a chardev of the QEMU
/// process) writes a byte after each command; QEMU's NVIC cannot be rung from outside (its gdbstub
/// drops writes to anything but RAM), its UART can, on every board.
pub fn doorbell_serial(handler: fn()) -> u32 {
    serial_doorbell::set(handler);
    board::enable_serial_doorbell();
    0
}

/// Ends the emulation with `code` as QEMU's exit status (semihosting `SYS_EXIT_EXTENDED`).
pub fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}
