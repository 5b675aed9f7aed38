//! The session model: a pure fold of [`SessionEvent`]s. The daemon keeps one, each client keeps its
//! own copy fed by the snapshot and the event stream, so both sides agree by construction.

use super::messages::*;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::string::String;
use std::vec::Vec;

/// How many failures a session keeps (oldest dropped first).
pub const MAX_FAILURES: usize = 1000;
/// How many finished or gone tasks a session keeps (oldest dropped first).
pub const MAX_FINISHED_TASKS: usize = 256;
/// How many log lines and problems a session keeps.
pub const MAX_LOG_LINES: usize = 500;
/// How many running tasks a session keeps. A firmware has at most a few hundred live tasks; past
/// this, the longest-running ones are dropped from the session (and counted in
/// [`SessionState::tasks_dropped`]), so that a firmware announcing tasks without end cannot grow
/// the daemon or every client's snapshot without a bound.
pub const MAX_RUNNING_TASKS: usize = 1024;

/// Everything known about one target's session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionState {
    /// The target the daemon owns.
    pub target: TargetDescription,
    /// The daemon's connection to it.
    pub target_state: TargetState,
    /// The current session epoch (0 before the first hello).
    pub epoch: u32,
    /// The firmware of the current epoch.
    pub firmware: Option<FirmwareInfo>,
    /// Tasks, in spawn order: running ones and the most recent finished ones.
    pub tasks: Vec<Task>,
    /// Failures, oldest first.
    pub failures: Vec<Failure>,
    /// The answer to the last stop request.
    pub interrupt: Option<InterruptReport>,
    /// Link counters.
    pub stats: LinkStats,
    /// Firmware output, oldest first.
    pub logs: VecDeque<LogLine>,
    /// Problems on the link, oldest first.
    pub problems: VecDeque<Problem>,
    /// Where the running tasks of the current epoch wait, as last read (a task that ended since has
    /// none).
    #[serde(default)]
    pub traces: AwaitTraces,
    /// The executor the firmware of the current epoch runs.
    #[serde(default)]
    pub executor: Executor,
    /// An embassy firmware's answer to the last stop request, in words.
    #[serde(default)]
    pub stop_handled: Option<String>,
    /// How much of the time the observed executor slept, as last sampled.
    #[serde(default)]
    pub executor_load: Option<ExecutorLoad>,
    /// How many tasks the session stopped keeping while they were still announced as running
    /// (past [`MAX_RUNNING_TASKS`]); 0 for any firmware that keeps within it.
    #[serde(default)]
    pub tasks_dropped: u64,
    /// What a snapshot left out to fit one host-link message, in words (see
    /// [`SessionState::fit_within`]); `None` when it is whole.
    #[serde(default)]
    pub trimmed: Option<String>,
}

impl SessionState {
    /// A session with nothing in it yet.
    pub fn new(target: TargetDescription) -> Self {
        SessionState {
            target,
            target_state: TargetState::Starting,
            epoch: 0,
            firmware: None,
            tasks: Vec::new(),
            failures: Vec::new(),
            interrupt: None,
            stats: LinkStats::default(),
            logs: VecDeque::new(),
            problems: VecDeque::new(),
            traces: AwaitTraces::default(),
            executor: Executor::Agent,
            stop_handled: None,
            executor_load: None,
            tasks_dropped: 0,
            trimmed: None,
        }
    }

    /// Where task `id` of the current epoch waits, as last read.
    pub fn trace(&self, id: TaskId) -> Option<&TaskTrace> {
        (self.traces.epoch == self.epoch).then(|| self.traces.task(id)).flatten()
    }

    /// Since when (milliseconds since the daemon started) task `id` has been waiting where its
    /// trace says: since the first read that found it there, or since its last poll, if the agent's
    /// statistics show one after that (a task in a loop comes back to the same `.await`).
    pub fn waiting_since(&self, id: TaskId) -> Option<u64> {
        let trace = self.trace(id)?;
        let last_poll = self
            .task(id)
            .and_then(|t| t.stats)
            .map(|s| s.sampled_at_ms.saturating_sub(u64::from(s.idle_us) / 1000));
        Some(trace.since_ms.max(last_poll.unwrap_or(0)))
    }

