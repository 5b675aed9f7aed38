//! What the language server knows, shared between LSP requests, the daemon connection and the
//! publisher: the session (a fold of the daemon's messages), the diagnostics, the log lines not yet
//! sent, and the connection.

use super::diagnostics::Diagnostics;
use super::summary::log_text;
use asyncmon_protocol::host::{
    ClientRequest, ServerMessage, SessionEvent, SessionState, TargetDescription, TargetState,
};
use std::sync::Mutex;
use tokio::sync::mpsc::UnboundedSender;

/// The most log lines held for the next publication; older ones are dropped and counted.
pub const MAX_PENDING_LOG_LINES: usize = 2000;

/// The shared state.
pub struct Shared {
    /// The session, as the daemon's messages built it.
    pub session: SessionState,
    /// The failures as diagnostics.
    pub diagnostics: Diagnostics,
    /// The session summary changed since it was last published.
    pub summary_dirty: bool,
    /// Firmware log lines not yet sent to the editor.
    pub logs: Vec<String>,
    /// Lines dropped since the last publication because the editor fell behind.
    pub logs_dropped: u64,
    /// The connection to the daemon, while there is one.
    pub connection: Option<Connection>,
    /// Counts connections, so that a connection that ends late never clears a newer one.
    pub connections_made: u64,
    /// The await traces changed since the editor was last asked to refresh its inlay hints.
    pub traces_dirty: bool,
    /// The editor can be asked to refresh its inlay hints (`workspace/inlayHint/refresh`).
    pub inlay_refresh: bool,
}

/// A live connection to the daemon.
pub struct Connection {
    /// Its number (see [`Shared::connections_made`]).
    pub number: u64,
    /// Requests for the daemon.
    pub requests: UnboundedSender<ClientRequest>,
}

impl Shared {
    /// No daemon, no session, no workspace yet.
    pub fn new() -> Shared {
        let none = TargetDescription { backend: "none".into(), name: "no target".into() };
        Shared {
            session: SessionState::new(none),
            diagnostics: Diagnostics::default(),
            summary_dirty: true,
            logs: Vec::new(),
            logs_dropped: 0,
            connection: None,
            connections_made: 0,
            traces_dirty: false,
            inlay_refresh: false,
        }
    }

    /// Whether a daemon is connected.
    pub fn connected(&self) -> bool {
        self.connection.is_some()
    }

    /// Whether the firmware runs (or is being started): a session that has ended is no reason to
    /// refuse a new one.
    pub fn firmware_running(&self) -> bool {
        self.connected()
            && matches!(
                self.session.target_state,
                TargetState::Starting | TargetState::WaitingForControlBlock | TargetState::Attached
            )
    }

    /// Records a new connection and returns its number.
    pub fn connect(&mut self, requests: UnboundedSender<ClientRequest>) -> u64 {
        self.connections_made += 1;
        let number = self.connections_made;
        self.connection = Some(Connection { number, requests });
        self.summary_dirty = true;
        number
    }

    /// Forgets connection `number` if it is still the current one.
    pub fn disconnect(&mut self, number: u64) {
        if self.connection.as_ref().is_some_and(|c| c.number == number) {
            self.connection = None;
            self.summary_dirty = true;
        }
    }

    /// Folds a daemon message in.
    pub fn fold(&mut self, message: ServerMessage) {
        match message {
            ServerMessage::Snapshot(session) => {
                self.session = *session;
                self.diagnostics.reset_to(&self.session);
                self.traces_dirty = true;
            }
            ServerMessage::Event(event) => {
                self.session.apply(&event);
                self.traces_dirty |= matches!(
                    event,
                    SessionEvent::AwaitTraces(_)
                        | SessionEvent::TaskFinished { .. }
                        | SessionEvent::SessionStarted { .. }
                        | SessionEvent::TargetState(_)
                );
                self.diagnostics.apply(&self.session, &event);
                if let SessionEvent::Log(line) = &event {
                    if self.logs.len() == MAX_PENDING_LOG_LINES {
                        self.logs.remove(0);
                        self.logs_dropped += 1;
                    }
                    self.logs.push(log_text(line));
                }
            }
            _ => return,
        }
        self.summary_dirty = true;
    }
}

/// Locks `shared`, whatever a panicking holder left.
pub fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_that_ends_late_never_clears_a_newer_one() {
        let mut shared = Shared::new();
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let old = shared.connect(tx.clone());
        let new = shared.connect(tx);
        shared.disconnect(old);
        assert!(shared.connected(), "the newer connection stays");
        shared.disconnect(new);
        assert!(!shared.connected());
    }

    #[test]
    fn an_ended_session_is_not_running() {
        let mut shared = Shared::new();
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        shared.connect(tx);
        shared.fold(ServerMessage::Event(SessionEvent::TargetState(TargetState::Attached)));
        assert!(shared.firmware_running());
        shared.fold(ServerMessage::Event(SessionEvent::TargetState(TargetState::Exited {
            code: Some(130),
            description: "KeyboardInterrupt (exit code 130)".into(),
        })));
        assert!(!shared.firmware_running());
    }
}
