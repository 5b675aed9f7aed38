//! The observed tasks: a fixed table (no heap) from embassy's task id (its header's address) to the
//! id the host knows, with each task's poll counters. Every access is inside a critical section:
//! the hooks run in thread mode and in interrupts.

use asyncmon_protocol::device::{TaskId, TaskRunState, TaskStats};
use core::cell::RefCell;
use critical_section::{CriticalSection, Mutex};
use embassy_time::Instant;

/// How many tasks can be watched at once (80 bytes of RAM each); a task past it is counted, not
/// shown.
pub const MAX_TASKS: usize = 32;

/// A place in the table. `Empty` is tag 0, so the table is all zeros at boot and sits in `.bss`
/// (no flash, no copy).
#[derive(Clone, Copy)]
#[repr(u8)]
enum Slot {
    /// Never used: a probe for a task stops here.
    Empty,
    /// Freed: a probe goes on past it.
    Freed,
    Used(Entry),
}

impl Slot {
    fn entry(&self) -> Option<&Entry> {
        match self {
            Slot::Used(entry) => Some(entry),
            _ => None,
        }
    }

    fn entry_mut(&mut self) -> Option<&mut Entry> {
        match self {
            Slot::Used(entry) => Some(entry),
            _ => None,
        }
    }
}

/// Where the probe for `header` starts: headers are word-aligned and a pool's tasks sit one
/// storage apart.
fn home(header: u32) -> usize {
    (header.wrapping_mul(0x9E37_79B9) >> 27) as usize % MAX_TASKS
}

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

/// The table: open addressing by the header's address, so a poll finds its task in a probe or
/// two, whatever the number of tasks.
pub struct Table {
    entries: [Slot; MAX_TASKS],
    next_id: TaskId,
    /// Tasks not watched because the table was full.
    pub overflowed: u32,
    /// The entry being polled now.
    pub running: Option<usize>,
    /// When the idle hook next looks for due samples and commands.
    next_idle_check: Option<Instant>,
    /// When the latest poll ended: the idle hook's clock (it runs right after the polls), so that
    /// going idle reads no clock.
    latest_poll_end: Option<Instant>,
    /// The executor's time asleep, summed: from the end of its last poll (or the start of its
    /// last round, if that round polled nothing) to the start of its next round.
    idle_us: u64,
    first_round: Option<Instant>,
    last_round: Option<Instant>,
    last_executor_sample: Option<Instant>,
}

/// The one table.
pub static TABLE: Mutex<RefCell<Table>> = Mutex::new(RefCell::new(Table::new()));