    /// The task `id` of the current epoch.
    pub fn task(&self, id: TaskId) -> Option<&Task> {
        self.tasks.iter().rev().find(|t| t.epoch == self.epoch && t.id == id)
    }

    /// The chain of spawners from `id` up to main, `id` first.
    pub fn spawn_chain(&self, epoch: u32, id: TaskId) -> Vec<&Task> {
        let mut chain = Vec::new();
        let mut next = Some(id);
        while let Some(id) = next {
            let Some(task) = self.tasks.iter().rev().find(|t| t.epoch == epoch && t.id == id) else {
                break;
            };
            if chain.iter().any(|t: &&Task| t.id == id) {
                break; // A malformed parent loop; show what we have.
            }
            chain.push(task);
            next = task.parent;
        }
        chain
    }

    /// Folds one event into the session.
    pub fn apply(&mut self, event: &SessionEvent) {
        match event {
            SessionEvent::TargetState(state) => {
                // A firmware that ended ended its tasks too, however their end frames were lost.
                // A firmware that halted (a panic) ended its tasks with it: none waits any more.
                let ended = match state {
                    TargetState::Exited { .. } => Some(TaskState::Gone),
                    TargetState::Halted { .. } => Some(TaskState::Halted),
                    _ => None,
                };
                if let Some(ended) = ended {
                    for task in self.tasks.iter_mut().filter(|t| t.state == TaskState::Running) {
                        task.state = ended;
                    }
                    self.traces.tasks.clear();
                }
                self.target_state = state.clone();
            }
            SessionEvent::SessionStarted { epoch, firmware } => {
                for task in &mut self.tasks {
                    task.state = TaskState::Gone;
                }
                self.epoch = *epoch;
                self.traces = AwaitTraces { epoch: *epoch, ..AwaitTraces::default() };
                self.executor = Executor::Agent;
                self.stop_handled = None;
                self.executor_load = None;
                self.firmware = Some(firmware.clone());
                self.interrupt = None;
                self.tasks_dropped = 0;
                self.trim_tasks();
            }
            SessionEvent::TaskSpawned(task) => {
                // An id given to a new task is no longer the old one's: that one cannot be live,
                // however its end frame was lost.
                let (epoch, id) = (task.epoch, task.id);
                let reused = |t: &&mut Task| t.epoch == epoch && t.id == id && t.state == TaskState::Running;
                if let Some(old) = self.tasks.iter_mut().find(reused) {
                    old.state = TaskState::Gone;
                }
                self.tasks.push(task.clone());
                self.drop_running_past_limit();
                self.trim_tasks();
            }
            SessionEvent::RollCall { running } => {
                let epoch = self.epoch;
                for task in
                    self.tasks.iter_mut().filter(|t| t.epoch == epoch && t.state == TaskState::Running)
                {
                    if !running.contains(&task.id) {
                        task.state = TaskState::Gone;
                    }
                }
            }
            SessionEvent::TaskFinished { id, outcome } => {
                let epoch = self.epoch;
                if let Some(task) = self.tasks.iter_mut().rev().find(|t| t.epoch == epoch && t.id == *id) {
                    task.state = TaskState::Finished(*outcome);
                }
                self.traces.tasks.retain(|t| t.task != *id);
                self.trim_tasks();
            }
            SessionEvent::Failure(failure) => {
                self.failures.push(failure.clone());
                if self.failures.len() > MAX_FAILURES {
                    self.failures.remove(0);
                }
            }
            SessionEvent::Interrupted(report) => {
                // The report says how every task it names ended: a task whose own end frame has
                // not come (or never will, the firmware exiting) is not left running.
                let epoch = self.epoch;
                for ending in &report.tasks {
                    let task = self.tasks.iter_mut().rev().find(|t| t.epoch == epoch && t.id == ending.id);
                    if let Some(task) = task.filter(|t| t.state == TaskState::Running) {
                        task.state = TaskState::Finished(ending.outcome);
                    }
                }
                self.interrupt = Some(report.clone());
            }
            SessionEvent::Stats(stats) => self.stats = *stats,
            SessionEvent::Log(line) => push_bounded(&mut self.logs, line.clone()),
            SessionEvent::Problem(problem) => push_bounded(&mut self.problems, problem.clone()),
            SessionEvent::AwaitTraces(traces) => {
                if traces.epoch == self.epoch {
                    self.traces = traces.clone();
                }
            }
            SessionEvent::ExecutorObserved(executor) => self.executor = *executor,
            SessionEvent::ExecutorLoad(load) => self.executor_load = Some(*load),
            SessionEvent::StopHandled { hook_ran, hard, .. } => {
                self.stop_handled = Some(crate::host::wording::stop_handled_words(*hook_ran, *hard));
            }
            SessionEvent::TaskDeclared { id, at } => {
                let epoch = self.epoch;
                let task = self.tasks.iter_mut().rev().find(|t| t.epoch == epoch && t.id == *id);
                if let Some(task) = task.filter(|t| t.spawned_at.line == 0) {
                    task.spawned_at = at.clone();
                }
            }
            SessionEvent::TaskStats { id, stats } => {
                let epoch = self.epoch;
                if let Some(task) = self.tasks.iter_mut().rev().find(|t| t.epoch == epoch && t.id == *id) {
                    task.stats = Some(*stats);
                }
            }
            // A timeline's slices: for exporters and recordings, nothing a session shows.
            SessionEvent::Polls(_) => {}
        }
    }

