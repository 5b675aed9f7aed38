//! The monitor's model: the session as the daemon reports it, plus what the user is looking at.
//! Fed only by host-link messages and actions; rendering reads it and never changes it.

use super::input::Action;
use super::tasks::{self, SeenTimes, SortBy};
use asyncmon_protocol::host::{
    Failure, LogLine, Problem, ServerMessage, SessionEvent, SessionState, TargetDescription, Task,
};

/// A stop the user confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopRequest {
    /// Stop: the firmware sees KeyboardInterrupt and its tasks clean up.
    Stop,
    /// Stop now: every task is dropped.
    Hard,
}

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

/// What is open over the panes and takes the keys: one at a time, as tokio-console's view has one
/// mode at a time rather than a flag per dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    /// Nothing: the keys move, sort, stop...
    None,
    /// The keys (any key closes it).
    Help,
    /// The selected task's or failure's whole detail.
    Detail,
    /// "Stop the firmware?" — `hard` when a stop is already under way (the second asks to drop
    /// every task at once).
    ConfirmStop {
        /// A hard stop.
        hard: bool,
    },
    /// The user is typing the filter: keys are text.
    Filter,
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
    /// What is open over the panes, if anything: at most one thing takes the keys at a time.
    pub overlay: Overlay,
    /// The filter text (case-insensitive; matches task names, failure types and messages).
    pub filter: String,
    /// The task pane shows the spawn tree instead of the table.
    pub tree: bool,
    /// A stop request was sent (its id).
    pub stop_sent: Option<u32>,
    /// A short message for the status line (a refused request, a missed-events notice).
    pub notice: Option<String>,
    /// Frames per second over the last stats interval.
    pub frames_per_sec: f64,
    /// Bytes per second over the same interval.
    pub bytes_per_sec: f64,
    /// (when, frames, bytes) at the start of the current rate interval.
    last_frames: Option<(u64, u64, u64)>,
    /// The column the task table is sorted by.
    pub sort: SortBy,
    /// The sort is reversed.
    pub sort_reverse: bool,
    /// The logs fill the screen instead of the task and failure panes.
    pub logs_view: bool,
    /// The monitor's clock (milliseconds since it started), for idle times and ageing.
    pub now_ms: u64,
    /// When each task's latest sample and its end were seen.
    pub seen: SeenTimes,
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
            overlay: Overlay::None,
            filter: String::new(),
            tree: false,
            stop_sent: None,
            notice: None,
            frames_per_sec: 0.0,
            bytes_per_sec: 0.0,
            last_frames: None,
            sort: SortBy::default(),
            sort_reverse: false,
            logs_view: false,
            now_ms: 0,
            seen: SeenTimes::new(),
        }
    }

    /// Folds a message from the daemon in; `now_ms` is the monitor's clock, for rates.
    pub fn on_message(&mut self, msg: ServerMessage, now_ms: u64) {
        let shown = self.failure_rows().len();
        let follow = shown == 0 || self.selected_failure + 1 == shown;
        match msg {
            ServerMessage::Snapshot(session) => self.session = *session,
            ServerMessage::Event(event) => {
                // A new session (a reset, a restart) has no stop on its way: the last one's
                // "sent" is over.
                if matches!(event, SessionEvent::SessionStarted { .. }) {
                    self.stop_sent = None;
                }
                self.session.apply(&event)
            }
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
        let bytes = self.session.stats.bytes;
        match self.last_frames {
            Some((at, frames_before, bytes_before)) if now_ms >= at + 1000 => {
                let seconds = (now_ms - at) as f64 / 1000.0;
                self.frames_per_sec = frames.saturating_sub(frames_before) as f64 / seconds;
                self.bytes_per_sec = bytes.saturating_sub(bytes_before) as f64 / seconds;
                self.last_frames = Some((now_ms, frames, bytes));
            }
            None => self.last_frames = Some((now_ms, frames, bytes)),
            _ => {}
        }
        self.now_ms = now_ms;
        tasks::note_changes(&self.session, &mut self.seen, now_ms);
        // Follow the newest failure while the user is on the last one.
        let shown = self.failure_rows().len();
        if follow && shown > 0 {
            self.selected_failure = shown - 1;
        }
        self.clamp_selection();
    }

    /// Time passed with nothing received (idle times grow, finished tasks age). Returns whether
    /// anything shown depends on the clock, so a redraw is worth it.
    pub fn on_tick(&mut self, now_ms: u64) -> bool {
        self.now_ms = now_ms;
        self.clamp_selection();
        self.session
            .tasks
            .iter()
            .any(|t| t.stats.is_some() || t.state != asyncmon_protocol::host::TaskState::Running)
    }

    /// The daemon connection ended.
    pub fn on_disconnect(&mut self, reason: String) {
        self.connection = Connection::Lost(reason);
    }

    /// Whether the user is typing the filter (keys are text, not commands).
    pub fn filtering(&self) -> bool {
        self.overlay == Overlay::Filter
    }

    /// Applies a user action; returns the stop request to send, if any.
    pub fn on_action(&mut self, action: Action) -> Option<StopRequest> {
        match (self.overlay, action) {
            (Overlay::Help, _) => self.overlay = Overlay::None,
            (Overlay::Detail, Action::Cancel | Action::Detail) => self.overlay = Overlay::None,
            (Overlay::ConfirmStop { hard }, Action::Confirm | Action::Detail | Action::Stop) => {
                self.overlay = Overlay::None;
                return Some(if hard { StopRequest::Hard } else { StopRequest::Stop });
            }
            (Overlay::ConfirmStop { .. }, Action::Cancel) => self.overlay = Overlay::None,
            (Overlay::ConfirmStop { .. }, _) => {}
            (Overlay::Filter, Action::EndFilter) => self.overlay = Overlay::None,
            (Overlay::Detail | Overlay::Filter | Overlay::None, action) => self.on_command(action),
        }
        self.clamp_selection();
        None
    }

    /// A key's command when no dialog takes it.
    fn on_command(&mut self, action: Action) {
        match action {
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            // Tab: tasks → failures → the logs full screen → tasks.
            Action::NextPane => match (self.logs_view, self.pane) {
                (true, _) => {
                    self.logs_view = false;
                    self.pane = Pane::Tasks;
                }
                (false, Pane::Tasks) => self.pane = Pane::Failures,
                (false, Pane::Failures) => self.logs_view = true,
            },
            // A second stop while the first is being carried out asks for a hard stop.
            Action::Stop => {
                let hard = self.stop_sent.is_some() && self.session.interrupt.is_none();
                self.overlay = Overlay::ConfirmStop { hard };
            }
            Action::Help => self.overlay = Overlay::Help,
            Action::StartFilter => self.overlay = Overlay::Filter,
            Action::ToggleTree => self.tree = !self.tree,
            Action::NextSort => self.sort = self.sort.next(),
            Action::ReverseSort => self.sort_reverse = !self.sort_reverse,
            Action::Detail => self.overlay = Overlay::Detail,
            Action::ToggleLogs => self.logs_view = !self.logs_view,
            // The keys give these only while the filter is typed (see `input::action`).
            Action::FilterChar(c) => self.filter.push(c),
            Action::FilterBackspace => {
                self.filter.pop();
            }
            Action::EndFilter | Action::Quit | Action::Confirm | Action::Cancel => {}
        }
    }

    /// Whether `text` passes the filter.
    pub fn matches(&self, text: &str) -> bool {
        self.filter.is_empty() || text.to_lowercase().contains(&self.filter.to_lowercase())
    }

    /// The tasks the table shows, filtered, in the chosen order (by default running ones by id,
    /// then finished ones, newest first); finished tasks leave after [`tasks::FINISHED_KEPT_MS`].
    pub fn task_rows(&self) -> Vec<&Task> {
        let mut rows: Vec<&Task> = self
            .session
            .tasks
            .iter()
            .filter(|t| self.matches(&t.name) && !tasks::expired(t, &self.seen, self.now_ms))
            .collect();
        tasks::sort(&mut rows, self.sort, self.sort_reverse, &self.seen, self.now_ms);
        rows
    }

    /// The log lines the logs show: filtered by text, oldest first.
    pub fn log_rows(&self) -> Vec<&LogLine> {
        self.session.logs.iter().filter(|l| self.matches(&l.text)).collect()
    }

    /// The link's problems, filtered by text.
    pub fn problem_rows(&self) -> Vec<&Problem> {
        self.session.problems.iter().filter(|p| self.matches(&p.text)).collect()
    }

    /// The failures the list shows, oldest first; filtered by task, type and message.
    pub fn failure_rows(&self) -> Vec<&Failure> {
        self.session
            .failures
            .iter()
            .filter(|f| {
                self.matches(f.task.as_ref().map_or("", |t| t.name.as_str()))
                    || f.exception
                        .as_ref()
                        .is_some_and(|e| self.matches(&e.type_name) || self.matches(&e.message))
            })
            .collect()
    }

    fn clamp_selection(&mut self) {
        self.selected_failure = self.selected_failure.min(self.failure_rows().len().saturating_sub(1));
        self.selected_task = self.selected_task.min(self.task_rows().len().saturating_sub(1));
    }

    fn move_selection(&mut self, by: isize) {
        let len = match self.pane {
            Pane::Tasks => self.task_rows().len(),
            Pane::Failures => self.failure_rows().len(),
        };
        let selected = match self.pane {
            Pane::Tasks => &mut self.selected_task,
            Pane::Failures => &mut self.selected_failure,
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
        assert_eq!(s.on_action(Action::Stop), None);
        assert_eq!(s.overlay, Overlay::ConfirmStop { hard: false });
        assert_eq!(s.on_action(Action::Cancel), None);
        assert_eq!(s.overlay, Overlay::None);
        s.on_action(Action::Stop);
        assert_eq!(s.on_action(Action::Confirm), Some(StopRequest::Stop), "confirming sends the stop");
        // The stop is under way: pressing s again offers a hard stop.
        s.on_message(ServerMessage::StopSent { request_id: 1 }, 0);
        s.on_action(Action::Stop);
        assert_eq!(s.overlay, Overlay::ConfirmStop { hard: true });
        assert_eq!(s.on_action(Action::Confirm), Some(StopRequest::Hard));
    }

    #[test]
    fn the_selection_stays_inside_the_list() {
        let mut s = state();
        s.on_action(Action::Down);
        s.on_action(Action::Up);
        assert_eq!(s.selected_failure, 0);
    }
}
