//! QEMU's RISC-V `virt` machine with one RV32 hart, started without firmware (`-bios none`): the
//! ELF is loaded into the RAM at `0x80000000` and run in machine mode.
//!
//! Time: the CLINT's 64-bit `mtime` counts at 10 MHz and follows QEMU's virtual clock; the alarm is
//! hart 0's `mtimecmp` and the machine timer interrupt.

use crate::alarm_queue::{AlarmQueue, Hardware};
use crate::mmio::Reg;
use critical_section::CriticalSection;

pub(crate) const MACHINE: &str = "virt";

const CLINT: usize = 0x0200_0000;
const MTIMECMP_LO: Reg = Reg(CLINT + 0x4000);
const MTIMECMP_HI: Reg = Reg(CLINT + 0x4004);
const MTIME_LO: Reg = Reg(CLINT + 0xbff8);
const MTIME_HI: Reg = Reg(CLINT + 0xbffc);
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

/// The machine timer: quiet it (the comparator stays pending until it moves), then run the queue.
#[riscv_rt::core_interrupt(riscv::interrupt::Interrupt::MachineTimer)]
fn machine_timer() {
    set_mtimecmp(u64::MAX);
    DRIVER.on_alarm();
}
