//! Fitting a session into one host-link message. Every part of a session is bounded (tasks,
//! failures, log lines, traces), but the bounds multiply: a firmware that fills each of them with
//! the longest strings it may send could make a snapshot larger than [`super::MAX_HOST_FRAME`], and
//! a snapshot that cannot be sent locks every new client out. [`SessionState::fit_within`] leaves
//! out the least useful parts first, oldest first, and says in [`SessionState::trimmed`] what it
//! left out; the events that follow the snapshot are complete.

use super::session::SessionState;
use super::{encode, HostLinkError, TaskState};
use std::format;
use std::string::String;
use std::vec::Vec;

/// What a snapshot left out, by kind.
#[derive(Debug, Default)]
struct LeftOut {
    traces: usize,
    logs: usize,
    problems: usize,
    ended_tasks: usize,
    failures: usize,
    running_tasks: usize,
}

impl LeftOut {
    fn words(&self) -> String {
        let parts: Vec<String> = [
            (self.traces, "await traces"),
            (self.logs, "log lines"),
            (self.problems, "link problems"),
            (self.ended_tasks, "ended tasks"),
            (self.failures, "failures"),
            (self.running_tasks, "running tasks"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("the oldest {n} {what}"))
        .collect();
        format!("this snapshot left out {} to fit one message", parts.join(", "))
    }
}

/// Removes the older half (at least one) of `items`; how many it removed.
fn drop_older_half<T>(items: &mut Vec<T>) -> usize {
    let n = items.len().div_ceil(2);
    items.drain(..n);
    n
}

impl SessionState {
    /// Leaves out what it must for the session to encode in at most `max` bytes: the await traces
    /// (the next read brings them again), then the older half of the log lines, link problems,
    /// ended tasks, failures and running tasks, in that order, until it fits. Says what it left out
    /// in [`SessionState::trimmed`]. Fails only when even an empty session would not fit.
    pub fn fit_within(&mut self, max: usize) -> Result<(), HostLinkError> {
        let mut left_out = LeftOut::default();
        while encode(self)?.len() > max {
            if !self.traces.tasks.is_empty() {
                left_out.traces += self.traces.tasks.len();
                self.traces.tasks.clear();
            } else if !self.logs.is_empty() {
                let mut logs: Vec<_> = self.logs.drain(..).collect();
                left_out.logs += drop_older_half(&mut logs);
                self.logs.extend(logs);
            } else if !self.problems.is_empty() {
                let mut problems: Vec<_> = self.problems.drain(..).collect();
                left_out.problems += drop_older_half(&mut problems);
                self.problems.extend(problems);
            } else if self.tasks.iter().any(|t| t.state != TaskState::Running) {
                let before = self.tasks.len();
                self.tasks.retain(|t| t.state == TaskState::Running);
                left_out.ended_tasks += before - self.tasks.len();
            } else if !self.failures.is_empty() {
                left_out.failures += drop_older_half(&mut self.failures);
            } else if !self.tasks.is_empty() {
                let dropped = drop_older_half(&mut self.tasks);
                left_out.running_tasks += dropped;
                self.tasks_dropped += dropped as u64;
            } else {
                return Err(HostLinkError(format!("a session that does not fit {max} bytes even empty")));
            }
            self.trimmed = Some(left_out.words());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use std::string::String;

    fn failure(seq: u64, message: String) -> Failure {
        Failure {
            seq,
            epoch: 1,
            at_ms: seq,
            message,
            exception: None,
            task: None,
            path: FailurePath::Unretrieved,
        }
    }

    #[test]
    fn a_session_that_fits_is_sent_whole() {
        let mut s = SessionState::new(TargetDescription { backend: "sim".into(), name: "demo".into() });
        s.apply(&SessionEvent::Failure(failure(1, "boom".into())));
        let before = s.clone();
        s.fit_within(MAX_HOST_FRAME).unwrap();
        assert_eq!(s, before);
        assert_eq!(s.trimmed, None);
    }

    #[test]
    fn a_session_too_large_for_one_message_keeps_its_newest_failures_and_says_what_it_left_out() {
        let mut s = SessionState::new(TargetDescription { backend: "sim".into(), name: "demo".into() });
        // Every failure at its longest: 1000 × 40 KB is 40 MB, over the 16 MiB limit.
        for seq in 1..=MAX_FAILURES as u64 {
            s.apply(&SessionEvent::Failure(failure(seq, "x".repeat(40_000))));
        }
        let line = LogLine {
            at_ms: 1,
            source: LogSource::Daemon,
            text: "hello".into(),
            level: None,
            location: None,
            device_time: None,
        };
        s.apply(&SessionEvent::Log(line));
        s.fit_within(MAX_HOST_FRAME).unwrap();
        let size = encode(&s).unwrap().len();
        assert!(size <= MAX_HOST_FRAME, "{size} bytes");
        assert_eq!(s.failures.last().map(|f| f.seq), Some(MAX_FAILURES as u64), "the newest failure is kept");
        assert!(
            s.failures.len() >= MAX_FAILURES / 4,
            "only as much as needed is left out: {}",
            s.failures.len()
        );
        let said = s.trimmed.clone().unwrap();
        assert!(said.contains("log lines") && said.contains("failures"), "{said}");
        assert_eq!(s.logs.len(), 0);
    }
}
