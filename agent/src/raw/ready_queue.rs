//! The executor's ready queue: the tasks woken since the executor last looked, so that a pass costs
//! what is ready, not how many tasks there are.
//!
//! A wake pushes the task's link onto a lock-free stack (from any thread or interrupt); the
//! executor takes the whole stack with one swap and polls what it held. A link is on the stack at
//! most once (its task's `queued` flag, won by the wake that pushes it, is cleared only when the
//! executor has taken it off), and nothing but the executor ever removes anything: push-only plus
//! take-all has no ABA problem. embassy-executor's run queue works the same way. On cores without
//! compare-and-swap (thumbv6m) `portable-atomic` does the swap in a critical section.

use core::ptr::null_mut;
use portable_atomic::{AtomicPtr, Ordering};

/// What a task puts on the queue: the first field of its signal, and so at its slot header's address.
#[repr(C)]
pub(crate) struct QueueLink {
    next: AtomicPtr<QueueLink>,
}

impl QueueLink {
    pub const fn new() -> Self {
        QueueLink { next: AtomicPtr::new(null_mut()) }
    }
}

/// The stack of woken links. All zeros when empty, like the rest of an executor.
pub(crate) struct ReadyQueue {
    head: AtomicPtr<QueueLink>,
}

impl ReadyQueue {
    pub const fn new() -> Self {
        ReadyQueue { head: AtomicPtr::new(null_mut()) }
    }

    /// Pushes `link`, which is not on the stack (its task's `queued` flag was just won).
    pub fn push(&self, link: &'static QueueLink) {
        let new = link as *const QueueLink as *mut QueueLink;
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            link.next.store(head, Ordering::Relaxed);
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

    /// Takes every link pushed so far, in the order they were pushed: when a slow pass finds a
    /// failing task and the siblings it cancels all due at once, the one woken first runs first, as
    /// it would have on a quicker core. The caller clears each task's `queued` flag when the
    /// iterator hands its link out (the iterator has read `next` by then).
    pub fn take_all(&self) -> Taken {
        let mut latest_first = self.head.swap(null_mut(), Ordering::SeqCst);
        let mut earliest_first = null_mut();
        // SAFETY: every pointer on the stack is a `&'static QueueLink` (see `push`), and the stack
        // taken off is the executor's alone: no wake touches `next` until `queued` is cleared.
        while let Some(link) = unsafe { latest_first.as_ref() } {
            latest_first = link.next.load(Ordering::Relaxed);
            link.next.store(earliest_first, Ordering::Relaxed);
            earliest_first = link as *const QueueLink as *mut QueueLink;
        }
        Taken(earliest_first)
    }
}

/// The links taken off the queue.
pub(crate) struct Taken(*mut QueueLink);

impl Iterator for Taken {
    type Item = &'static QueueLink;

    fn next(&mut self) -> Option<&'static QueueLink> {
        // SAFETY: every pointer on the stack is a `&'static QueueLink` (see `push`).
        let link: &'static QueueLink = unsafe { self.0.as_ref()? };
        self.0 = link.next.load(Ordering::Relaxed);
        Some(link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::boxed::Box;
    use std::vec::Vec;

    fn links(n: usize) -> Vec<&'static QueueLink> {
        (0..n).map(|_| &*Box::leak(Box::new(QueueLink::new()))).collect()
    }

    fn position(links: &[&'static QueueLink], link: &QueueLink) -> usize {
        links.iter().position(|l| core::ptr::eq(*l, link)).unwrap()
    }

    #[test]
    fn links_come_off_in_the_order_they_were_pushed() {
        let queue = ReadyQueue::new();
        let links = links(3);
        assert!(queue.is_empty());
        for i in [2, 0, 1] {
            queue.push(links[i]);
        }
        assert!(!queue.is_empty());
        let taken: Vec<usize> = queue.take_all().map(|l| position(&links, l)).collect();
        assert_eq!(taken, [2, 0, 1]);
        assert!(queue.is_empty());
        assert_eq!(queue.take_all().count(), 0);
    }

    #[test]
    fn pushes_from_many_threads_are_none_of_them_lost() {
        let queue: &'static ReadyQueue = Box::leak(Box::new(ReadyQueue::new()));
        let links = links(64);
        for round in 0..200 {
            let mut seen = [0u32; 64];
            std::thread::scope(|scope| {
                for chunk in links.chunks(16) {
                    scope.spawn(move || chunk.iter().for_each(|l| queue.push(l)));
                }
                // Take while the threads push: nothing may be taken twice or lost.
                for link in queue.take_all() {
                    seen[position(&links, link)] += 1;
                }
            });
            for link in queue.take_all() {
                seen[position(&links, link)] += 1;
            }
            assert!(seen.iter().all(|&n| n == 1), "round {round}: {seen:?}");
        }
    }
}
