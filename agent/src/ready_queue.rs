//! The executor's ready queue: the tasks woken since the executor last looked, so that a pass costs
//! what is ready, not how many tasks there are.
//!
//! A wake pushes the task's signal onto a lock-free stack (from any thread or interrupt); the
//! executor takes the whole stack with one swap and polls what it held. A signal is on the stack at
//! most once (its `queued` flag, won by the wake that pushes it, is cleared only when the executor
//! takes it off), and nothing but the executor ever removes anything: push-only plus take-all has no
//! ABA problem. embassy-executor's run queue works the same way. On cores without compare-and-swap
//! (thumbv6m) `portable-atomic` does the swap in a critical section.

use crate::waker::TaskSignal;
use core::ptr::null_mut;
use portable_atomic::{AtomicPtr, Ordering};

/// The stack of woken signals. All zeros when empty, like the rest of an executor.
pub(crate) struct ReadyQueue {
    head: AtomicPtr<TaskSignal>,
}

impl ReadyQueue {
    pub const fn new() -> Self {
        ReadyQueue { head: AtomicPtr::new(null_mut()) }
    }

    /// Pushes `signal`, whose `queued` flag the caller has just set (so it is not on the stack).
    pub fn push(&self, signal: &'static TaskSignal) {
        let new = signal as *const TaskSignal as *mut TaskSignal;
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            signal.next.store(head, Ordering::Relaxed);
            // Sequentially consistent, as the sleeper's look at `is_empty` is: a sleeping
            // executor and a wake always see each other (see `platform`).
            match self.head.compare_exchange_weak(head, new, Ordering::SeqCst, Ordering::Relaxed) {
                Ok(_) => return,
                Err(current) => head = current,
            }
        }
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.head.load(Ordering::SeqCst).is_null()
    }

    /// Takes every signal pushed so far, in the order they were woken: when a slow pass finds a
    /// failing task and the siblings it cancels all due at once, the one woken first runs first,
    /// as it would have on a quicker core. Each signal's `queued` flag is cleared as the iterator
    /// hands it out, so a wake from then on queues it again.
    pub fn take_all(&self) -> Taken {
        let mut latest_first = self.head.swap(null_mut(), Ordering::SeqCst);
        let mut earliest_first = null_mut();
        // SAFETY: every pointer on the stack is a `&'static TaskSignal` (see `push`), and the stack
        // taken off is the executor's alone: no wake touches `next` until `queued` is cleared.
        while let Some(signal) = unsafe { latest_first.as_ref() } {
            latest_first = signal.next.load(Ordering::Relaxed);
            signal.next.store(earliest_first, Ordering::Relaxed);
            earliest_first = signal as *const TaskSignal as *mut TaskSignal;
        }
        Taken(earliest_first)
    }
}

/// The signals taken off the queue.
pub(crate) struct Taken(*mut TaskSignal);

impl Iterator for Taken {
    type Item = &'static TaskSignal;

    fn next(&mut self) -> Option<&'static TaskSignal> {
        // SAFETY: every pointer on the stack is a `&'static TaskSignal` (see `push`).
        let signal: &'static TaskSignal = unsafe { self.0.as_ref()? };
        // `next` first: once `queued` is clear, a wake may push the signal again and overwrite it.
        self.0 = signal.next.load(Ordering::Relaxed);
        signal.dequeued();
        Some(signal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::boxed::Box;
    use std::vec::Vec;

    fn bound_signals(queue: &'static ReadyQueue, n: usize) -> Vec<&'static TaskSignal> {
        (0..n)
            .map(|_| {
                let signal: &'static TaskSignal = Box::leak(Box::new(TaskSignal::new()));
                signal.bind(queue);
                signal
            })
            .collect()
    }

    fn position(signals: &[&'static TaskSignal], signal: &TaskSignal) -> usize {
        signals.iter().position(|s| core::ptr::eq(*s, signal)).unwrap()
    }

    #[test]
    fn each_woken_signal_is_taken_once_however_often_it_was_woken() {
        let queue: &'static ReadyQueue = Box::leak(Box::new(ReadyQueue::new()));
        let signals = bound_signals(queue, 3);
        assert!(queue.is_empty());
        signals[2].set();
        signals[0].set();
        signals[2].set();
        assert!(!queue.is_empty());
        let taken: Vec<usize> = queue.take_all().map(|s| position(&signals, s)).collect();
        assert_eq!(taken, [2, 0], "in the order woken, each once");
        assert!(queue.is_empty());
        // Taken off, a signal queues again on its next wake.
        signals[2].set();
        let taken: Vec<usize> = queue.take_all().map(|s| position(&signals, s)).collect();
        assert_eq!(taken, [2]);
    }

    #[test]
    fn wakes_from_many_threads_are_none_of_them_lost() {
        let queue: &'static ReadyQueue = Box::leak(Box::new(ReadyQueue::new()));
        let signals = bound_signals(queue, 64);
        let mut seen = [0u32; 64];
        for round in 0..200 {
            std::thread::scope(|scope| {
                for chunk in signals.chunks(16) {
                    scope.spawn(move || chunk.iter().for_each(|s| s.set()));
                }
                // Take while the threads push: nothing may be taken twice or lost.
                for signal in queue.take_all() {
                    seen[position(&signals, signal)] += 1;
                }
            });
            for signal in queue.take_all() {
                seen[position(&signals, signal)] += 1;
            }
            assert!(seen.iter().all(|&n| n == round + 1), "round {round}: {seen:?}");
        }
    }
}
