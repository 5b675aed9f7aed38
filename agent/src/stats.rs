//! Per-task poll statistics (the `task-stats` feature): how often each task is polled, how long its
//! polls take, and how often it wakes itself — what the monitor's columns and warnings need.
//!
//! Sampling is bounded: the executor sends one `TaskStats` frame per task whose numbers changed, at
//! most every [`STATS_INTERVAL`], and one when a task ends. Without the feature every function here
//! is empty and the executor reads no clock around its polls.

use asyncmon_protocol::device::{TaskId, TaskRunState};
#[cfg(feature = "task-stats")]
use core::cell::Cell;
use embassy_time::Duration;
#[cfg(feature = "task-stats")]
use embassy_time::Instant;

/// How often the executor samples its tasks' statistics.
pub const STATS_INTERVAL: Duration = Duration::from_millis(500);

/// A task's counters, kept in its slot header.
#[cfg(feature = "task-stats")]
pub(crate) struct PollCounters {
    polls: Cell<u32>,
    busy_us: Cell<u64>,
    max_poll_us: Cell<u32>,
    self_wakes: Cell<u32>,
    last_poll_end: Cell<Option<Instant>>,
    /// `polls` when the last sample was sent: an unchanged task is not sampled again.
    reported_polls: Cell<u32>,
}

/// Without the feature: nothing.
#[cfg(not(feature = "task-stats"))]
pub(crate) struct PollCounters;

/// When a poll started (nothing without the feature).
pub(crate) struct PollStart(#[cfg(feature = "task-stats")] Instant);

impl PollStart {
    /// Now (a clock read with the feature).
    #[inline]
    pub fn now() -> Self {
        PollStart(
            #[cfg(feature = "task-stats")]
            Instant::now(),
        )
    }

    /// The poll that started then ends now: its span.
    #[inline]
    pub fn ended_now(self) -> PollSpan {
        PollSpan {
            #[cfg(feature = "task-stats")]
            start: self.0,
            #[cfg(feature = "task-stats")]
            end: Instant::now(),
        }
    }
}

/// When a poll started and ended (nothing without the feature).
pub(crate) struct PollSpan {
    #[cfg(feature = "task-stats")]
    start: Instant,
    #[cfg(feature = "task-stats")]
    end: Instant,
}

impl PollSpan {
    /// Its start and end in the time driver's ticks, modulo 2³² (for `poll-trace`).
    #[cfg(feature = "poll-trace")]
    pub fn ticks(&self) -> (u32, u32) {
        (self.start.as_ticks() as u32, self.end.as_ticks() as u32)
    }
}

impl PollCounters {
    pub const fn new() -> Self {
        #[cfg(feature = "task-stats")]
        return PollCounters {
            polls: Cell::new(0),
            busy_us: Cell::new(0),
            max_poll_us: Cell::new(0),
            self_wakes: Cell::new(0),
            last_poll_end: Cell::new(None),
            reported_polls: Cell::new(0),
        };
        #[cfg(not(feature = "task-stats"))]
        PollCounters
    }

    /// Back to zero, for a reused slot.
    pub fn reset(&self) {
        #[cfg(feature = "task-stats")]
        {
            self.polls.set(0);
            self.busy_us.set(0);
            self.max_poll_us.set(0);
            self.self_wakes.set(0);
            self.last_poll_end.set(None);
            self.reported_polls.set(0);
        }
    }

    #[inline]
    pub fn poll_started(&self) -> PollStart {
        PollStart::now()
    }

    /// Counts a poll that began at `start`; `woke_itself`: whether the task was ready again when
    /// its poll returned (asked only with the feature). Returns the poll's span.
    #[inline]
    pub fn poll_ended(&self, start: PollStart, woke_itself: impl FnOnce() -> bool) -> PollSpan {
        let span = start.ended_now();
        #[cfg(feature = "task-stats")]
        {
            let end = span.end;
            let took = end.saturating_duration_since(span.start).as_micros();
            self.polls.set(self.polls.get().wrapping_add(1));
            self.busy_us.set(self.busy_us.get().saturating_add(took));
            self.max_poll_us.set(self.max_poll_us.get().max(took.min(u64::from(u32::MAX)) as u32));
            self.self_wakes.set(self.self_wakes.get() + u32::from(woke_itself()));
            self.last_poll_end.set(Some(end));
        }
        #[cfg(not(feature = "task-stats"))]
        let _ = woke_itself;
        span
    }
    /// Sends a sample of task `task`'s numbers if they changed since the last one (or `always`);
    /// `state` says whether it is waiting, ready or being cancelled.
    pub fn report(&self, task: TaskId, state: impl FnOnce() -> TaskRunState, always: bool) {
        #[cfg(feature = "task-stats")]
        {
            let polls = self.polls.get();
            if !crate::link::enabled() || (!always && polls == self.reported_polls.get()) {
                return;
            }
            self.reported_polls.set(polls);
            let idle = self
                .last_poll_end
                .get()
                .map_or(0, |end| Instant::now().saturating_duration_since(end).as_micros());
            crate::link::send_task_stats(asyncmon_protocol::device::TaskStats {
                task,
                polls,
                busy_us: self.busy_us.get(),
                max_poll_us: self.max_poll_us.get(),
                self_wakes: self.self_wakes.get(),
                idle_us: idle.min(u64::from(u32::MAX)) as u32,
                state: state(),
            });
        }
        #[cfg(not(feature = "task-stats"))]
        let _ = (task, state, always);
    }
}

#[cfg(all(test, feature = "task-stats"))]
mod tests {
    use super::*;

    #[test]
    fn a_poll_is_counted_with_its_time_and_whether_the_task_woke_itself() {
        let counters = PollCounters::new();
        let start = counters.poll_started();
        std::thread::sleep(std::time::Duration::from_millis(3));
        counters.poll_ended(start, || true);
        counters.poll_ended(counters.poll_started(), || false);
        assert_eq!(counters.polls.get(), 2);
        assert_eq!(counters.self_wakes.get(), 1);
        assert!(counters.max_poll_us.get() >= 3000, "{}", counters.max_poll_us.get());
        assert!(counters.busy_us.get() >= u64::from(counters.max_poll_us.get()));
        counters.reset();
        assert_eq!((counters.polls.get(), counters.busy_us.get()), (0, 0));
    }
}
