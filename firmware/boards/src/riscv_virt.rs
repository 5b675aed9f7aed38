//! QEMU's RISC-V `virt` machine with one RV32 hart, started without firmware (`-bios none`): the
//! ELF is loaded into the RAM at `0x80000000` and run in machine mode.
//!
//! Time: the CLINT's 64-bit `mtime` counts at 10 MHz and follows QEMU's virtual clock; the alarm is
//! hart 0's `mtimecmp` and the machine timer interrupt.
//!
//! The serial doorbell is the NS16550A UART 0 (QEMU's first `-serial`), source 10 of the PLIC,
//! taken as a machine external interrupt by hart 0 (the PLIC's context 0).

use crate::alarm_queue::{AlarmQueue, Hardware};
use crate::mmio::{Reg, Reg8};
use critical_section::CriticalSection;

pub(crate) const MACHINE: &str = "virt";

const CLINT: usize = 0x0200_0000;
const MTIMECMP_LO: Reg = Reg(CLINT + 0x4000);
const MTIMECMP_HI: Reg = Reg(CLINT + 0x4004);
const MTIME_LO: Reg = Reg(CLINT + 0xbff8);
const MTIME_HI: Reg = Reg(CLINT + 0xbffc);
const UART0: usize = 0x1000_0000;
const UART0_RBR: Reg8 = Reg8(UART0);
const UART0_IER: Reg8 = Reg8(UART0 + 1);
const UART0_LSR: Reg8 = Reg8(UART0 + 5);
const UART_IER_RECEIVED: u8 = 1;
const UART_LSR_DATA_READY: u8 = 1;
const UART0_SOURCE: usize = 10;

const PLIC: usize = 0x0c00_0000;
const PLIC_PRIORITY_UART0: Reg = Reg(PLIC + 4 * UART0_SOURCE);
/// Hart 0's machine-mode context: the sources it takes, its threshold, its claim and complete.
const PLIC_ENABLE_HART0: Reg = Reg(PLIC + 0x2000);
const PLIC_THRESHOLD_HART0: Reg = Reg(PLIC + 0x20_0000);
const PLIC_CLAIM_HART0: Reg = Reg(PLIC + 0x20_0004);

/// `mtime` counts per embassy-time tick.
const COUNTS_PER_TICK: u64 = 10_000_000 / embassy_time_driver::TICK_HZ;

fn mtime() -> u64 {
    loop {
        let hi = MTIME_HI.read();
        let lo = MTIME_LO.read();
        if MTIME_HI.read() == hi {
            return (u64::from(hi) << 32) | u64::from(lo);
        }
    }
}

fn set_mtimecmp(value: u64) {
    // High word to its maximum first, so no value between the two writes is in the past.
    MTIMECMP_HI.write(u32::MAX);
    MTIMECMP_LO.write(value as u32);
    MTIMECMP_HI.write((value >> 32) as u32);
}

pub(crate) struct RiscvVirt;

impl Hardware for RiscvVirt {
    fn now(_: CriticalSection<'_>) -> u64 {
        mtime() / COUNTS_PER_TICK
    }

    fn arm(now: u64, at: u64) -> bool {
        if at <= now {
            return false;
        }
        set_mtimecmp(at.saturating_mul(COUNTS_PER_TICK));
        true
    }
}

embassy_time_driver::time_driver_impl!(static DRIVER: AlarmQueue<RiscvVirt> = AlarmQueue::new());

pub(crate) fn init() {
    set_mtimecmp(u64::MAX);
    DRIVER.on_alarm();
    // SAFETY: the only interrupt enabled is the machine timer, whose handler (below) takes the
    // driver's critical section; init runs before the executor, inside no critical section.
    unsafe {
        riscv::register::mie::set_mtimer();
        riscv::register::mstatus::set_mie();
    }
}

/// UART 0 interrupts for each byte it receives, through the PLIC to hart 0.
pub(crate) fn enable_serial_doorbell() {
    UART0_IER.write(UART_IER_RECEIVED);
    PLIC_PRIORITY_UART0.write(1);
    PLIC_THRESHOLD_HART0.write(0);
    PLIC_ENABLE_HART0.write(PLIC_ENABLE_HART0.read() | 1 << UART0_SOURCE);
    // SAFETY: the external interrupt's handler (below) takes no lock the executor holds while
    // interrupts are on; the serial doorbell is set up before the executor runs.
    unsafe { riscv::register::mie::set_mext() };
}

/// A PLIC source wants attention: the UART's bytes are taken (each a ring), and the claim
/// completed.
#[riscv_rt::core_interrupt(riscv::interrupt::Interrupt::MachineExternal)]
fn machine_external() {
    let source = PLIC_CLAIM_HART0.read();
    if source as usize == UART0_SOURCE {
        while UART0_LSR.read() & UART_LSR_DATA_READY != 0 {
            let _byte = UART0_RBR.read();
        }
        crate::serial_doorbell::rang();
    }
    if source != 0 {
        PLIC_CLAIM_HART0.write(source);
    }
}

/// The machine timer: quiet it (the comparator stays pending until it moves), then run the queue.
#[riscv_rt::core_interrupt(riscv::interrupt::Interrupt::MachineTimer)]
fn machine_timer() {
    set_mtimecmp(u64::MAX);
    DRIVER.on_alarm();
}
