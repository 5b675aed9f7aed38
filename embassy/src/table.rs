//! The observed tasks: a fixed table (no heap) from embassy's task id (its header's address) to the
//! id the host knows, with each task's poll counters.
//!
//! Who touches what, so that a poll pays no critical section:
//! * a place is taken ([`Table::add`]) and given back ([`Table::remove`]) inside a critical
//!   section, from any context (a task may be spawned from an interrupt);
//! * a task is found ([`Table::find`]) without one: its header word is published last;
//! * a task's counters are written by its own executor only (its poll's end, [`Entry::poll_ended`],
//!   and its idle hook's samples): one writer, at one priority, so plain loads and stores serve.
//!
//! Times are the executor's clock's ticks, low 32 bits (a poll or an interval is far shorter than
//! a wrap: 71 minutes at 1 MHz); the busy total keeps its carries.

use crate::clock::{micros, Ticks, Wide};
use asyncmon_protocol::device::{TaskId, TaskRunState, TaskStats};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering::*};
use critical_section::CriticalSection;

/// How many tasks can be watched at once (44 bytes of RAM each): 32, or 64 and 128 with the
/// `max-tasks-64` and `max-tasks-128` features. A task past it runs unseen; the host is told how
/// many do (`TasksNotWatched`).
pub const MAX_TASKS: usize = if cfg!(feature = "max-tasks-128") {
    128
} else if cfg!(feature = "max-tasks-64") {
    64
} else {
    32
};

/// The header word of a place never used: a search for a task stops here. (Headers are addresses
/// of word-aligned task storage: never 0 or 1.)
const EMPTY: u32 = 0;
/// The header word of a place given back: a search goes on past it.
const FREED: u32 = 1;

/// Where the search for `header` starts: headers are word-aligned and a pool's tasks sit one
/// storage apart, so the product's top bits spread them.
fn home(header: u32) -> usize {
    (header.wrapping_mul(0x9E37_79B9) >> 27) as usize % MAX_TASKS
}

/// One task: who it is, and its counters. All zeros is an empty place, so the table sits in
/// `.bss` (no flash, no copy at boot).
pub struct Entry {
    /// embassy's task id (the header's address, its low 32 bits), or [`EMPTY`] / [`FREED`].
    header: AtomicU32,
    /// The id the host knows it by.
    id: AtomicU32,
    /// The executor that polls it ([`crate::executors`]' index: four at most). A byte, beside
    /// `never_sampled`: an entry is 44 bytes, not 48.
    executor: AtomicU8,
    polls: AtomicU32,
    busy: Wide,
    max_poll: AtomicU32,
    self_wakes: AtomicU32,
    last_poll_end: AtomicU32,
    /// `polls` when the last sample was sent: the counters changed since when they differ.
    sampled_polls: AtomicU32,
    last_sample: AtomicU32,
    /// No sample was sent yet (the first is due at once).
    never_sampled: AtomicBool,
}

// The executor's index fits its byte; an entry stays 44 bytes.
const _: () = assert!(crate::executors::MAX_EXECUTORS <= u8::MAX as usize);
const _: () = assert!(core::mem::size_of::<Entry>() == 44);

impl Entry {
    #[allow(clippy::declare_interior_mutable_const)] // a template for the table's initialiser
    const EMPTY: Entry = Entry {
        header: AtomicU32::new(EMPTY),
        id: AtomicU32::new(0),
        executor: AtomicU8::new(0),
        polls: AtomicU32::new(0),
        busy: Wide::new(),
        max_poll: AtomicU32::new(0),
        self_wakes: AtomicU32::new(0),
        last_poll_end: AtomicU32::new(0),
        sampled_polls: AtomicU32::new(0),
        last_sample: AtomicU32::new(0),
        never_sampled: AtomicBool::new(false),
    };

    /// The id the host knows it by.
    pub fn id(&self) -> TaskId {
        self.id.load(Relaxed)
    }

    /// The executor that polls it.
    pub fn executor(&self) -> usize {
        self.executor.load(Relaxed) as usize
    }

    /// A poll that began at `start` ended at `end`; `woke_itself` when the task was woken during
    /// it. Only its executor calls this.
    #[inline(always)]
    pub fn poll_ended(&self, start: Ticks, end: Ticks, woke_itself: bool) {
        let took = end.wrapping_sub(start);
        self.polls.store(self.polls.load(Relaxed).wrapping_add(1), Relaxed);
        self.busy.add(took);
        if took > self.max_poll.load(Relaxed) {
            self.max_poll.store(took, Relaxed);
        }
        if woke_itself {
            self.self_wakes.store(self.self_wakes.load(Relaxed).wrapping_add(1), Relaxed);
        }
        self.last_poll_end.store(end, Relaxed);
    }

