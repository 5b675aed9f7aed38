//! The watched executors, a cell each: what the hooks of one poll hand each other (the task being
//! polled, since when, whether it woke itself) and the executor's own figures (its busy time, when
//! its idle hook last looked for work). A firmware may run several executors (a thread-mode one
//! and interrupt executors that preempt it), so each has its own cell, claimed once in a critical
//! section when it spawns its first task and written afterwards by that executor alone.

use crate::clock::{self, Ticks, Wide};
use asyncmon_agent::observer;
use asyncmon_protocol::device::TaskId;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering::*};
use critical_section::CriticalSection;

/// How many executors can be watched; the tasks of one past it are not.
pub const MAX_EXECUTORS: usize = 4;

/// No executor: a cell not claimed yet (executor ids are addresses, never 0).
const UNCLAIMED: u32 = 0;
/// No task of this executor is being polled (or the one polled has ended); a place `p` is kept as
/// `p + 1`, so that a cell is all zeros at boot and sits in `.bss`.
const NOT_POLLING: u32 = 0;

/// One executor's cell.
pub struct Executor {
    id: AtomicU32,
    /// The table place of the task being polled, plus one, or [`NOT_POLLING`].
    polling: AtomicU32,
    /// Its header, for a wake during its poll. Left as it is after the poll: a wake then sets
    /// `woken`, which the next poll's begin clears before anything reads it.
    polling_header: AtomicU32,
    /// The task was woken during its own poll.
    woken: AtomicBool,
    poll_start: AtomicU32,
    /// The task named as running when this executor's poll began (an interrupt executor's poll
    /// interrupts the thread executor's), put back when it ends.
    outer_running: AtomicU32,
    /// When its latest poll ended, and whether one ended since the idle hook last looked: going
    /// idle after a poll reads no clock.
    latest_end: AtomicU32,
    polled: AtomicBool,
    /// The busy time of its tasks that ended (the others' is in the table).
    retired_busy: Wide,
    /// When the cell was claimed (all 64 bits, split).
    started: Wide,
    last_check: AtomicU32,
    last_sample: AtomicU32,
}

impl Executor {
    #[allow(clippy::declare_interior_mutable_const)] // a template for the cells' initialiser
    const UNCLAIMED: Executor = Executor {
        id: AtomicU32::new(UNCLAIMED),
        polling: AtomicU32::new(NOT_POLLING),
        polling_header: AtomicU32::new(0),
        woken: AtomicBool::new(false),
        poll_start: AtomicU32::new(0),
        outer_running: AtomicU32::new(0), // written before it is read
        latest_end: AtomicU32::new(0),
        polled: AtomicBool::new(false),
        retired_busy: Wide::new(),
        started: Wide::new(),
        last_check: AtomicU32::new(0),
        last_sample: AtomicU32::new(0),
    };

    /// A poll of the task at table place `place` (`None`: not watched), known to the host as
    /// `task` ([`NO_RUNNING_TASK`](asyncmon_protocol::device::NO_RUNNING_TASK) if it is not
    /// watched), begins now.
    #[inline(always)]
    pub fn poll_begins(&self, place: Option<usize>, header: u32, task: TaskId) {
        self.polling.store(place.map_or(NOT_POLLING, |p| p as u32 + 1), Relaxed);
        self.polling_header.store(header, Relaxed);
        self.woken.store(false, Relaxed);
        self.outer_running.store(observer::running_word(), Relaxed);
        observer::set_running(task);
        self.poll_start.store(clock::now(), Relaxed);
    }

    /// The poll ended at `end`: the polled task's place (unless it ended inside the poll:
    /// [`Executor::task_ended`] took it), when its poll began, and whether it woke itself.
    #[inline(always)]
    pub fn poll_ends(&self, end: Ticks) -> Option<(usize, Ticks, bool)> {
        self.latest_end.store(end, Relaxed);
        self.polled.store(true, Relaxed);
        observer::set_running(self.outer_running.load(Relaxed));
        let place = self.polling.load(Relaxed);
        (place != NOT_POLLING)
            .then(|| (place as usize - 1, self.poll_start.load(Relaxed), self.woken.load(Relaxed)))
    }

