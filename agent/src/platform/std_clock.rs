//! The host process's time driver for embassy-time: microseconds since the first reading, and a
//! timer thread that wakes due timers in deadline order, ties in the order they were scheduled
//! ([`OrderedQueue`]) — so sleepers resume as asyncio's loop resumes them, every run.
//!
//! It replaces embassy-time's own `std` driver, whose queue woke equal sleeps started A, B, C as
//! A, C, B; that feature must stay off beside the agent's `std` (two drivers do not link).

use asyncmon_time_queue::OrderedQueue;
use core::task::Waker;
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// How many timers may be pending at once in the process (beyond it, the timer due last spins).
const TIMERS: usize = 64;

struct StdClock {
    queue: Mutex<Timers>,
    /// Rung when the soonest deadline may have moved earlier.
    changed: Condvar,
}

struct Timers {
    queue: OrderedQueue<TIMERS>,
    thread_started: bool,
}

embassy_time_driver::time_driver_impl!(static CLOCK: StdClock = StdClock {
    queue: Mutex::new(Timers { queue: OrderedQueue::new(), thread_started: false }),
    changed: Condvar::new(),
});

/// The instant time 0 stands for: the first reading in the process.
fn zero() -> Instant {
    static ZERO: OnceLock<Instant> = OnceLock::new();
    *ZERO.get_or_init(Instant::now)
}

impl embassy_time_driver::Driver for StdClock {
    fn now(&self) -> u64 {
        u64::try_from(zero().elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        let mut timers = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if timers.queue.schedule_wake(at, waker) {
            if !std::mem::replace(&mut timers.thread_started, true) {
                std::thread::Builder::new()
                    .name("asyncmon-timers".into())
                    .spawn(|| CLOCK.run())
                    .expect("the timer thread could not be started");
            }
            self.changed.notify_one();
        }
    }
}

impl StdClock {
    /// The timer thread: wakes what is due, then sleeps until the next deadline or a sooner one.
    fn run(&self) -> ! {
        let mut timers = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let next = timers.queue.next_expiration(embassy_time_driver::now());
            timers = if next == u64::MAX {
                self.changed.wait(timers).unwrap_or_else(PoisonError::into_inner)
            } else {
                let wait = Duration::from_micros(next.saturating_sub(embassy_time_driver::now()));
                self.changed.wait_timeout(timers, wait).unwrap_or_else(PoisonError::into_inner).0
            };
        }
    }
}