    /// The time spent in its polls, in ticks.
    pub fn busy(&self) -> u64 {
        self.busy.get()
    }

    /// Its counters at `now`, when they changed since the last sample and one is due (at most one
    /// every `interval` ticks), or `always` (its end). Only its executor calls this.
    pub fn sample(&self, now: Ticks, interval: Ticks, always: bool) -> Option<TaskStats> {
        let polls = self.polls.load(Relaxed);
        let never = self.never_sampled.load(Relaxed);
        let changed = never || polls != self.sampled_polls.load(Relaxed);
        let due = never || now.wrapping_sub(self.last_sample.load(Relaxed)) >= interval;
        if !(always || changed && due) {
            return None;
        }
        self.sampled_polls.store(polls, Relaxed);
        self.last_sample.store(now, Relaxed);
        self.never_sampled.store(false, Relaxed);
        let busy = self.busy();
        let since_end = if polls == 0 { 0 } else { now.wrapping_sub(self.last_poll_end.load(Relaxed)) };
        Some(TaskStats {
            task: self.id(),
            polls,
            busy_us: micros(busy),
            max_poll_us: u32::try_from(micros(u64::from(self.max_poll.load(Relaxed)))).unwrap_or(u32::MAX),
            self_wakes: self.self_wakes.load(Relaxed),
            idle_us: u32::try_from(micros(u64::from(since_end))).unwrap_or(u32::MAX),
            state: TaskRunState::Waiting,
        })
    }
}

/// The table: open addressing by the header's address, so a poll finds its task in a probe or
/// two, whatever the number of tasks.
pub struct Table {
    entries: [Entry; MAX_TASKS],
    next_id: AtomicU32,
    /// Tasks not watched because the table was full.
    overflowed: AtomicU32,
}

/// The one table.
pub static TABLE: Table = Table::new();

impl Table {
    const fn new() -> Table {
        Table {
            entries: [Entry::EMPTY; MAX_TASKS],
            next_id: AtomicU32::new(0),
            overflowed: AtomicU32::new(0),
        }
    }

    /// A new task polled by `executor`; its place and id, or `None` when the table is full.
    pub fn add(&self, _cs: CriticalSection<'_>, header: u32, executor: usize) -> Option<(usize, TaskId)> {
        let mut free = None;
        for probe in 0..MAX_TASKS {
            let index = (home(header) + probe) % MAX_TASKS;
            match self.entries[index].header.load(Relaxed) {
                // Spawned again before its end was seen: start over.
                word if word == header => {
                    free = Some(index);
                    break;
                }
                FREED => {
                    free.get_or_insert(index);
                }
                EMPTY => {
                    free.get_or_insert(index);
                    break;
                }
                _ => {}
            }
        }
        let Some(free) = free else {
            self.overflowed.store(self.overflowed.load(Relaxed).wrapping_add(1), Relaxed);
            return None;
        };
        let id = self.next_id.load(Relaxed);
        self.next_id.store(id.wrapping_add(1), Relaxed);
        let entry = &self.entries[free];
        // Unpublished while it is filled: a search passes over a freed place.
        entry.header.store(FREED, Relaxed);
        for counter in [
            &entry.polls,
            &entry.max_poll,
            &entry.self_wakes,
            &entry.last_poll_end,
            &entry.sampled_polls,
            &entry.last_sample,
        ] {
            counter.store(0, Relaxed);
        }
        entry.busy.set(0);
        entry.never_sampled.store(true, Relaxed);
        entry.id.store(id, Relaxed);
        entry.executor.store(executor as u8, Relaxed);
        entry.header.store(header, Release);
        Some((free, id))
    }

    /// The place of `header`, if it is watched.
    #[inline(always)]
    pub fn find(&self, header: u32) -> Option<usize> {
        let mut index = home(header);
        for _ in 0..MAX_TASKS {
            // Relaxed, then a fence only on a find: a place is published with Release.
            match self.entries[index].header.load(Relaxed) {
                word if word == header => {
                    core::sync::atomic::fence(Acquire);
                    return Some(index);
                }
                EMPTY => return None,
                _ => index = (index + 1) % MAX_TASKS,
            }
        }
        None
    }

    /// The task in place `index`.
    #[inline(always)]
    pub fn entry(&self, index: usize) -> &Entry {
        &self.entries[index % MAX_TASKS]
    }