    /// The task at `place` ended inside its poll (embassy says so before the poll's end): when
    /// that poll began and whether it woke itself, if it is the one being polled. Its busy time
    /// (`busy`, that poll counted) stays the executor's.
    pub fn task_ended(&self, place: usize) -> Option<(Ticks, bool)> {
        if self.polling.load(Relaxed) != place as u32 + 1 {
            return None;
        }
        self.polling.store(NOT_POLLING, Relaxed);
        Some((self.poll_start.load(Relaxed), self.woken.load(Relaxed)))
    }

    /// A task of this executor ended, busy for `busy` ticks in all.
    pub fn retire(&self, busy: u64) {
        self.retired_busy.set(self.retired_busy.get() + busy);
    }

    /// The task `header` was woken (maybe in an interrupt): a self-wake if it is being polled.
    #[inline(always)]
    pub fn woken(&self, header: u32) {
        if self.polling_header.load(Relaxed) == header {
            self.woken.store(true, Relaxed);
        }
    }

    /// The executor ran out of work: the time now, when the idle hook should look for due samples
    /// and the host's commands (at most every `every`). The latest poll's end serves as now, so
    /// going idle after a poll reads no clock.
    #[inline(always)]
    pub fn idle_check_due(&self, every: Ticks) -> Option<Ticks> {
        let now = if self.polled.load(Relaxed) {
            self.polled.store(false, Relaxed);
            self.latest_end.load(Relaxed)
        } else {
            now_after_an_empty_round()
        };
        if now.wrapping_sub(self.last_check.load(Relaxed)) < every {
            return None;
        }
        self.last_check.store(now, Relaxed);
        Some(now)
    }

    /// The executor's idle time and the time since it started, when a sample is due (at most one
    /// every `interval`): `live_busy` is the busy time of its tasks still running. Idle is the
    /// time outside its polls.
    /// `now_wide` reads the clock's 64 bits (once, when the sample is due).
    pub fn sample(
        &self,
        now: Ticks,
        interval: Ticks,
        now_wide: impl FnOnce() -> u64,
        live_busy: impl FnOnce() -> u64,
    ) -> Option<(u64, u64)> {
        if now.wrapping_sub(self.last_sample.load(Relaxed)) < interval {
            return None;
        }
        self.last_sample.store(now, Relaxed);
        let started = self.started.get();
        let elapsed = now_wide().saturating_sub(started);
        let busy = self.retired_busy.get() + live_busy();
        Some((clock::micros(elapsed.saturating_sub(busy)), clock::micros(elapsed)))
    }
}

/// The clock, read by the idle hook after a round that polled nothing (a doorbell, a spurious
/// wake): out of line, so the usual way through the hook saves no registers for it.
#[inline(never)]
#[cold]
fn now_after_an_empty_round() -> Ticks {
    clock::now()
}

static EXECUTORS: [Executor; MAX_EXECUTORS] = [Executor::UNCLAIMED; MAX_EXECUTORS];

/// The cell of executor `id` and its index (as [`claim`] gave it: the table says which executor
/// polls each task), if it has one. The first executor's is looked at first: most firmwares have
/// one.
#[inline(always)]
pub fn find(id: u32) -> Option<(usize, &'static Executor)> {
    if EXECUTORS[0].id.load(Relaxed) == id {
        return Some((0, &EXECUTORS[0]));
    }
    EXECUTORS.iter().enumerate().skip(1).find(|(_, cell)| cell.id.load(Relaxed) == id)
}

