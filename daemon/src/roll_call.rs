//! Roll calls: after frames were lost, the host asks the firmware to name its running tasks again,
//! in the same session, so that a task whose end frame was lost stops showing as running and the
//! failures already shown stay where they are (a `Resync` would start a new session epoch).
//!
//! The firmware answers `RollCallStarted`, a spawn frame per running task, `RollCallDone { announced }`.
//! An answer is believed only when every spawn frame it announced arrived; otherwise (or when no
//! answer comes) the host asks again, at most once per [`RETRY_AFTER`].

use asyncmon_protocol::device::TaskId;
use std::time::{Duration, Instant};

/// The shortest time between two roll calls; also how long an unanswered one is waited for.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);
/// The most task ids one answer is allowed to name (an agent has far fewer slots).
const MAX_NAMED: usize = 4096;

/// Whether a roll call is wanted, asked, or being answered.
#[derive(Debug, Default)]
pub struct RollCall {
    /// Something was lost since the last complete answer.
    wanted: bool,
    /// When the host last asked; `None` once answered.
    unanswered_since: Option<Instant>,
    last_asked: Option<Instant>,
    /// The tasks named since `RollCallStarted`, while an answer is coming in.
    answer: Option<Vec<TaskId>>,
}

impl RollCall {
    /// Frames were lost, or referred to something never seen: the host's picture may be wrong.
    pub fn want(&mut self) {
        self.wanted = true;
    }

    /// Whether to ask the firmware for a roll call now; at most once per [`RETRY_AFTER`], and again
    /// when an earlier one was not answered in that time.
    pub fn take_request(&mut self, now: Instant) -> bool {
        let due = self.last_asked.is_none_or(|t| now.duration_since(t) >= RETRY_AFTER);
        if due && (self.wanted || self.unanswered_since.is_some()) {
            self.wanted = false;
            self.unanswered_since = Some(now);
            self.last_asked = Some(now);
            return true;
        }
        false
    }

    /// The firmware's answer starts.
    pub fn started(&mut self) {
        self.answer = Some(Vec::new());
    }

    /// A spawn frame arrived; returns whether it belongs to an answer (and so names a task that
    /// may already be known, rather than a new one).
    pub fn named(&mut self, id: TaskId) -> bool {
        match &mut self.answer {
            Some(named) => {
                if named.len() < MAX_NAMED {
                    named.push(id);
                }
                true
            }
            None => false,
        }
    }

    /// The answer ended having named `announced` tasks: the running tasks, when all of them
    /// arrived; `None` (and ask again) when some were lost or no start was seen.
    pub fn done(&mut self, announced: u32) -> Option<Vec<TaskId>> {
        let named = self.answer.take();
        match named {
            Some(named) if named.len() == announced as usize => {
                self.unanswered_since = None;
                Some(named)
            }
            _ => {
                self.wanted = true;
                None
            }
        }
    }

    /// A new session started: nothing is owed.
    pub fn reset(&mut self) {
        *self = RollCall { last_asked: self.last_asked, ..RollCall::default() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_complete_answer_names_the_running_tasks_and_settles_the_request() {
        let now = Instant::now();
        let mut roll = RollCall::default();
        assert!(!roll.take_request(now), "nothing lost, nothing asked");
        roll.want();
        assert!(roll.take_request(now));
        assert!(!roll.take_request(now), "asked once");
        roll.started();
        assert!(roll.named(0) && roll.named(3));
        assert_eq!(roll.done(2), Some(vec![0, 3]));
        assert!(!roll.named(4), "a spawn after the answer is a new task");
        assert!(!roll.take_request(now + RETRY_AFTER * 2), "answered: not asked again");
    }

    #[test]
    fn an_answer_with_lost_frames_is_not_believed_and_asked_again_later() {
        let now = Instant::now();
        let mut roll = RollCall::default();
        roll.want();
        assert!(roll.take_request(now));
        roll.started();
        roll.named(0);
        assert_eq!(roll.done(3), None, "two of three spawn frames were lost");
        assert!(!roll.take_request(now + RETRY_AFTER / 2), "not more than once per interval");
        assert!(roll.take_request(now + RETRY_AFTER));
    }

    #[test]
    fn an_unanswered_roll_call_is_asked_again() {
        let now = Instant::now();
        let mut roll = RollCall::default();
        roll.want();
        assert!(roll.take_request(now));
        assert!(roll.take_request(now + RETRY_AFTER), "the request or its answer was lost");
        assert_eq!(roll.done(0), None, "an end without a start is no answer");
    }
}
