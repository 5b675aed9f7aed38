//! The task table's model: which tasks are shown and in which order, how long ago each was polled,
//! and the warnings (like tokio-console's lints) computed from what the agent reports.

use asyncmon_protocol::host::{FailurePath, SessionState, Task, TaskId, TaskState};
use std::collections::HashMap;

/// A single poll longer than this held up every other task on the executor.
pub const LONG_POLL_US: u32 = 10_000;
/// A task whose polls end with it ready again more than this share of the time is busy-looping.
pub const SELF_WAKE_PERCENT: u32 = 50;
/// Self-wakes are only judged after this many polls.
pub const SELF_WAKE_MIN_POLLS: u32 = 10;
/// Finished tasks are greyed at once and dropped from the table after this long.
pub const FINISHED_KEPT_MS: u64 = 60_000;

/// The columns the table can be sorted by (`o` cycles, `O` reverses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// Running tasks by id, then finished ones, newest first.
    #[default]
    State,
    /// Task id.
    Id,
    /// Task name.
    Name,
    /// Poll count, most first.
    Polls,
    /// Busy time, most first.
    Busy,
    /// Time since the last poll, longest first.
    Idle,
    /// Storage bytes, most first.
    Storage,
}

impl SortBy {
    /// The next column in the cycle.
    pub fn next(self) -> SortBy {
        match self {
            SortBy::State => SortBy::Id,
            SortBy::Id => SortBy::Name,
            SortBy::Name => SortBy::Polls,
            SortBy::Polls => SortBy::Busy,
            SortBy::Busy => SortBy::Idle,
            SortBy::Idle => SortBy::Storage,
            SortBy::Storage => SortBy::State,
        }
    }

    /// The column header it sorts by.
    pub fn header(self) -> &'static str {
        match self {
            SortBy::State => "STATE",
            SortBy::Id => "ID",
            SortBy::Name => "NAME",
            SortBy::Polls => "POLLS",
            SortBy::Busy => "BUSY",
            SortBy::Idle => "IDLE",
            SortBy::Storage => "STORAGE",
        }
    }
}

/// When the monitor saw a task's latest statistics and its end, on the monitor's clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seen {
    /// When its latest sample arrived, with that sample's poll count.
    pub stats: Option<(u64, u32)>,
    /// When it was first seen finished.
    pub finished: Option<u64>,
}

/// Per-task times on the monitor's clock, keyed by (epoch, id).
pub type SeenTimes = HashMap<(u32, TaskId), Seen>;

/// Records what changed since the last message: new samples and newly finished tasks.
pub fn note_changes(session: &SessionState, seen: &mut SeenTimes, now_ms: u64) {
    for task in &session.tasks {
        let entry = seen.entry((task.epoch, task.id)).or_default();
        if let Some(stats) = task.stats {
            if entry.stats.is_none_or(|(_, polls)| polls != stats.polls) {
                entry.stats = Some((now_ms, stats.polls));
            }
        }
        if task.state != TaskState::Running && entry.finished.is_none() {
            entry.finished = Some(now_ms);
        }
    }
    seen.retain(|(epoch, id), _| session.tasks.iter().any(|t| t.epoch == *epoch && t.id == *id));
}

/// Microseconds since the task's last poll, now: the sampled idle time plus the time since the
/// sample arrived, while the task is running and has not been polled since.
pub fn idle_us(task: &Task, seen: &SeenTimes, now_ms: u64) -> Option<u64> {
    let stats = task.stats?;
    let since_sample = match (task.state, seen.get(&(task.epoch, task.id)).and_then(|s| s.stats)) {
        (TaskState::Running, Some((at, _))) => now_ms.saturating_sub(at) * 1000,
        _ => 0,
    };
    Some(u64::from(stats.idle_us) + since_sample)
}

/// Whether a finished task has been shown long enough.
pub fn expired(task: &Task, seen: &SeenTimes, now_ms: u64) -> bool {
    task.state != TaskState::Running
        && seen
            .get(&(task.epoch, task.id))
            .and_then(|s| s.finished)
            .is_some_and(|at| now_ms.saturating_sub(at) > FINISHED_KEPT_MS)
}

/// Orders `rows` by `by` (reversed with `reverse`).
pub fn sort(rows: &mut [&Task], by: SortBy, reverse: bool, seen: &SeenTimes, now_ms: u64) {
    let polls = |t: &Task| t.stats.map_or(0, |s| s.polls);
    let busy = |t: &Task| t.stats.map_or(0, |s| s.busy_us);
    match by {
        SortBy::State => rows.sort_by_key(|t| {
            let running = t.state == TaskState::Running;
            // Running first by (epoch, id); finished after, newest first.
            let key = if running { (t.epoch, t.id) } else { (u32::MAX - t.epoch, u32::MAX - t.id) };
            (!running, key)
        }),
        SortBy::Id => rows.sort_by_key(|t| (t.epoch, t.id)),
        SortBy::Name => rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id))),
        SortBy::Polls => rows.sort_by_key(|t| std::cmp::Reverse(polls(t))),
        SortBy::Busy => rows.sort_by_key(|t| std::cmp::Reverse(busy(t))),
        SortBy::Idle => rows.sort_by_key(|t| std::cmp::Reverse(idle_us(t, seen, now_ms))),
        SortBy::Storage => rows.sort_by_key(|t| std::cmp::Reverse(t.storage_bytes)),
    }
    if reverse {
        rows.reverse();
    }
}