/// The cell of executor `id`, claimed now if it had none; its index, or `None` when every cell is
/// taken.
pub fn claim(_cs: CriticalSection<'_>, id: u32) -> Option<usize> {
    if let Some((index, _)) = find(id) {
        return Some(index);
    }
    let index = EXECUTORS.iter().position(|cell| cell.id.load(Relaxed) == UNCLAIMED)?;
    let cell = &EXECUTORS[index];
    let now = clock::now_wide();
    cell.started.set(now);
    cell.last_check.store(now as u32, Relaxed);
    cell.last_sample.store(now as u32, Relaxed);
    cell.id.store(id, Release);
    Some(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use asyncmon_protocol::device::NO_RUNNING_TASK;

    /// The running task is one word for the whole firmware: the tests that look at it take turns.
    static RUNNING_WORD: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn cell() -> Executor {
        Executor::UNCLAIMED
    }

    #[test]
    fn a_wake_during_a_poll_is_a_self_wake_and_one_after_it_is_not() {
        let _turn = RUNNING_WORD.lock().unwrap();
        let executor = cell();
        executor.poll_begins(Some(3), 0x2000_0100, 7);
        executor.woken(0x2000_0100);
        let (place, _, woke_itself) = executor.poll_ends(50).unwrap();
        assert_eq!((place, woke_itself), (3, true));
        executor.woken(0x2000_0100); // after its poll: the next begin forgets it
        executor.poll_begins(Some(4), 0x2000_0200, 8);
        executor.woken(0x2000_0100); // another task
        assert_eq!(executor.poll_ends(60).map(|(p, _, w)| (p, w)), Some((4, false)));
    }

    #[test]
    fn an_executor_that_interrupts_another_puts_its_running_task_back() {
        let _turn = RUNNING_WORD.lock().unwrap();
        let (thread, interrupt) = (cell(), cell());
        thread.poll_begins(Some(1), 0x2000_0100, 11);
        assert_eq!(observer::running_word(), 11);
        interrupt.poll_begins(Some(2), 0x2000_0200, 22);
        assert_eq!(observer::running_word(), 22, "the panic frame names the innermost poll");
        interrupt.poll_ends(10);
        assert_eq!(observer::running_word(), 11, "back to the interrupted task");
        thread.poll_ends(20);
        assert_eq!(observer::running_word(), NO_RUNNING_TASK, "between polls: none");
    }

    #[test]
    fn a_task_that_ends_inside_its_poll_leaves_the_poll_to_the_executor() {
        let _turn = RUNNING_WORD.lock().unwrap();
        let executor = cell();
        executor.poll_begins(Some(5), 0x2000_0100, 7);
        assert!(executor.task_ended(6).is_none(), "not the task being polled");
        assert!(executor.task_ended(5).is_some());
        assert_eq!(executor.poll_ends(30), None, "its place may be another task's by now");
    }

    #[test]
    fn the_idle_hook_looks_around_at_most_once_an_interval_and_reads_no_clock_after_a_poll() {
        let _turn = RUNNING_WORD.lock().unwrap();
        let executor = cell();
        executor.poll_begins(Some(0), 0x2000_0100, 7);
        executor.poll_ends(4_000);
        assert_eq!(executor.idle_check_due(10_000), None, "4 ms after the last look");
        executor.poll_begins(Some(0), 0x2000_0100, 7);
        executor.poll_ends(12_000);
        assert_eq!(executor.idle_check_due(10_000), Some(12_000), "the poll's end is the time");
        executor.poll_begins(Some(0), 0x2000_0100, 7);
        executor.poll_ends(15_000);
        assert_eq!(executor.idle_check_due(10_000), None, "3 ms after that look");
    }

    #[test]
    fn idle_time_is_the_time_outside_polls_ended_tasks_included() {
        let executor = cell();
        executor.retire(300); // a task that ended had been busy 300 ticks
        let sample = executor.sample(1_000, 500, || 2_000, || 200);
        assert_eq!(sample, Some((clock::micros(1_500), clock::micros(2_000))));
        assert_eq!(executor.sample(1_200, 500, || 2_200, || 200), None, "one sample an interval");
    }
}
