//! The observed tasks: a fixed table (no heap) from embassy's task id (its header's address) to the
//! id the host knows, with each task's poll counters. Every access is inside a critical section:
//! the hooks run in thread mode and in interrupts.

use asyncmon_protocol::device::{TaskId, TaskRunState, TaskStats};
use core::cell::RefCell;
use critical_section::{CriticalSection, Mutex};
use embassy_time::Instant;

/// How many tasks can be watched at once; a task past it is counted, not shown.
pub const MAX_TASKS: usize = 64;

/// One task's counters.
#[derive(Clone, Copy)]
pub struct Entry {
    /// embassy's task id (the header's address, its low 32 bits).
    pub header: u32,
    /// The id the host knows it by.
    pub id: TaskId,
    polls: u32,
    busy_us: u64,
    max_poll_us: u32,
    self_wakes: u32,
    /// When its current poll began, while it is being polled.
    poll_start: Option<Instant>,
    last_poll_end: Option<Instant>,
    /// It was woken during its own poll (a self-wake, if nothing else woke it since).
    woken_while_polled: bool,
    /// Counters changed since the last sample was sent.
    dirty: bool,
    last_sample: Option<Instant>,
}

/// The table.
pub struct Table {
    entries: [Option<Entry>; MAX_TASKS],
    next_id: TaskId,
    /// Tasks not watched because the table was full.
    pub overflowed: u32,
    /// The entry being polled now.
    pub running: Option<usize>,
}

/// The one table.
pub static TABLE: Mutex<RefCell<Table>> = Mutex::new(RefCell::new(Table::new()));

/// Runs `f` on the table.
pub fn with<R>(f: impl FnOnce(&mut Table, CriticalSection<'_>) -> R) -> R {
    critical_section::with(|cs| f(&mut TABLE.borrow_ref_mut(cs), cs))
}

impl Table {
    const fn new() -> Table {
        Table { entries: [None; MAX_TASKS], next_id: 0, overflowed: 0, running: None }
    }

    /// A new task; its id, or `None` when the table is full.
    pub fn add(&mut self, header: u32) -> Option<TaskId> {
        let Some(free) = self.entries.iter().position(Option::is_none) else {
            self.overflowed += 1;
            return None;
        };
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.entries[free] = Some(Entry {
            header,
            id,
            polls: 0,
            busy_us: 0,
            max_poll_us: 0,
            self_wakes: 0,
            poll_start: None,
            last_poll_end: None,
            woken_while_polled: false,
            dirty: false,
            last_sample: None,
        });
        Some(id)
    }

    fn find(&self, header: u32) -> Option<usize> {
        self.entries.iter().position(|e| e.is_some_and(|e| e.header == header))
    }

    /// Forgets a task that ended; its last sample (if its counters changed) and its id.
    pub fn remove(&mut self, header: u32, now: Instant) -> Option<(TaskId, Option<TaskStats>)> {
        let index = self.find(header)?;
        let entry = self.entries[index].take()?;
        if self.running == Some(index) {
            self.running = None;
        }
        let sample = entry.dirty.then(|| sample(&entry, now, TaskRunState::Waiting));
        Some((entry.id, sample))
    }

    /// A poll of `header` begins; its id.
    pub fn poll_begins(&mut self, header: u32, now: Instant) -> Option<TaskId> {
        let index = self.find(header)?;
        let entry = self.entries[index].as_mut()?;
        entry.poll_start = Some(now);
        entry.woken_while_polled = false;
        self.running = Some(index);
        Some(entry.id)
    }

    /// The poll of `header` ended; a sample to send when one is due (at most one per task per
    /// `interval`).
    pub fn poll_ends(
        &mut self,
        header: u32,
        now: Instant,
        interval: embassy_time::Duration,
    ) -> Option<TaskStats> {
        let index = self.find(header)?;
        self.running = None;
        let entry = self.entries[index].as_mut()?;
        let took =
            entry.poll_start.take().map_or(0, |start| now.saturating_duration_since(start).as_micros());
        entry.polls = entry.polls.wrapping_add(1);
        entry.busy_us = entry.busy_us.saturating_add(took);
        entry.max_poll_us = entry.max_poll_us.max(u32::try_from(took).unwrap_or(u32::MAX));
        if entry.woken_while_polled {
            entry.self_wakes = entry.self_wakes.wrapping_add(1);
        }
        entry.last_poll_end = Some(now);
        entry.dirty = true;
        let due = entry.last_sample.is_none_or(|last| now.saturating_duration_since(last) >= interval);
        due.then(|| {
            entry.last_sample = Some(now);
            entry.dirty = false;
            sample(
                entry,
                now,
                if entry.woken_while_polled { TaskRunState::Ready } else { TaskRunState::Waiting },
            )
        })
    }

    /// `header` was woken: a self-wake when it is the task being polled.
    pub fn woken(&mut self, header: u32) {
        if let Some(running) = self.running {
            if let Some(entry) = self.entries[running].as_mut() {
                if entry.header == header {
                    entry.woken_while_polled = true;
                }
            }
        }
    }

    /// Samples due now of tasks whose counters changed (sent while the executor is idle, so a task
    /// polled once and then quiet still reports).
    pub fn due_samples(
        &mut self,
        now: Instant,
        interval: embassy_time::Duration,
        mut send: impl FnMut(TaskStats),
    ) {
        for entry in self.entries.iter_mut().flatten() {
            let due = entry.last_sample.is_none_or(|last| now.saturating_duration_since(last) >= interval);
            if entry.dirty && due {
                entry.last_sample = Some(now);
                entry.dirty = false;
                send(sample(entry, now, TaskRunState::Waiting));
            }
        }
    }

    /// Every watched task: (id, header).
    pub fn tasks(&self) -> impl Iterator<Item = (TaskId, u32)> + '_ {
        self.entries.iter().flatten().map(|e| (e.id, e.header))
    }
}