/// Something worth a look, about one task or the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The task it is about (epoch, id), if any.
    pub task: Option<(u32, TaskId)>,
    /// What, in words.
    pub text: String,
}

/// The warnings for the current epoch's tasks, and for failures nobody retrieved.
pub fn warnings(session: &SessionState) -> Vec<Warning> {
    let mut out = Vec::new();
    for task in session.tasks.iter().filter(|t| t.epoch == session.epoch) {
        let Some(stats) = task.stats else { continue };
        if stats.max_poll_us > LONG_POLL_US {
            out.push(Warning {
                task: Some((task.epoch, task.id)),
                text: format!(
                    "{} #{}: a poll took {:.1} ms; every other task waited",
                    task.name,
                    task.id,
                    f64::from(stats.max_poll_us) / 1000.0
                ),
            });
        }
        if stats.polls >= SELF_WAKE_MIN_POLLS && stats.self_wake_percent() > SELF_WAKE_PERCENT {
            out.push(Warning {
                task: Some((task.epoch, task.id)),
                text: format!(
                    "{} #{}: woke itself after {}% of its polls (busy-waiting?)",
                    task.name,
                    task.id,
                    stats.self_wake_percent()
                ),
            });
        }
    }
    let unretrieved = session.failures.iter().filter(|f| f.path == FailurePath::Unretrieved).count();
    if unretrieved > 0 {
        let s = if unretrieved == 1 { "" } else { "s" };
        out.push(Warning {
            task: None,
            text: format!("{unretrieved} failure{s} never retrieved: nobody awaited the task"),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use asyncmon_protocol::host::{Location, PollStats, TargetDescription, TaskOutcome};

    fn task(id: TaskId, polls: u32, max_poll_us: u32, self_wakes: u32, state: TaskState) -> Task {
        Task {
            epoch: 0,
            id,
            name: format!("t{id}"),
            spawned_at: Location { file: "src/main.rs".into(), line: 1, column: 1 },
            parent: None,
            state,
            storage_bytes: Some(id * 10),
            future_bytes: None,
            stats: Some(PollStats {
                polls,
                busy_us: u64::from(polls) * 10,
                max_poll_us,
                self_wakes,
                ..Default::default()
            }),
        }
    }

    fn session(tasks: Vec<Task>) -> SessionState {
        let mut s = SessionState::new(TargetDescription { backend: "sim".into(), name: "x".into() });
        s.tasks = tasks;
        s
    }

    #[test]
    fn a_long_poll_and_a_self_waking_task_are_warned_about_and_a_quiet_task_is_not() {
        let s = session(vec![
            task(1, 100, 25_000, 0, TaskState::Running),
            task(2, 100, 50, 90, TaskState::Running),
            task(3, 100, 50, 10, TaskState::Running),
            task(4, 5, 50, 5, TaskState::Running),
        ]);
        let texts: Vec<String> = warnings(&s).into_iter().map(|w| w.text).collect();
        assert_eq!(
            texts,
            [
                "t1 #1: a poll took 25.0 ms; every other task waited",
                "t2 #2: woke itself after 90% of its polls (busy-waiting?)"
            ]
        );
    }

    #[test]
    fn every_column_sorts_and_reverses() {
        let tasks = [
            task(1, 30, 0, 0, TaskState::Running),
            task(2, 10, 0, 0, TaskState::Finished(TaskOutcome::Completed)),
            task(3, 20, 0, 0, TaskState::Running),
        ];
        let seen = SeenTimes::new();
        let ids = |by: SortBy, reverse: bool| {
            let mut rows: Vec<&Task> = tasks.iter().collect();
            sort(&mut rows, by, reverse, &seen, 0);
            rows.iter().map(|t| t.id).collect::<Vec<_>>()
        };
        assert_eq!(ids(SortBy::State, false), [1, 3, 2]);
        assert_eq!(ids(SortBy::Polls, false), [1, 3, 2]);
        assert_eq!(ids(SortBy::Polls, true), [2, 3, 1]);
        assert_eq!(ids(SortBy::Storage, false), [3, 2, 1]);
        assert_eq!(ids(SortBy::Id, true), [3, 2, 1]);
        let mut by = SortBy::State;
        for _ in 0..7 {
            by = by.next();
        }
        assert_eq!(by, SortBy::State, "the cycle visits every column once");
    }

    #[test]
    fn idle_time_grows_while_a_task_is_not_polled_and_finished_tasks_expire() {
        let mut s = session(vec![task(1, 3, 0, 0, TaskState::Running)]);
        s.tasks[0].stats.as_mut().unwrap().idle_us = 500;
        let mut seen = SeenTimes::new();
        note_changes(&s, &mut seen, 1_000);
        assert_eq!(idle_us(&s.tasks[0], &seen, 1_000), Some(500));
        assert_eq!(idle_us(&s.tasks[0], &seen, 3_000), Some(2_000_500));
        s.tasks[0].state = TaskState::Finished(TaskOutcome::Completed);
        note_changes(&s, &mut seen, 4_000);
        assert!(!expired(&s.tasks[0], &seen, 4_000 + FINISHED_KEPT_MS));
        assert!(expired(&s.tasks[0], &seen, 4_001 + FINISHED_KEPT_MS));
    }
}