    /// Past [`MAX_RUNNING_TASKS`], drops the longest-running tasks and counts them.
    fn drop_running_past_limit(&mut self) {
        let running = self.tasks.iter().filter(|t| t.state == TaskState::Running).count();
        let mut excess = running.saturating_sub(MAX_RUNNING_TASKS);
        if excess == 0 {
            return;
        }
        self.tasks_dropped += excess as u64;
        self.tasks.retain(|t| {
            if excess > 0 && t.state == TaskState::Running {
                excess -= 1;
                false
            } else {
                true
            }
        });
    }

    fn trim_tasks(&mut self) {
        let done = |t: &Task| t.state != TaskState::Running;
        let mut excess = self.tasks.iter().filter(|t| done(t)).count().saturating_sub(MAX_FINISHED_TASKS);
        if excess > 0 {
            self.tasks.retain(|t| {
                if excess > 0 && done(t) {
                    excess -= 1;
                    false
                } else {
                    true
                }
            });
        }
    }
}

fn push_bounded<T>(queue: &mut VecDeque<T>, item: T) {
    if queue.len() == MAX_LOG_LINES {
        queue.pop_front();
    }
    queue.push_back(item);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    fn task(epoch: u32, id: TaskId, parent: Option<TaskId>) -> Task {
        Task {
            epoch,
            id,
            name: std::format!("t{id}"),
            spawned_at: Location { file: "src/main.rs".to_string(), line: id, column: 1 },
            parent,
            state: TaskState::Running,
            storage_bytes: None,
            future_bytes: None,
            stats: None,
        }
    }

    fn session() -> SessionState {
        SessionState::new(TargetDescription { backend: "sim".into(), name: "demo".into() })
    }

    fn started(epoch: u32) -> SessionEvent {
        SessionEvent::SessionStarted {
            epoch,
            firmware: FirmwareInfo { name: "demo".into(), build_id: "1".into(), protocol_version: 1 },
        }
    }

    #[test]
    fn a_new_epoch_marks_earlier_tasks_gone_not_deleted() {
        let mut s = session();
        s.apply(&started(1));
        s.apply(&SessionEvent::TaskSpawned(task(1, 0, None)));
        s.apply(&started(2));
        s.apply(&SessionEvent::TaskSpawned(task(2, 0, None)));
        assert_eq!(s.tasks.len(), 2);
        assert_eq!(s.tasks[0].state, TaskState::Gone);
        assert_eq!(s.task(0).unwrap().epoch, 2);
    }

    #[test]
    fn tasks_still_running_when_the_firmware_exits_are_not_left_running() {
        let mut s = session();
        s.apply(&started(1));
        s.apply(&SessionEvent::TaskSpawned(task(1, 0, None)));
        s.apply(&SessionEvent::TaskSpawned(task(1, 1, None)));
        s.apply(&SessionEvent::TaskFinished { id: 1, outcome: TaskOutcome::Completed });
        s.apply(&SessionEvent::TargetState(TargetState::Exited {
            code: Some(1),
            description: "failed".into(),
        }));
        assert_eq!(s.tasks[0].state, TaskState::Gone, "its end frame never came");
        assert_eq!(s.tasks[1].state, TaskState::Finished(TaskOutcome::Completed), "a known end is kept");
    }

    #[test]
    fn a_roll_call_marks_running_tasks_it_did_not_name_gone_and_keeps_the_rest() {
        let mut s = session();
        s.apply(&started(1));
        for id in 0..4 {
            s.apply(&SessionEvent::TaskSpawned(task(1, id, None)));
        }
        s.apply(&SessionEvent::TaskFinished { id: 3, outcome: TaskOutcome::Completed });
        s.apply(&SessionEvent::RollCall { running: std::vec![0, 2] });
        let states: Vec<_> = s.tasks.iter().map(|t| t.state).collect();
        assert_eq!(
            states,
            [
                TaskState::Running,
                TaskState::Gone,
                TaskState::Running,
                TaskState::Finished(TaskOutcome::Completed)
            ]
        );
        assert_eq!(s.epoch, 1, "the same session");
    }

    #[test]
    fn finishing_a_task_only_touches_the_current_epoch() {
        let mut s = session();
        s.apply(&started(1));
        s.apply(&SessionEvent::TaskSpawned(task(1, 3, Some(0))));
        s.apply(&SessionEvent::TaskFinished { id: 3, outcome: TaskOutcome::Failed });
        assert_eq!(s.task(3).unwrap().state, TaskState::Finished(TaskOutcome::Failed));
    }

    #[test]
    fn a_stop_report_ends_the_tasks_it_names_that_still_run() {
        let mut s = session();
        s.apply(&started(1));
        for id in 0..3 {
            s.apply(&SessionEvent::TaskSpawned(task(1, id, None)));
        }
        s.apply(&SessionEvent::TaskFinished { id: 2, outcome: TaskOutcome::FailedDuringCleanup });
        let ending = |id, outcome| crate::host::TaskEndingReport { id, name: std::format!("t{id}"), outcome };
        s.apply(&SessionEvent::Interrupted(crate::host::InterruptReport {
            request_id: 1,
            tasks: std::vec![ending(0, TaskOutcome::Cancelled), ending(2, TaskOutcome::Cancelled),],
            total: 2,
            hard_stop: false,
        }));
        let states: std::vec::Vec<TaskState> = s.tasks.iter().map(|t| t.state).collect();
        assert_eq!(
            states,
            [
                TaskState::Finished(TaskOutcome::Cancelled),
                TaskState::Running,
                TaskState::Finished(TaskOutcome::FailedDuringCleanup),
            ],
            "named and running: ended as reported; not named: still running; already ended: kept"
        );
    }

    #[test]
    fn spawn_chain_walks_up_to_main() {
        let mut s = session();
        s.apply(&started(1));
        for t in [task(1, 0, None), task(1, 1, Some(0)), task(1, 2, Some(1))] {
            s.apply(&SessionEvent::TaskSpawned(t));
        }
        let ids: Vec<_> = s.spawn_chain(1, 2).iter().map(|t| t.id).collect();
        assert_eq!(ids, [2, 1, 0]);
    }

    #[test]
    fn finished_tasks_are_bounded_but_running_ones_stay() {
        let mut s = session();
        s.apply(&started(1));
        s.apply(&SessionEvent::TaskSpawned(task(1, 0, None)));
        for id in 1..=(MAX_FINISHED_TASKS as u32 + 10) {
            s.apply(&SessionEvent::TaskSpawned(task(1, id, Some(0))));
            s.apply(&SessionEvent::TaskFinished { id, outcome: TaskOutcome::Completed });
        }
        assert!(s.task(0).is_some(), "main is still running and must stay");
        assert_eq!(s.tasks.len(), MAX_FINISHED_TASKS + 1);
    }

    #[test]
    fn a_flood_of_tasks_that_never_end_keeps_the_newest_and_counts_the_rest() {
        let mut s = session();
        s.apply(&started(1));
        let announced = MAX_RUNNING_TASKS as u32 + 5_000;
        for id in 0..announced {
            s.apply(&SessionEvent::TaskSpawned(task(1, id, None)));
        }
        assert_eq!(s.tasks.len(), MAX_RUNNING_TASKS);
        assert_eq!(s.tasks_dropped, 5_000);
        assert!(s.task(announced - 1).is_some() && s.task(0).is_none(), "the newest are kept");
        s.apply(&started(2));
        assert_eq!(s.tasks_dropped, 0, "a new session starts counting again");
    }

    #[test]
    fn a_task_id_given_to_a_new_task_ends_the_old_one() {
        let mut s = session();
        s.apply(&started(1));
        s.apply(&SessionEvent::TaskSpawned(task(1, 4, None)));
        s.apply(&SessionEvent::TaskSpawned(task(1, 4, None)));
        let states: Vec<_> = s.tasks.iter().map(|t| t.state).collect();
        assert_eq!(states, [TaskState::Gone, TaskState::Running], "its end frame was lost");
        assert_eq!(s.tasks_dropped, 0);
    }

    fn traces(epoch: u32, tasks: &[TaskId], since_ms: u64) -> SessionEvent {
        let frame = AwaitFrame {
            depth: 0,
            function: "app::run".into(),
            location: Some(Location { file: "src/main.rs".into(), line: 9, column: 0 }),
            state: FrameState::Awaiting,
        };
        SessionEvent::AwaitTraces(AwaitTraces {
            epoch,
            at_ms: 5_000,
            tasks: tasks
                .iter()
                .map(|&task| TaskTrace { task, frames: std::vec![frame.clone()], since_ms })
                .collect(),
            unavailable: None,
        })
    }

    #[test]
    fn traces_follow_the_running_tasks_and_the_epoch() {
        let mut s = session();
        s.apply(&started(1));
        s.apply(&SessionEvent::TaskSpawned(task(1, 0, None)));
        s.apply(&SessionEvent::TaskSpawned(task(1, 1, Some(0))));
        s.apply(&traces(1, &[0, 1], 1_000));
        assert!(s.trace(0).is_some() && s.trace(1).is_some());
        s.apply(&SessionEvent::TaskFinished { id: 1, outcome: TaskOutcome::Completed });
        assert!(s.trace(1).is_none(), "a task that ended waits nowhere");
        s.apply(&traces(0, &[0], 1_000));
        assert!(s.trace(0).is_some(), "traces of another epoch are not taken");
        s.apply(&started(2));
        assert!(s.trace(0).is_none(), "a new epoch's tasks have no traces yet");
    }

    #[test]
    fn a_task_waits_since_its_last_poll_when_that_came_after_the_trace_was_first_seen() {
        let mut s = session();
        s.apply(&started(1));
        s.apply(&SessionEvent::TaskSpawned(task(1, 1, Some(0))));
        s.apply(&traces(1, &[1], 1_000));
        assert_eq!(s.waiting_since(1), Some(1_000));
        let stats = PollStats { polls: 9, idle_us: 200_000, sampled_at_ms: 4_000, ..PollStats::default() };
        s.apply(&SessionEvent::TaskStats { id: 1, stats });
        assert_eq!(s.waiting_since(1), Some(3_800), "polled at 3.8 s, back at the same await");
    }
}