/// Runs `f` on the table.
pub fn with<R>(f: impl FnOnce(&mut Table, CriticalSection<'_>) -> R) -> R {
    critical_section::with(|cs| f(&mut TABLE.borrow_ref_mut(cs), cs))
}

impl Table {
    const fn new() -> Table {
        Table {
            entries: [Slot::Empty; MAX_TASKS],
            next_id: 0,
            overflowed: 0,
            running: None,
            next_idle_check: None,
            latest_poll_end: None,
            idle_us: 0,
            first_round: None,
            last_round: None,
            last_executor_sample: None,
        }
    }

    /// A new task; its id, or `None` when the table is full.
    pub fn add(&mut self, header: u32) -> Option<TaskId> {
        let mut free = None;
        for probe in 0..MAX_TASKS {
            let index = (home(header) + probe) % MAX_TASKS;
            match self.entries[index] {
                Slot::Used(entry) if entry.header == header => {
                    free = Some(index); // Spawned again before its end was seen: start over.
                    break;
                }
                Slot::Used(_) => {}
                Slot::Freed => {
                    free.get_or_insert(index);
                }
                Slot::Empty => {
                    free.get_or_insert(index);
                    break;
                }
            }
        }
        let Some(free) = free else {
            self.overflowed += 1;
            return None;
        };
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.entries[free] = Slot::Used(Entry {
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
        for probe in 0..MAX_TASKS {
            let index = (home(header) + probe) % MAX_TASKS;
            match &self.entries[index] {
                Slot::Used(entry) if entry.header == header => return Some(index),
                Slot::Empty => return None,
                _ => {}
            }
        }
        None
    }

    /// Forgets a task that ended; its last sample (if its counters changed) and its id.
    pub fn remove(&mut self, header: u32, now: Instant) -> Option<(TaskId, Option<TaskStats>)> {
        let index = self.find(header)?;
        let Slot::Used(entry) = core::mem::replace(&mut self.entries[index], Slot::Freed) else {
            return None;
        };
        if self.running == Some(index) {
            self.running = None;
        }
        let sample = entry.dirty.then(|| sample(&entry, now, TaskRunState::Waiting));
        Some((entry.id, sample))
    }

    /// A poll of `header` begins; its id.
    pub fn poll_begins(&mut self, header: u32, now: Instant) -> Option<TaskId> {
        let index = self.find(header)?;
        let entry = self.entries[index].entry_mut()?;
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
        // The task being polled is the one that ends its poll: no search.
        let index = match self.running.take() {
            Some(index) if self.entries[index].entry().is_some_and(|e| e.header == header) => index,
            _ => self.find(header)?,
        };
        let entry = self.entries[index].entry_mut()?;
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
        self.latest_poll_end = Some(now);
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
            if let Some(entry) = self.entries[running].entry_mut() {
                if entry.header == header {
                    entry.woken_while_polled = true;
                }
            }
        }
    }

    /// The time to look for due samples and the host's commands at, when it is time (at most
    /// every `every`): the latest poll's end, so an executor that goes idle after each poll pays a
    /// comparison and reads no clock.
    pub fn idle_check_due(&mut self, every: embassy_time::Duration) -> Option<Instant> {
        let now = self.latest_poll_end?;
        if self.next_idle_check.is_some_and(|next| now < next) {
            return None;
        }
        self.next_idle_check = Some(now + every);
        Some(now)
    }

    /// The executor starts a round of polls at `now`: the time since its last work was idle.
    pub fn round_starts(&mut self, now: Instant) {
        self.first_round.get_or_insert(now);
        let idle_from = match (self.latest_poll_end, self.last_round) {
            (Some(end), Some(round)) => Some(end.max(round)),
            (end, round) => end.or(round),
        };
        if let Some(from) = idle_from {
            self.idle_us = self.idle_us.saturating_add(now.saturating_duration_since(from).as_micros());
        }
        self.last_round = Some(now);
    }

    /// The executor's idle time and the time since its first round, when a sample is due (at most
    /// one every `interval`).
    pub fn executor_sample(&mut self, now: Instant, interval: embassy_time::Duration) -> Option<(u64, u64)> {
        let first = self.first_round?;
        let due =
            self.last_executor_sample.is_none_or(|last| now.saturating_duration_since(last) >= interval);
        if !due {
            return None;
        }
        self.last_executor_sample = Some(now);
        Some((self.idle_us, now.saturating_duration_since(first).as_micros()))
    }

    /// Samples due now of tasks whose counters changed (sent while the executor is idle, so a task
    /// polled once and then quiet still reports).
    pub fn due_samples(
        &mut self,
        now: Instant,
        interval: embassy_time::Duration,
        mut send: impl FnMut(TaskStats),
    ) {
        for entry in self.entries.iter_mut().filter_map(Slot::entry_mut) {
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
        self.entries.iter().filter_map(Slot::entry).map(|e| (e.id, e.header))
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
    fn tasks_are_found_past_collisions_and_freed_places() {
        let mut table = Table::new();
        let headers: [u32; 30] = core::array::from_fn(|i| 0x2000_0000 + 0x40 * i as u32);
        let ids: [TaskId; 30] = core::array::from_fn(|i| table.add(headers[i]).unwrap());
        for (header, id) in headers.iter().zip(ids) {
            assert_eq!(table.poll_begins(*header, at(0)), Some(id));
        }
        for header in headers.iter().step_by(2) {
            table.remove(*header, at(0)).unwrap();
        }
        for (header, id) in headers.iter().zip(ids).skip(1).step_by(2) {
            assert_eq!(table.poll_begins(*header, at(0)), Some(id), "found past freed places");
        }
        assert_eq!(table.poll_begins(headers[0], at(0)), None, "an ended task is gone");
    }

    #[test]
    fn the_executors_sleep_is_summed_between_its_last_poll_and_its_next_round() {
        let mut table = Table::new();
        let header = 0x2000_0100;
        table.add(header).unwrap();
        let interval = Duration::from_millis(500);
        table.round_starts(at(0));
        table.poll_begins(header, at(0));
        table.poll_ends(header, at(10), interval);
        table.round_starts(at(100)); // asleep 10..100
        table.round_starts(at(150)); // a round that polled nothing: asleep 100..150
        table.poll_begins(header, at(150));
        table.poll_ends(header, at(160), interval);
        assert_eq!(table.executor_sample(at(200), interval), Some((140_000, 200_000)));
        assert_eq!(table.executor_sample(at(300), interval), None, "one sample an interval");
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
