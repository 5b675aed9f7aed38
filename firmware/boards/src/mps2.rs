//! ARM MPS2 with a Cortex-M4F, as QEMU's `mps2-an386` emulates it (AN386; AN385 is the same board
//! with a Cortex-M3).
//!
//! Time: the FPGAIO `COUNTER` counts the 25 MHz prescale clock divided by `PRESCALE + 1` (here
//! 1 MHz, embassy-time's tick) and follows QEMU's virtual clock; it is 32 bits wide and extended in
//! software, which needs a look at least once per wrap (71 minutes) — the alarm never waits longer
//! than [`MAX_ALARM_TICKS`]. The alarm is CMSDK APB timer 0, which counts the 25 MHz PCLK down
//! and interrupts at zero (IRQ 8).

use crate::alarm_queue::{AlarmQueue, Hardware};
use crate::mmio::Reg;
use core::cell::Cell;
use cortex_m::peripheral::NVIC;
use critical_section::{CriticalSection, Mutex};

pub(crate) const MACHINE: &str = "mps2-an386";

const FPGAIO: usize = 0x4002_8000;
const COUNTER: Reg = Reg(FPGAIO + 0x18);
const PRESCALE: Reg = Reg(FPGAIO + 0x1c);
/// The FPGAIO prescale clock and the peripheral clock, in Hz.
const CLOCK_HZ: u64 = 25_000_000;

const TIMER0: usize = 0x4000_0000;
const TIMER0_CTRL: Reg = Reg(TIMER0);
const TIMER0_VALUE: Reg = Reg(TIMER0 + 0x4);
const TIMER0_RELOAD: Reg = Reg(TIMER0 + 0x8);
const TIMER0_INTCLEAR: Reg = Reg(TIMER0 + 0xc);
const CTRL_ENABLE: u32 = 1;
const CTRL_IRQ_ENABLE: u32 = 1 << 3;
const TIMER0_IRQ: u16 = 8;

/// PCLK cycles per embassy-time tick.
const CYCLES_PER_TICK: u64 = CLOCK_HZ / embassy_time_driver::TICK_HZ;
/// The longest the alarm waits (the timer is 32 bits of PCLK cycles): 171 s.
const MAX_ALARM_TICKS: u64 = u32::MAX as u64 / CYCLES_PER_TICK;

/// An interrupt line of the MPS2's NVIC.
#[derive(Clone, Copy)]
struct Irq(u16);

// SAFETY: `number` returns a line the MPS2 has (its IRQs are 0..32 on QEMU's model).
unsafe impl cortex_m::interrupt::InterruptNumber for Irq {
    fn number(self) -> u16 {
        self.0
    }
}

/// The counter's last value seen and how many times it has wrapped.
static EXTENSION: Mutex<Cell<(u32, u32)>> = Mutex::new(Cell::new((0, 0)));

pub(crate) struct Mps2;

impl Hardware for Mps2 {
    fn now(cs: CriticalSection<'_>) -> u64 {
        let cell = EXTENSION.borrow(cs);
        let (last, mut wraps) = cell.get();
        let count = COUNTER.read();
        if count < last {
            wraps += 1;
        }
        cell.set((count, wraps));
        (u64::from(wraps) << 32) | u64::from(count)
    }

    /// Nothing due still sets the longest wait, which keeps the clock's extension fed.
    fn arm(now: u64, at: u64) -> bool {
        TIMER0_CTRL.write(0);
        TIMER0_INTCLEAR.write(1);
        let ticks = at.saturating_sub(now).min(MAX_ALARM_TICKS);
        if ticks == 0 {
            return false;
        }
        TIMER0_RELOAD.write(u32::MAX);
        TIMER0_VALUE.write((ticks * CYCLES_PER_TICK) as u32);
        TIMER0_CTRL.write(CTRL_ENABLE | CTRL_IRQ_ENABLE);
        true
    }
}

embassy_time_driver::time_driver_impl!(static DRIVER: AlarmQueue<Mps2> = AlarmQueue::new());

pub(crate) fn init() {
    PRESCALE.write((CYCLES_PER_TICK - 1) as u32);
    DRIVER.on_alarm();
    // SAFETY: the timer's handler (below) only takes the driver's critical section; unmasking it
    // cannot break a critical section in progress (there is none: init runs before the executor).
    unsafe { NVIC::unmask(Irq(TIMER0_IRQ)) };
}

/// Every device interrupt comes here (the board has no PAC and so no vector table of its own);
/// timer 0's runs the timer queue.
#[cortex_m_rt::exception]
unsafe fn DefaultHandler(irqn: i16) {
    if irqn == TIMER0_IRQ as i16 {
        TIMER0_INTCLEAR.write(1);
        DRIVER.on_alarm();
    }
}
