//! Shared helpers of the end-to-end tests: start a daemon on a firmware, connect a client, wait
//! for what the session should come to.

#![allow(dead_code)]

pub mod boards;
pub mod collector;
pub mod demo_session;
pub mod shape_traces;

use asyncmon_daemon::backend::sim::SimConfig;
use asyncmon_daemon::client::Client;
use asyncmon_daemon::daemon::{self, DaemonConfig, RunningDaemon, TargetConfig};
use asyncmon_daemon::export::otlp::OtlpConfig;
use asyncmon_protocol::host::{ClientRequest, ServerMessage, SessionEvent, SessionState};
use std::time::Duration;

/// A daemon on the firmware binary with `args`, and a subscribed client.
pub struct Harness {
    pub daemon: RunningDaemon,
    pub client: Client,
    pub session: SessionState,
    pub events: Vec<SessionEvent>,
    _dir: tempfile::TempDir,
}

pub fn firmware() -> &'static str {
    env!("CARGO_BIN_EXE_asyncmon-demo-firmware")
}

impl Harness {
    pub async fn start(args: &[&str], attach_timeout: Duration) -> Harness {
        let mut sim = SimConfig::new(firmware(), args.iter().map(|s| s.to_string()).collect());
        sim.attach_timeout = attach_timeout;
        Harness::serve(TargetConfig::Sim(sim), None).await
    }

    /// A daemon on `target`, recording to `record`, and a subscribed client.
    pub async fn serve(target: TargetConfig, record: Option<std::path::PathBuf>) -> Harness {
        Harness::serve_with(vec![target], record, None).await
    }

    /// A daemon on `targets` (a client subscribed to the first), recording the first to `record`
    /// and exporting to `otlp`.
    pub async fn serve_with(
        targets: Vec<TargetConfig>,
        record: Option<std::path::PathBuf>,
        otlp: Option<OtlpConfig>,
    ) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let daemon = daemon::start(DaemonConfig {
            socket: dir.path().join("d.sock"),
            targets,
            record,
            otlp,
            perfetto: None,
        })
        .expect("daemon starts");
        let mut client = Client::connect(&daemon.socket, "e2e test").await.expect("client connects");
        client.request(&ClientRequest::Subscribe).await.unwrap();
        let session = match client.recv().await.unwrap() {
            Some(ServerMessage::Snapshot(s)) => *s,
            other => panic!("expected a snapshot, got {other:?}"),
        };
        Harness { daemon, client, session, events: Vec::new(), _dir: dir }
    }

    /// Reads messages until `done(session)` holds; panics with the session after `timeout`.
    pub async fn until(&mut self, what: &str, timeout: Duration, done: impl Fn(&SessionState) -> bool) {
        let deadline = tokio::time::Instant::now() + timeout;
        while !done(&self.session) {
            if self.event_before(deadline, what).await.is_none() {
                panic!("timed out waiting for {what}; session: {:#?}", self.session);
            }
        }
    }

    /// The next event (folded into the session); panics after `timeout`.
    pub async fn next_event(&mut self, timeout: Duration) -> SessionEvent {
        let deadline = tokio::time::Instant::now() + timeout;
        match self.event_before(deadline, "an event").await {
            Some(event) => event,
            None => panic!("no event within {timeout:?}"),
        }
    }

    /// The next event, folded into the session and kept; `None` at `deadline`.
    async fn event_before(&mut self, deadline: tokio::time::Instant, what: &str) -> Option<SessionEvent> {
        loop {
            match tokio::time::timeout_at(deadline, self.client.recv()).await {
                Ok(Ok(Some(ServerMessage::Event(event)))) => {
                    self.session.apply(&event);
                    self.events.push(event.clone());
                    return Some(event);
                }
                Ok(Ok(Some(ServerMessage::Snapshot(s)))) => self.session = *s,
                Ok(Ok(Some(_))) => {}
                Ok(other) => panic!("connection ended while waiting for {what}: {other:?}"),
                Err(_) => return None,
            }
        }
    }

    /// Reads messages until the daemon refuses a request; returns its reason.
    #[allow(dead_code)] // Not every test binary asks for what can be refused.
    pub async fn refusal(&mut self, timeout: Duration) -> String {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.client.recv()).await {
                Ok(Ok(Some(ServerMessage::Refused { reason }))) => return reason,
                Ok(Ok(Some(ServerMessage::Event(event)))) => self.session.apply(&event),
                Ok(Ok(Some(_))) => {}
                other => panic!("no refusal came: {other:?}"),
            }
        }
    }
}

/// The demo firmware running on its own (as after a daemon that started it went away), and the
/// target a daemon attaches to it with (`asyncmond sim --pid`).
pub fn running_demo() -> (std::process::Child, TargetConfig) {
    use std::process::{Command, Stdio};
    let firmware =
        Command::new(firmware()).arg("demo").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let mut sim = SimConfig::new(format!("/proc/{}/exe", firmware.id()), Vec::new());
    sim.attach_to = Some(firmware.id());
    (firmware, TargetConfig::Sim(sim))
}

/// This test process's children for which `wanted(pid, command name)` holds.
pub fn children(wanted: impl Fn(u32, &str) -> bool) -> Vec<u32> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // "pid (comm) state ppid ...": the name may hold spaces and parentheses.
            let Some((head, rest)) = stat.rsplit_once(')') else { return false };
            let comm = head.split_once('(').map_or("", |(_, comm)| comm);
            rest.split_whitespace().nth(1) == Some(&me) && wanted(pid, comm)
        })
        .collect()
}