fn sample(entry: &Entry, now: Instant, state: TaskRunState) -> TaskStats {
    let idle_us = entry.last_poll_end.map_or(0, |end| now.saturating_duration_since(end).as_micros());
    TaskStats {
        task: entry.id,
        polls: entry.polls,
        busy_us: entry.busy_us,
        max_poll_us: entry.max_poll_us,
        self_wakes: entry.self_wakes,
        idle_us: u32::try_from(idle_us).unwrap_or(u32::MAX),
        state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embassy_time::Duration;

    fn at(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn polls_are_counted_timed_and_sampled_at_most_once_an_interval() {
        let mut table = Table::new();
        let id = table.add(0x2000_0100).unwrap();
        let interval = Duration::from_millis(500);
        assert_eq!(table.poll_begins(0x2000_0100, at(0)), Some(id));
        table.woken(0x2000_0100); // it woke itself
        let first = table.poll_ends(0x2000_0100, at(30), interval).expect("the first sample is due at once");
        assert_eq!((first.polls, first.max_poll_us, first.self_wakes), (1, 30_000, 1));
        table.poll_begins(0x2000_0100, at(100));
        assert_eq!(table.poll_ends(0x2000_0100, at(101), interval), None, "not again within the interval");
        let mut later = None;
        table.due_samples(at(600), interval, |s| later = Some(s));
        let later = later.expect("the changed counters go out when due");
        assert_eq!((later.polls, later.busy_us, later.max_poll_us), (2, 31_000, 30_000));
    }

    #[test]
    fn a_full_table_counts_what_it_cannot_watch_and_frees_ended_tasks() {
        let mut table = Table::new();
        for i in 0..MAX_TASKS as u32 {
            assert!(table.add(i * 64).is_some());
        }
        assert_eq!(table.add(0xFFFF_0000), None);
        assert_eq!(table.overflowed, 1);
        assert!(table.remove(0, at(0)).is_some());
        assert!(table.add(0xFFFF_0000).is_some(), "an ended task's place is free again");
        assert_eq!(table.tasks().count(), MAX_TASKS);
    }
}
