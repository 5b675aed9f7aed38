//! The `asyncmon/session` notification: the session in the shape the editor's views need.

use asyncmon_protocol::host::wording::interrupt_summary;
use asyncmon_protocol::host::{SessionState, TargetState, TaskOutcome, TaskState};
use serde::{Deserialize, Serialize};

/// The method name of the session notification.
pub const SESSION_NOTIFICATION: &str = "asyncmon/session";
/// The method name of the log notification.
pub const LOG_NOTIFICATION: &str = "asyncmon/logs";

/// The `asyncmon/logs` notification: the firmware's log lines (text and decoded defmt) since the
/// last one, formatted for an output channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogLines {
    /// The lines, oldest first.
    pub lines: Vec<String>,
    /// Lines dropped because the editor took them too slowly.
    pub dropped: u64,
}

/// A log line as an output channel shows it: time, level, text, source line.
pub fn log_text(line: &asyncmon_protocol::host::LogLine) -> String {
    let mut text = format!("{:>8.3}s ", line.at_ms as f64 / 1000.0);
    if let Some(level) = line.level {
        text += &format!("{:<5} ", level.as_str().to_uppercase());
    }
    text += &line.text;
    if let Some(at) = &line.location {
        text += &format!("  ({at})");
    }
    text
}

/// A task, for the editor's task view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskSummary {
    /// Its id in the epoch.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// `running`, `completed`, `failed`, `cancelled`, `failedDuringCleanup`, `dropped` or `gone`.
    pub state: String,
    /// Failures of this task so far.
    pub failures: u32,
}

/// The session, for the editor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    /// A daemon is connected.
    pub connected: bool,
    /// The target, in words (`sim: target/debug/app`).
    pub target: String,
    /// `starting`, `waiting`, `attached`, `exited`, `failed`, or `disconnected`.
    pub state: String,
    /// The state in words (the exit, the failure reason).
    pub state_text: String,
    /// The session epoch.
    pub epoch: u32,
    /// The firmware's name, once it said hello.
    pub firmware: Option<String>,
    /// Failures in this epoch.
    pub failures: u32,
    /// The tasks of this epoch.
    pub tasks: Vec<TaskSummary>,
    /// The answer to a stop request: `KeyboardInterrupt` and how each task ended.
    pub interrupt: Option<String>,
}

impl SessionSummary {
    /// The summary of `session`; `connected`: whether the daemon is there.
    pub fn of(session: &SessionState, connected: bool) -> SessionSummary {
        let (state, state_text) = match (&session.target_state, connected) {
            (_, false) => ("disconnected", "no asyncmond connected".to_string()),
            (TargetState::Starting, _) => ("starting", "starting".to_string()),
            (TargetState::WaitingForControlBlock, _) => ("waiting", "waiting for RTT".to_string()),
            (TargetState::Attached, _) => ("attached", "attached".to_string()),
            (TargetState::Exited { description, .. }, _) => ("exited", description.clone()),
            (TargetState::Failed { reason }, _) => ("failed", reason.clone()),
            (TargetState::Halted { reason }, _) => ("halted", format!("halted: {reason}")),
        };
        let epoch = session.epoch;
        let failures_of = |id: u32| {
            session
                .failures
                .iter()
                .filter(|f| f.epoch == epoch && f.task.as_ref().is_some_and(|t| t.id == id))
                .count() as u32
        };
        SessionSummary {
            connected,
            target: session.target.to_string(),
            state: state.into(),
            state_text,
            epoch,
            firmware: session.firmware.as_ref().map(|f| f.name.clone()),
            failures: session.failures.iter().filter(|f| f.epoch == epoch).count() as u32,
            tasks: session
                .tasks
                .iter()
                .filter(|t| t.epoch == epoch)
                .map(|t| TaskSummary {
                    id: t.id,
                    name: t.name.clone(),
                    state: state_word(t.state).into(),
                    failures: failures_of(t.id),
                })
                .collect(),
            interrupt: session
                .stop_handled
                .clone()
                .or_else(|| session.interrupt.as_ref().map(interrupt_summary)),
        }
    }
}

fn state_word(state: TaskState) -> &'static str {
    match state {
        TaskState::Running => "running",
        TaskState::Finished(TaskOutcome::Completed) => "completed",
        TaskState::Finished(TaskOutcome::Failed) => "failed",
        TaskState::Finished(TaskOutcome::Cancelled) => "cancelled",
        TaskState::Finished(TaskOutcome::FailedDuringCleanup) => "failedDuringCleanup",
        TaskState::Finished(TaskOutcome::DroppedAtDeadline) => "dropped",
        TaskState::Gone => "gone",
        TaskState::Halted => "halted",
    }
}
