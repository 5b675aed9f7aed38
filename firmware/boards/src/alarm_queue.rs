//! The time driver every board shares: a timer queue behind one hardware alarm (asyncmon's
//! [`OrderedQueue`], so timers due together wake in the order they were scheduled, as asyncio's
//! do, where embassy-time's generic queue mixed them up). A
//! board supplies its [`Hardware`] (read the clock, set the alarm) and calls
//! [`AlarmQueue::on_alarm`] from the alarm's interrupt.

use asyncmon_time_queue::OrderedQueue;
use core::cell::RefCell;
use core::marker::PhantomData;
use core::task::Waker;
use critical_section::{CriticalSection, Mutex};
use embassy_time_driver::Driver;

/// A board's clock and alarm, in embassy-time ticks.
pub(crate) trait Hardware: 'static {
    /// The time now, inside a critical section (a clock extended in software updates its state).
    fn now(cs: CriticalSection<'_>) -> u64;
    /// Sets the alarm for `at` (a board may wake earlier: the queue is run again then); `false`
    /// when that time has come already. `at` may be `u64::MAX`: nothing is due.
    fn arm(now: u64, at: u64) -> bool;
}

/// How many timers may be pending at once (as embassy-time's `generic-queue-32`).
const TIMERS: usize = 32;

/// embassy-time's driver over a board's [`Hardware`].
pub(crate) struct AlarmQueue<H> {
    queue: Mutex<RefCell<OrderedQueue<TIMERS>>>,
    hardware: PhantomData<fn() -> H>,
}

impl<H: Hardware> AlarmQueue<H> {
    pub(crate) const fn new() -> Self {
        AlarmQueue { queue: Mutex::new(RefCell::new(OrderedQueue::new())), hardware: PhantomData }
    }

    /// Wakes what is due and sets the alarm for the next timer.
    fn run_queue(&self, cs: CriticalSection<'_>) {
        loop {
            let now = H::now(cs);
            let next = self.queue.borrow_ref_mut(cs).next_expiration(now);
            if H::arm(now, next) {
                return;
            }
        }
    }

    /// The alarm's interrupt (after the board acknowledged it), and the first arming at start.
    pub(crate) fn on_alarm(&self) {
        critical_section::with(|cs| self.run_queue(cs));
    }
}

impl<H: Hardware> Driver for AlarmQueue<H> {
    fn now(&self) -> u64 {
        critical_section::with(H::now)
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        critical_section::with(|cs| {
            if self.queue.borrow_ref_mut(cs).schedule_wake(at, waker) {
                self.run_queue(cs);
            }
        });
    }
}
