//! The monitor's model: the session as the daemon reports it, plus what the user is looking at.
//! Fed only by host-link messages and actions; rendering reads it and never changes it.

use super::input::Action;
use asyncmon_protocol::host::{ServerMessage, SessionState, TargetDescription};

/// Which pane has the selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    /// The task table.
    Tasks,
    /// The failure list.
    Failures,
}

/// The connection to the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Connected and subscribed.
    Connected,
    /// The daemon went away; the reason says why.
    Lost(String),
}

/// What the monitor shows.
#[derive(Debug, Clone)]
pub struct MonitorState {
    /// The session, as the daemon reports it.
    pub session: SessionState,
    /// The connection to the daemon.
    pub connection: Connection,
    /// Where clients connect (shown so `asyncmon stop --socket` can be used from elsewhere).
    pub socket: String,
    /// The pane with the selection.
    pub pane: Pane,
    /// The selected task (index into the shown rows).
    pub selected_task: usize,
    /// The selected failure (index into `session.failures`).
    pub selected_failure: usize,
    /// The stop confirmation is open.
    pub confirm_stop: bool,
    /// A stop request was sent (its id).
    pub stop_sent: Option<u32>,
    /// A short message for the status line (a refused request, a missed-events notice).
    pub notice: Option<String>,
    /// Frames per second over the last stats interval.
    pub frames_per_sec: f64,
    last_frames: Option<(u64, u64)>,
}

impl MonitorState {
    /// A monitor with nothing received yet.
    pub fn new(target: TargetDescription, socket: String) -> Self {
        MonitorState {
            session: SessionState::new(target),
            connection: Connection::Connected,
            socket,
            pane: Pane::Failures,
            selected_task: 0,
            selected_failure: 0,
            confirm_stop: false,
            stop_sent: None,
            notice: None,
            frames_per_sec: 0.0,
            last_frames: None,
        }
    }

    /// Folds a message from the daemon in; `now_ms` is the monitor's clock, for rates.
    pub fn on_message(&mut self, msg: ServerMessage, now_ms: u64) {
        let follow =
            self.session.failures.is_empty() || self.selected_failure + 1 == self.session.failures.len();
        match msg {
            ServerMessage::Snapshot(session) => self.session = *session,
            ServerMessage::Event(event) => self.session.apply(&event),
            ServerMessage::Missed { events } => {
                self.notice =
                    Some(format!("the monitor fell behind and missed {events} events; resynchronised"))
            }
            ServerMessage::StopSent { request_id } => self.stop_sent = Some(request_id),
            ServerMessage::Refused { reason } => self.notice = Some(reason),
            // The monitor subscribes to one target; tagged messages only follow `SubscribeAll`.
            ServerMessage::Welcome { .. }
            | ServerMessage::TargetSnapshot { .. }
            | ServerMessage::TargetEvent { .. } => {}
        }
        let frames = self.session.stats.frames;
        match self.last_frames {
            Some((at, before)) if now_ms >= at + 1000 => {
                self.frames_per_sec = (frames - before.min(frames)) as f64 * 1000.0 / (now_ms - at) as f64;
                self.last_frames = Some((now_ms, frames));
            }
            None => self.last_frames = Some((now_ms, frames)),
            _ => {}
        }
        // Follow the newest failure while the user is on the last one.
        if follow && !self.session.failures.is_empty() {
            self.selected_failure = self.session.failures.len() - 1;
        }
        self.selected_failure = self.selected_failure.min(self.session.failures.len().saturating_sub(1));
        self.selected_task = self.selected_task.min(self.session.tasks.len().saturating_sub(1));
    }

    /// The daemon connection ended.
    pub fn on_disconnect(&mut self, reason: String) {
        self.connection = Connection::Lost(reason);
    }

    /// Applies a user action; returns `true` when a stop request should be sent.
    pub fn on_action(&mut self, action: Action) -> bool {
        if self.confirm_stop {
            match action {
                Action::Confirm | Action::Stop => {
                    self.confirm_stop = false;
                    return true;
                }
                Action::Cancel => self.confirm_stop = false,
                _ => {}
            }
            return false;
        }
        match action {
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            Action::NextPane => {
                self.pane = match self.pane {
                    Pane::Tasks => Pane::Failures,
                    Pane::Failures => Pane::Tasks,
                }
            }
            Action::Stop => self.confirm_stop = true,
            Action::Quit | Action::Confirm | Action::Cancel => {}
        }
        false
    }

    fn move_selection(&mut self, by: isize) {
        let (selected, len) = match self.pane {
            Pane::Tasks => (&mut self.selected_task, self.session.tasks.len()),
            Pane::Failures => (&mut self.selected_failure, self.session.failures.len()),
        };
        *selected = selected.saturating_add_signed(by).min(len.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> MonitorState {
        MonitorState::new(TargetDescription { backend: "sim".into(), name: "demo".into() }, "/tmp/s".into())
    }

    #[test]
    fn stop_needs_a_confirmation_and_can_be_cancelled() {
        let mut s = state();
        assert!(!s.on_action(Action::Stop));
        assert!(s.confirm_stop);
        assert!(!s.on_action(Action::Cancel));
        assert!(!s.confirm_stop);
        s.on_action(Action::Stop);
        assert!(s.on_action(Action::Confirm), "confirming sends the stop");
    }

    #[test]
    fn the_selection_stays_inside_the_list() {
        let mut s = state();
        s.on_action(Action::Down);
        s.on_action(Action::Up);
        assert_eq!(s.selected_failure, 0);
    }
}
