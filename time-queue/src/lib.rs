//! A timer queue for embassy-time drivers that wakes timers in deadline order, ties in the order
//! they were scheduled — the order asyncio's loop resumes sleepers in.
//!
//! embassy-time-queue-utils' generic queue takes expired timers out with `swap_remove`, so three
//! tasks that sleep the same time, started A, B, C, resume A, C, B. This queue keeps its timers
//! sorted instead: a new timer goes after every timer due at or before its time. It serves the
//! agent's std driver (the simulated board) and the QEMU boards' alarm driver alike.
//!
//! Like embassy's, it holds at most `N` timers without a heap. One more wakes the timer due last
//! at once (its task finds its time has not come and asks again): correct, but that task spins
//! until a place frees, so `N` should cover every timer the firmware has pending at once.
#![no_std]

use core::task::Waker;
use heapless::Vec;

/// One pending wake-up.
#[derive(Debug)]
struct Timer {
    at: u64,
    waker: Waker,
}

/// At most `N` pending timers, sorted by deadline, ties in the order they were scheduled.
#[derive(Debug)]
pub struct OrderedQueue<const N: usize> {
    timers: Vec<Timer, N>,
}

impl<const N: usize> Default for OrderedQueue<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> OrderedQueue<N> {
    /// An empty queue.
    pub const fn new() -> Self {
        OrderedQueue { timers: Vec::new() }
    }

    /// Asks for `waker` to be woken at `at` (in driver ticks). A waker already waiting keeps the
    /// earlier of its two times (a task waits for its soonest timer, as with embassy's queue).
    /// Returns whether the soonest deadline may have changed: then the driver sets its alarm again.
    pub fn schedule_wake(&mut self, at: u64, waker: &Waker) -> bool {
        if let Some(i) = self.timers.iter().position(|t| t.waker.will_wake(waker)) {
            if self.timers[i].at <= at {
                return false;
            }
            let timer = self.timers.remove(i);
            self.insert(Timer { at, waker: timer.waker });
            return true;
        }
        if self.timers.is_full() {
            // The timer due last is woken now: it is the new one, or one already waiting.
            match self.timers.last() {
                Some(last) if last.at > at => {
                    if let Some(last) = self.timers.pop() {
                        last.waker.wake();
                    }
                }
                _ => {
                    waker.wake_by_ref();
                    return false;
                }
            }
        }
        self.insert(Timer { at, waker: waker.clone() });
        true
    }

    /// Wakes every timer due at `now`, soonest first and ties in the order they were scheduled,
    /// and returns when the next one is due (`u64::MAX`: none is).
    pub fn next_expiration(&mut self, now: u64) -> u64 {
        let due = self.timers.iter().take_while(|t| t.at <= now).count();
        for timer in &self.timers[..due] {
            timer.waker.wake_by_ref();
        }
        let waiting = self.timers.len() - due;
        self.timers.rotate_left(due);
        self.timers.truncate(waiting);
        self.timers.first().map_or(u64::MAX, |t| t.at)
    }

    /// How many timers are waiting.
    pub fn len(&self) -> usize {
        self.timers.len()
    }

    /// Whether no timer is waiting.
    pub fn is_empty(&self) -> bool {
        self.timers.is_empty()
    }

    /// Puts `timer` after every timer due at or before it. There is room: callers made it.
    fn insert(&mut self, timer: Timer) {
        let place = self.timers.partition_point(|t| t.at <= timer.at);
        if self.timers.insert(place, timer).is_err() {
            unreachable!("a place was made before inserting");
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::OrderedQueue;
    use core::task::Waker;
    use std::sync::{Arc, Mutex};
    use std::task::Wake;
    use std::vec::Vec;

    /// A waker that writes its name in a shared log when woken.
    struct Named {
        name: &'static str,
        log: Arc<Mutex<Vec<&'static str>>>,
    }

    impl Wake for Named {
        fn wake(self: Arc<Self>) {
            self.log.lock().unwrap().push(self.name);
        }
    }

    fn wakers(names: &[&'static str]) -> (Vec<Waker>, Arc<Mutex<Vec<&'static str>>>) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let wakers =
            names.iter().map(|&name| Waker::from(Arc::new(Named { name, log: log.clone() }))).collect();
        (wakers, log)
    }

    fn woken(log: &Mutex<Vec<&'static str>>) -> Vec<&'static str> {
        core::mem::take(&mut *log.lock().unwrap())
    }

    #[test]
    fn timers_due_at_the_same_time_wake_in_the_order_they_were_scheduled() {
        let (w, log) = wakers(&["A", "B", "C", "D"]);
        let mut queue = OrderedQueue::<8>::new();
        for waker in &w {
            queue.schedule_wake(10, waker);
        }
        assert_eq!(queue.next_expiration(9), 10, "nothing is due yet");
        assert!(woken(&log).is_empty());
        assert_eq!(queue.next_expiration(10), u64::MAX);
        assert_eq!(woken(&log), ["A", "B", "C", "D"]);
        assert!(queue.is_empty());
    }

    #[test]
    fn timers_wake_soonest_first_whatever_order_they_came_in() {
        let (w, log) = wakers(&["late", "soon", "middle", "also soon"]);
        let mut queue = OrderedQueue::<8>::new();
        for (waker, at) in w.iter().zip([30, 10, 20, 10]) {
            queue.schedule_wake(at, waker);
        }
        assert_eq!(queue.next_expiration(25), 30, "the late one waits");
        assert_eq!(woken(&log), ["soon", "also soon", "middle"]);
        assert_eq!(queue.len(), 1);
    }

    #[test]
    fn a_waker_waiting_already_keeps_its_earlier_time() {
        let (w, log) = wakers(&["A", "B"]);
        let mut queue = OrderedQueue::<8>::new();
        assert!(queue.schedule_wake(20, &w[0]));
        assert!(queue.schedule_wake(15, &w[1]));
        assert!(!queue.schedule_wake(40, &w[0]), "a later time changes nothing");
        assert!(queue.schedule_wake(10, &w[0]), "an earlier time moves it");
        assert_eq!(queue.len(), 2, "one entry per waker");
        assert_eq!(queue.next_expiration(15), u64::MAX);
        assert_eq!(woken(&log), ["A", "B"]);
    }

    #[test]
    fn a_full_queue_wakes_the_timer_due_last_at_once() {
        let (w, log) = wakers(&["A", "B", "C"]);
        let mut queue = OrderedQueue::<2>::new();
        queue.schedule_wake(10, &w[0]);
        queue.schedule_wake(30, &w[1]);
        assert!(queue.schedule_wake(20, &w[2]), "C is sooner than B: B gives its place up");
        assert_eq!(woken(&log), ["B"]);
        assert!(!queue.schedule_wake(50, &w[1]), "B, due last, is woken at once");
        assert_eq!(woken(&log), ["B"]);
        assert_eq!(queue.next_expiration(100), u64::MAX);
        assert_eq!(woken(&log), ["A", "C"], "the two kept wake in order");
    }
}