    /// Gives back the place of a task that ended.
    pub fn remove(&self, _cs: CriticalSection<'_>, index: usize) {
        self.entry(index).header.store(FREED, Release);
    }

    /// Every watched task: its place, and its header.
    pub fn tasks(&self) -> impl Iterator<Item = (&Entry, u32)> + '_ {
        self.entries.iter().filter_map(|entry| {
            let header = entry.header.load(Acquire);
            (header != EMPTY && header != FREED).then_some((entry, header))
        })
    }

    /// Tasks not watched because the table was full, since the firmware started.
    pub fn overflowed(&self) -> u32 {
        self.overflowed.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(table: &Table, header: u32) -> Option<(usize, TaskId)> {
        critical_section::with(|cs| table.add(cs, header, 0))
    }

    #[test]
    fn polls_are_counted_timed_and_sampled_at_most_once_an_interval() {
        let table = Table::new();
        let (index, id) = add(&table, 0x2000_0100).unwrap();
        let entry = table.entry(table.find(0x2000_0100).unwrap());
        assert_eq!((index, entry.id()), (table.find(0x2000_0100).unwrap(), id));
        let interval = 500_000;
        entry.poll_ended(0, 30_000, true); // it woke itself
        let first = entry.sample(30_000, interval, false).expect("the first sample is due at once");
        assert_eq!((first.polls, first.max_poll_us, first.self_wakes), (1, 30_000, 1));
        entry.poll_ended(100_000, 101_000, false);
        assert_eq!(entry.sample(101_000, interval, false), None, "not again within the interval");
        let later = entry.sample(600_000, interval, false).expect("the changed counters go out when due");
        assert_eq!(
            (later.polls, later.busy_us, later.max_poll_us, later.idle_us),
            (2, 31_000, 30_000, 499_000)
        );
        assert_eq!(entry.sample(1_200_000, interval, false), None, "nothing changed: nothing to send");
        assert!(entry.sample(1_200_001, interval, true).is_some(), "a task's end sends its counters");
    }

    #[test]
    fn the_busy_total_keeps_its_carries_across_the_clocks_wrap() {
        let table = Table::new();
        let (index, _) = add(&table, 0x2000_0100).unwrap();
        let entry = table.entry(index);
        entry.poll_ended(0, u32::MAX - 10, false);
        entry.poll_ended(u32::MAX - 5, 100, false); // across the wrap: 106 ticks
        let stats = entry.sample(200, 1, true).unwrap();
        assert_eq!(stats.busy_us, micros(u64::from(u32::MAX - 10) + 106));
    }

    #[test]
    fn tasks_are_found_past_collisions_and_freed_places() {
        let table = Table::new();
        let headers: [u32; 30] = core::array::from_fn(|i| 0x2000_0000 + 0x40 * i as u32);
        let ids: [TaskId; 30] = core::array::from_fn(|i| add(&table, headers[i]).unwrap().1);
        for (header, id) in headers.iter().zip(ids) {
            assert_eq!(table.find(*header).map(|i| table.entry(i).id()), Some(id));
        }
        for header in headers.iter().step_by(2) {
            critical_section::with(|cs| table.remove(cs, table.find(*header).unwrap()));
        }
        for (header, id) in headers.iter().zip(ids).skip(1).step_by(2) {
            assert_eq!(table.find(*header).map(|i| table.entry(i).id()), Some(id), "found past freed places");
        }
        assert_eq!(table.find(headers[0]), None, "an ended task is gone");
    }

    #[test]
    fn a_full_table_counts_what_it_cannot_watch_and_frees_ended_tasks() {
        let table = Table::new();
        for i in 0..MAX_TASKS as u32 {
            assert!(add(&table, (i + 1) * 64).is_some());
        }
        assert_eq!(add(&table, 0xFFFF_0000), None);
        assert_eq!(table.overflowed(), 1);
        critical_section::with(|cs| table.remove(cs, table.find(64).unwrap()));
        assert!(add(&table, 0xFFFF_0000).is_some(), "an ended task's place is free again");
        assert_eq!(table.tasks().count(), MAX_TASKS);
    }

    #[test]
    fn a_task_spawned_again_starts_its_counters_over() {
        let table = Table::new();
        let (index, first) = add(&table, 0x2000_0100).unwrap();
        table.entry(index).poll_ended(0, 10, false);
        let (again, second) = add(&table, 0x2000_0100).unwrap();
        assert_eq!(again, index);
        assert_ne!(first, second);
        assert_eq!(table.entry(again).sample(20, 1, true).unwrap().polls, 0);
    }
}
