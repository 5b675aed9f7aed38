//! BBC micro:bit (nRF51822, Cortex-M0), as QEMU's `microbit` machine emulates it: 256 KiB of flash
//! at 0, 16 KiB of RAM at `0x20000000`. QEMU keeps that RAM to itself (the machine ignores
//! `memory-backend=`), so the daemon reads it through `/proc/PID/mem` of the QEMU process.
//!
//! Time: TIMER0 in 32-bit mode with prescaler 4 counts at 1 MHz (embassy-time's tick) and follows
//! QEMU's virtual clock; it is read by a capture into `CC[1]` and extended to 64 bits in software.
//! The alarm is a compare on `CC[0]` (TIMER0's interrupt, IRQ 8); it never waits longer than
//! [`MAX_ALARM_TICKS`], which keeps the extension fed.
//!
//! The serial doorbell is UART0 (QEMU's first `-serial`), its `RXDRDY` interrupt IRQ 2.

use crate::alarm_queue::{AlarmQueue, Hardware};
use crate::mmio::Reg;
use crate::nvic::Irq;
use crate::wrapping_counter::WrappingCounter;
use critical_section::CriticalSection;

pub(crate) const MACHINE: &str = "microbit";

const TIMER0: usize = 0x4000_8000;
const TASKS_START: Reg = Reg(TIMER0);
const TASKS_CAPTURE_NOW: Reg = Reg(TIMER0 + 0x44);
const EVENTS_COMPARE_ALARM: Reg = Reg(TIMER0 + 0x140);
const INTENSET: Reg = Reg(TIMER0 + 0x304);
const MODE: Reg = Reg(TIMER0 + 0x504);
const BITMODE: Reg = Reg(TIMER0 + 0x508);
const PRESCALER: Reg = Reg(TIMER0 + 0x510);
const CC_ALARM: Reg = Reg(TIMER0 + 0x540);
const CC_NOW: Reg = Reg(TIMER0 + 0x544);
const MODE_TIMER: u32 = 0;
const BITMODE_32: u32 = 3;
/// 16 MHz / 2^4: 1 MHz.
const PRESCALER_1MHZ: u32 = 4;
const INTEN_COMPARE_ALARM: u32 = 1 << 16;
const TIMER0_IRQ: Irq = Irq(8);

const UART0: usize = 0x4000_2000;
const UART_TASKS_STARTRX: Reg = Reg(UART0);
const UART_EVENTS_RXDRDY: Reg = Reg(UART0 + 0x108);
const UART_INTENSET: Reg = Reg(UART0 + 0x304);
const UART_ENABLE: Reg = Reg(UART0 + 0x500);
const UART_RXD: Reg = Reg(UART0 + 0x518);
const UART_INTEN_RXDRDY: u32 = 1 << 2;
const UART_ENABLED: u32 = 4;
const UART0_IRQ: Irq = Irq(2);

/// The longest the alarm waits: half the counter's range (36 minutes), so that a compare already
/// passed is told apart from one far ahead.
const MAX_ALARM_TICKS: u64 = 1 << 31;

static COUNTER_64: WrappingCounter = WrappingCounter::new();

/// The counter now.
fn capture() -> u32 {
    TASKS_CAPTURE_NOW.write(1);
    CC_NOW.read()
}

pub(crate) struct Microbit;

impl Hardware for Microbit {
    fn now(cs: CriticalSection<'_>) -> u64 {
        COUNTER_64.extend(cs, capture())
    }

    /// Nothing due still sets the longest wait, which keeps the clock's extension fed.
    fn arm(now: u64, at: u64) -> bool {
        EVENTS_COMPARE_ALARM.write(0);
        if at <= now {
            return false;
        }
        let compare = now.saturating_add(MAX_ALARM_TICKS).min(at) as u32;
        CC_ALARM.write(compare);
        // The counter may have passed `compare` before it was written; the compare would then
        // fire only after a wrap. Caught here, the queue runs again instead.
        let ahead = u64::from(compare.wrapping_sub(capture()));
        ahead != 0 && ahead <= MAX_ALARM_TICKS
    }
}

embassy_time_driver::time_driver_impl!(static DRIVER: AlarmQueue<Microbit> = AlarmQueue::new());

pub(crate) fn init() {
    MODE.write(MODE_TIMER);
    BITMODE.write(BITMODE_32);
    PRESCALER.write(PRESCALER_1MHZ);
    INTENSET.write(INTEN_COMPARE_ALARM);
    TASKS_START.write(1);
    DRIVER.on_alarm();
    TIMER0_IRQ.unmask();
}

/// UART0 receives and interrupts for each byte.
pub(crate) fn enable_serial_doorbell() {
    UART_ENABLE.write(UART_ENABLED);
    UART_INTENSET.write(UART_INTEN_RXDRDY);
    UART_TASKS_STARTRX.write(1);
    UART0_IRQ.unmask();
}

/// Every device interrupt comes here (the board has no PAC and so no vector table of its own);
/// TIMER0's runs the timer queue, UART0's takes the byte and rings.
#[cortex_m_rt::exception]
unsafe fn DefaultHandler(irqn: i16) {
    if TIMER0_IRQ.is(irqn) {
        EVENTS_COMPARE_ALARM.write(0);
        DRIVER.on_alarm();
    } else if UART0_IRQ.is(irqn) {
        // The event first: taking the byte raises it again while more wait.
        UART_EVENTS_RXDRDY.write(0);
        let _byte = UART_RXD.read();
        crate::serial_doorbell::rang();
    }
}
