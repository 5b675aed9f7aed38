//! How a run ends, as a script and `cargo run` see it: the exit code `asyncmon run` and `asyncmon
//! qemu` return, read off the session alone (pure, so the monitor and the plain mode agree).
//!
//! - the firmware's own exit code when it exited (0 when `main` finished; 130 after
//!   KeyboardInterrupt, as a shell reports an interrupted program);
//! - 130 after a stop the firmware acknowledged (KeyboardInterrupt, or an embassy stop hook that
//!   ran) on a board that runs on afterwards;
//! - 101 after a panic, as Rust's own test harness and `cargo run` report one;
//! - 1 after an unretrieved failure, when asked (`--fail-on-unretrieved`);
//! - 1 when the target could not be reached before the firmware ever spoke (no probe, say).

use asyncmon_protocol::host::{FailurePath, SessionState, TargetState};

/// The exit code after KeyboardInterrupt (128 + SIGINT).
pub const INTERRUPTED: i32 = 130;
/// The exit code after a panic.
pub const PANICKED: i32 = 101;
/// The exit code after an unretrieved failure, or a target that could not be reached.
pub const FAILED: i32 = 1;

/// Why a run is over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    /// The firmware exited with this code (`None`: killed), described in words.
    Exited(Option<i32>, String),
    /// A stop was acknowledged and the firmware runs no more of its tasks.
    Stopped,
    /// The firmware panicked.
    Panicked,
    /// A failure nobody retrieved (only with `--fail-on-unretrieved`).
    Unretrieved,
    /// The target could not be reached before the firmware ever spoke.
    Unreachable(String),
}

impl RunEnd {
    /// The process's exit code.
    pub fn code(&self) -> i32 {
        match self {
            RunEnd::Exited(code, _) => code.unwrap_or(FAILED),
            RunEnd::Stopped => INTERRUPTED,
            RunEnd::Panicked => PANICKED,
            RunEnd::Unretrieved | RunEnd::Unreachable(_) => FAILED,
        }
    }

    /// In words, for the last line a runner prints.
    pub fn words(&self) -> String {
        match self {
            // The description names the code already ("KeyboardInterrupt (exit code 130)").
            RunEnd::Exited(_, description) => format!("the firmware exited: {description}"),
            RunEnd::Stopped => "the firmware was stopped (KeyboardInterrupt; exit code 130)".into(),
            RunEnd::Panicked => "the firmware panicked (exit code 101)".into(),
            RunEnd::Unretrieved => {
                "a failure was never retrieved (--fail-on-unretrieved; exit code 1)".into()
            }
            RunEnd::Unreachable(reason) => format!("{reason} (exit code 1)"),
        }
    }
}

/// Whether the run is over, and why. `waits_for_target`: a target that cannot be reached is
/// waited for (`--wait-for-probe`) rather than the end of the run.
pub fn run_end(session: &SessionState, fail_on_unretrieved: bool, waits_for_target: bool) -> Option<RunEnd> {
    if let TargetState::Exited { code, description } = &session.target_state {
        return Some(RunEnd::Exited(*code, description.clone()));
    }
    if session.failures.iter().any(|f| f.epoch == session.epoch && f.path == FailurePath::Panic) {
        return Some(RunEnd::Panicked);
    }
    // A KeyboardInterrupt's report, or an embassy firmware's stop hook that ran (its words say so).
    let stop_acknowledged = session.interrupt.is_some()
        || session.stop_handled.as_ref().is_some_and(|words| words.contains("stop hook ran"));
    if stop_acknowledged {
        return Some(RunEnd::Stopped);
    }
    if fail_on_unretrieved && session.failures.iter().any(|f| f.path == FailurePath::Unretrieved) {
        return Some(RunEnd::Unretrieved);
    }
    match &session.target_state {
        TargetState::Failed { reason } if session.firmware.is_none() && !waits_for_target => {
            Some(RunEnd::Unreachable(reason.clone()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use asyncmon_protocol::host::{Failure, InterruptReport, SessionEvent, TargetDescription};

    fn session() -> SessionState {
        SessionState::new(TargetDescription { backend: "probe-rs".into(), name: "nRF52840_xxAA".into() })
    }

    fn failure(path: FailurePath) -> Failure {
        Failure { seq: 1, epoch: 0, at_ms: 5, message: "m".into(), exception: None, task: None, path }
    }

    #[test]
    fn a_running_firmware_has_not_ended_and_its_exit_code_is_the_runs() {
        let mut s = session();
        assert_eq!(run_end(&s, false, false), None);
        s.apply(&SessionEvent::TargetState(TargetState::Exited {
            code: Some(0),
            description: "exit 0".into(),
        }));
        assert_eq!(run_end(&s, false, false).unwrap().code(), 0);
        s.apply(&SessionEvent::TargetState(TargetState::Exited { code: None, description: "killed".into() }));
        assert_eq!(run_end(&s, false, false).unwrap().code(), FAILED);
    }

    #[test]
    fn a_panic_is_101_and_an_acknowledged_stop_130() {
        let mut s = session();
        s.apply(&SessionEvent::Failure(failure(FailurePath::Panic)));
        assert_eq!(run_end(&s, false, false), Some(RunEnd::Panicked));
        assert_eq!(RunEnd::Panicked.code(), 101);
        let mut s = session();
        s.apply(&SessionEvent::Interrupted(InterruptReport {
            request_id: 1,
            tasks: vec![],
            total: 0,
            hard_stop: false,
        }));
        assert_eq!(run_end(&s, false, false).map(|e| e.code()), Some(130));
    }

    #[test]
    fn an_unretrieved_failure_ends_the_run_only_when_asked() {
        let mut s = session();
        s.apply(&SessionEvent::Failure(failure(FailurePath::Unretrieved)));
        assert_eq!(run_end(&s, false, false), None);
        assert_eq!(run_end(&s, true, false).map(|e| e.code()), Some(1));
        // An awaited failure was handled by the firmware: never the end of a run.
        let mut s = session();
        s.apply(&SessionEvent::Failure(failure(FailurePath::Awaited)));
        assert_eq!(run_end(&s, true, false), None);
    }

    #[test]
    fn a_target_never_reached_ends_the_run_unless_it_is_waited_for() {
        let mut s = session();
        s.apply(&SessionEvent::TargetState(TargetState::Failed { reason: "no debug probe found".into() }));
        assert_eq!(run_end(&s, false, false), Some(RunEnd::Unreachable("no debug probe found".into())));
        assert_eq!(run_end(&s, false, true), None);
    }
}
