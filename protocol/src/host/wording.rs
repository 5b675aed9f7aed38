//! How the host side phrases a session's outcomes, once for every client (the monitor, `asyncmon
//! stop`, the language server and through it the editor): one home for the words, so the terminal
//! and the editor never say the same thing two ways.

use super::{InterruptReport, TaskOutcome};
use std::format;
use std::string::String;
use std::vec::Vec;

/// How a task ended during a shutdown, in a word or two.
pub fn ending_words(outcome: TaskOutcome) -> &'static str {
    match outcome {
        TaskOutcome::Completed => "completed",
        TaskOutcome::Failed => "failed",
        TaskOutcome::Cancelled => "cancelled",
        TaskOutcome::FailedDuringCleanup => "failed in cleanup",
        TaskOutcome::DroppedAtDeadline => "dropped at deadline",
    }
}

/// One line for a shutdown: the tasks grouped by how they ended
/// (`KeyboardInterrupt: cancelled main, blinky; completed telemetry (3 tasks)`).
pub fn interrupt_summary(report: &InterruptReport) -> String {
    let order = [
        TaskOutcome::Cancelled,
        TaskOutcome::Completed,
        TaskOutcome::FailedDuringCleanup,
        TaskOutcome::Failed,
        TaskOutcome::DroppedAtDeadline,
    ];
    let groups: Vec<String> = order
        .iter()
        .filter_map(|outcome| {
            let names: Vec<&str> =
                report.tasks.iter().filter(|t| t.outcome == *outcome).map(|t| t.name.as_str()).collect();
            (!names.is_empty()).then(|| format!("{} {}", ending_words(*outcome), names.join(", ")))
        })
        .collect();
    let hard = if report.hard_stop { " (hard stop)" } else { "" };
    format!("KeyboardInterrupt{hard}: {} ({} tasks)", groups.join("; "), report.total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::TaskEndingReport;
    use std::vec;

    fn ending(name: &str, outcome: TaskOutcome) -> TaskEndingReport {
        TaskEndingReport { id: 0, name: name.into(), outcome }
    }

    #[test]
    fn a_summary_groups_tasks_by_how_they_ended() {
        let report = InterruptReport {
            request_id: 1,
            tasks: vec![
                ending("main", TaskOutcome::Cancelled),
                ending("telemetry", TaskOutcome::Completed),
                ending("blinky", TaskOutcome::Cancelled),
                ending("uart", TaskOutcome::DroppedAtDeadline),
            ],
            total: 5,
            hard_stop: true,
        };
        assert_eq!(
            interrupt_summary(&report),
            "KeyboardInterrupt (hard stop): cancelled main, blinky; completed telemetry; dropped at deadline uart (5 tasks)"
        );
    }
}
