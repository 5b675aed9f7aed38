//! ARM MPS2 with a Cortex-M4F, as QEMU's `mps2-an386` emulates it (AN386; AN385 is the same board
//! with a Cortex-M3).
//!
//! Time: the FPGAIO `COUNTER` counts the 25 MHz prescale clock divided by `PRESCALE + 1` (here
//! 1 MHz, embassy-time's tick) and follows QEMU's virtual clock; it is 32 bits wide and extended in
//! software, which needs a look at least once per wrap (71 minutes) — the alarm never waits longer
//! than [`MAX_ALARM_TICKS`]. The alarm is CMSDK APB timer 0, which counts the 25 MHz PCLK down
//! and interrupts at zero (IRQ 8).
//!
//! The serial doorbell is CMSDK APB UART 0 (QEMU's first `-serial`), its receive interrupt IRQ 0.

use crate::alarm_queue::{AlarmQueue, Hardware};
use crate::mmio::Reg;
use crate::nvic::Irq;
use crate::wrapping_counter::WrappingCounter;
use critical_section::CriticalSection;

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
const TIMER0_IRQ: Irq = Irq(8);

const UART0: usize = 0x4000_4000;
const UART0_DATA: Reg = Reg(UART0);
const UART0_CTRL: Reg = Reg(UART0 + 0x8);
const UART0_INTSTATUS: Reg = Reg(UART0 + 0xc);
const UART0_BAUDDIV: Reg = Reg(UART0 + 0x10);
const UART_CTRL_RX_ENABLE: u32 = 1 << 1;
const UART_CTRL_RX_IRQ_ENABLE: u32 = 1 << 3;
const UART_INT_RX: u32 = 1 << 1;
/// The smallest divider the UART takes (PCLK / 16: its speed does not matter to a doorbell).
const UART_BAUDDIV_MIN: u32 = 16;
const UART0_RX_IRQ: Irq = Irq(0);

/// PCLK cycles per embassy-time tick.
const CYCLES_PER_TICK: u64 = CLOCK_HZ / embassy_time_driver::TICK_HZ;
/// The longest the alarm waits (the timer is 32 bits of PCLK cycles): 171 s.
const MAX_ALARM_TICKS: u64 = u32::MAX as u64 / CYCLES_PER_TICK;

static COUNTER_64: WrappingCounter = WrappingCounter::new();

pub(crate) struct Mps2;

impl Hardware for Mps2 {
    fn now(cs: CriticalSection<'_>) -> u64 {
        COUNTER_64.extend(cs, COUNTER.read())
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
    TIMER0_IRQ.unmask();
}

/// UART 0 takes bytes and interrupts for each.
pub(crate) fn enable_serial_doorbell() {
    UART0_BAUDDIV.write(UART_BAUDDIV_MIN);
    UART0_CTRL.write(UART_CTRL_RX_ENABLE | UART_CTRL_RX_IRQ_ENABLE);
    UART0_RX_IRQ.unmask();
}

/// Every device interrupt comes here (the board has no PAC and so no vector table of its own);
/// timer 0's runs the timer queue, UART 0's receive takes the byte and rings.
#[cortex_m_rt::exception]
unsafe fn DefaultHandler(irqn: i16) {
    if TIMER0_IRQ.is(irqn) {
        TIMER0_INTCLEAR.write(1);
        DRIVER.on_alarm();
    } else if UART0_RX_IRQ.is(irqn) {
        let _byte = UART0_DATA.read(); // frees the receive buffer for the next
        UART0_INTSTATUS.write(UART_INT_RX);
        crate::serial_doorbell::rang();
    }
}
