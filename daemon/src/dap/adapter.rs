//! The debug adapter proper: one loop that owns everything, fed by the editor's requests and the
//! daemon's messages (as tokio-console's aggregator is fed by its sources), answering with the
//! `dap` crate's types.

use super::config::DebugConfig;
use super::view::{self, task_of, thread_id};
use super::wire::{Incoming, Output};
use crate::client::{Client as DaemonClient, RelayEnd};
use crate::lsp::summary::log_text;
use crate::owned_daemon::{daemon_words, OwnedDaemon};
use asyncmon_protocol::host::wording::interrupt_summary;
use asyncmon_protocol::host::{
    ClientRequest, Executor, Failure, FailurePath, ServerMessage, SessionEvent, SessionState,
    TargetDescription, TargetState,
};
use dap::events::{
    Event, ExitedEventBody, OutputEventBody, StoppedEventBody, TerminatedEventBody, ThreadEventBody,
};
use dap::requests::{Command, Request};
use dap::responses::{
    ContinueResponse, ResponseBody, ScopesResponse, SetBreakpointsResponse, SetExceptionBreakpointsResponse,
    StackTraceResponse, ThreadsResponse, VariablesResponse,
};
use dap::types::{
    Breakpoint, Capabilities, ExceptionBreakpointsFilter, OutputEventCategory, StoppedEventReason,
    ThreadEventReason,
};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc::{channel, unbounded_channel, Receiver, Sender, UnboundedSender};

/// The name the adapter gives the daemon in its hello.
const CLIENT_NAME: &str = "asyncmond dap";

/// How many of the daemon's messages may wait for the adapter's loop. When the editor stops
/// reading, the loop stops writing and these fill; then the relay stops reading the daemon, which
/// drops and resynchronises for this client as for any slow one: the adapter's memory stays flat.
const DAEMON_BACKLOG: usize = 32;

/// How long the second press of Stop waits for the firmware to end before ending the daemon.
const HARD_STOP_TIMEOUT: Duration = Duration::from_secs(3);

/// How long Pause waits for the traces it asked for.
const FRESH_TRACES_TIMEOUT: Duration = Duration::from_secs(1);

/// The exception filter that stops on failures nobody retrieved (on by default).
pub const FILTER_UNRETRIEVED: &str = "unretrieved";
/// The exception filter that stops on every failure, retrieved or not.
pub const FILTER_ALL: &str = "all";

/// What the daemon connection sends the loop: a message, or its end (with the error, if any).
#[derive(Debug)]
pub enum DaemonInput {
    /// A message from connection number `.0`.
    Message(u64, Box<ServerMessage>),
    /// Connection `.0` ended.
    Ended(u64, Option<String>),
}

/// Whether the loop goes on after a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    /// Serve the next request.
    Continue,
    /// The editor disconnected: end.
    End,
}

/// Which failures stop the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StopOn {
    unretrieved: bool,
    all: bool,
}

impl StopOn {
    fn stops(self, failure: &Failure) -> bool {
        self.all
            || (self.unretrieved && matches!(failure.path, FailurePath::Unretrieved | FailurePath::Panic))
    }
}

/// The adapter's state.
pub struct Adapter {
    out: Output,
    socket: PathBuf,
    daemon_program: PathBuf,
    /// The session as the daemon's messages built it.
    session: SessionState,
    /// What the debug view shows while it is stopped: the session when it stopped. The firmware
    /// never halts; this is a snapshot.
    snapshot: Option<SessionState>,
    /// The failure each stopped thread stopped on, for `exceptionInfo`.
    stopped_on: Vec<(i64, Failure)>,
    stop_on: StopOn,
    configured: bool,
    roots: Vec<PathBuf>,
    owned: Option<OwnedDaemon>,
    daemon: Option<UnboundedSender<ClientRequest>>,
    daemon_events: Sender<DaemonInput>,
    daemon_rx: Receiver<DaemonInput>,
    connections: u64,
    /// A stop (KeyboardInterrupt) was sent and the firmware has not ended yet.
    interrupting: bool,
    /// A reset was sent and the new session has not started yet.
    restarting: bool,
    /// A Pause waits for fresh traces: the view stops for it next, not for a failure meanwhile.
    pausing: bool,
    /// The launch found a daemon already there: start its firmware again if its session ended.
    start_if_ended: bool,
    terminated: bool,
    /// How many await-trace updates arrived.
    traces_seen: u64,
}

impl Adapter {
    /// An adapter that writes to `out`, follows the daemon at `socket` and starts
    /// `daemon_program` there when a launch needs one.
    pub fn new(out: Output, socket: PathBuf, daemon_program: PathBuf) -> Adapter {
        let (daemon_events, daemon_rx) = channel(DAEMON_BACKLOG);
        let none = TargetDescription { backend: "none".into(), name: "no target".into() };
        Adapter {
            out,
            socket,
            daemon_program,
            session: SessionState::new(none),
            snapshot: None,
            stopped_on: Vec::new(),
            stop_on: StopOn { unretrieved: true, all: false },
            configured: false,
            roots: Vec::new(),
            owned: None,
            daemon: None,
            daemon_events,
            daemon_rx,
            connections: 0,
            interrupting: false,
            restarting: false,
            pausing: false,
            start_if_ended: false,
            terminated: false,
            traces_seen: 0,
        }
    }

    /// Answers one message from the editor.
    pub async fn on_editor(&mut self, incoming: Incoming) -> Flow {
        match incoming {
            Incoming::Request { raw, request } => self.on_request(raw, *request).await,
            Incoming::Unsupported { seq, command, why } => {
                self.out.fail(seq, &command, &why).await;
                Flow::Continue
            }
            Incoming::Malformed(why) => {
                self.console(OutputEventCategory::Important, format!("asyncmond dap: skipped {why}")).await;
                Flow::Continue
            }
        }
    }

    async fn on_request(&mut self, raw: serde_json::Value, request: Request) -> Flow {
        let seq = request.seq;
        let answer: Result<ResponseBody, String> = match request.command {
            Command::Initialize(_) => {
                let capabilities = capabilities();
                self.out.respond(seq, ResponseBody::Initialize(capabilities)).await;
                self.out.event(Event::Initialized).await;
                return Flow::Continue;
            }
            Command::Launch(_) | Command::Attach(_) => {
                let launch = matches!(request.command, Command::Launch(_));
                match self.start(launch, raw.get("arguments")).await {
                    Ok(said) => {
                        self.console(OutputEventCategory::Console, format!("asyncmon: {said}")).await;
                        Ok(if launch { ResponseBody::Launch } else { ResponseBody::Attach })
                    }
                    Err(e) => Err(e),
                }
            }
            Command::SetBreakpoints(args) => {
                let lines = args.breakpoints.map_or(0, |b| b.len());
                let unverified = Breakpoint {
                    verified: false,
                    message: Some("asyncmon never halts the target, so it has no line breakpoints: failures stop the session (Breakpoints view: Unretrieved failures, All failures)".into()),
                    ..Default::default()
                };
                Ok(ResponseBody::SetBreakpoints(SetBreakpointsResponse {
                    breakpoints: vec![unverified; lines],
                }))
            }
            Command::SetExceptionBreakpoints(args) => {
                self.stop_on = StopOn {
                    unretrieved: args.filters.iter().any(|f| f == FILTER_UNRETRIEVED),
                    all: args.filters.iter().any(|f| f == FILTER_ALL),
                };
                Ok(ResponseBody::SetExceptionBreakpoints(SetExceptionBreakpointsResponse { breakpoints: None }))
            }
            Command::ConfigurationDone => {
                self.configured = true;
                Ok(ResponseBody::ConfigurationDone)
            }
            Command::Threads => Ok(ResponseBody::Threads(ThreadsResponse { threads: view::threads(self.shown(), &self.failed()) })),
            Command::StackTrace(args) => {
                let failed = self.stopped_on.iter().rev().find(|(thread, _)| *thread == args.thread_id);
                let frames = match (failed, task_of(args.thread_id)) {
                    (Some((_, failure)), _) => view::failure_frames(self.shown(), failure, &self.roots),
                    (None, Some(task)) => view::stack_frames(self.shown(), task, &self.roots),
                    (None, None) => Vec::new(),
                };
                let total = frames.len() as i64;
                Ok(ResponseBody::StackTrace(StackTraceResponse { stack_frames: frames, total_frames: Some(total) }))
            }
            Command::Scopes(args) => Ok(ResponseBody::Scopes(ScopesResponse { scopes: view::scopes(args.frame_id) })),
            Command::Variables(args) => {
                let variables = task_of(args.variables_reference)
                    .map(|task| view::task_variables(self.shown(), task))
                    .unwrap_or_default();
                Ok(ResponseBody::Variables(VariablesResponse { variables }))
            }
            Command::ExceptionInfo(args) => {
                match self.stopped_on.iter().rev().find(|(thread, _)| *thread == args.thread_id) {
                    Some((_, failure)) => Ok(ResponseBody::ExceptionInfo(view::exception_info(self.shown(), failure))),
                    None => Err("this task did not stop on a failure".into()),
                }
            }
            Command::Pause(args) => {
                self.out.respond(seq, ResponseBody::Pause).await;
                // The snapshot shows traces read now, not up to a refresh period ago.
                let seen = self.traces_seen;
                if self.send(ClientRequest::RefreshTraces { target: 0 }).is_ok() {
                    // One stop for one press: a failure meanwhile goes to the Debug Console and
                    // shows in the snapshot, but does not stop the view before the pause does.
                    self.pausing = true;
                    self.apply_daemon_until(FRESH_TRACES_TIMEOUT, |a| a.traces_seen > seen).await;
                    self.pausing = false;
                }
                self.stop(StoppedEventReason::Pause, Some(args.thread_id), "Snapshot (the firmware runs on)".into(), None).await;
                return Flow::Continue;
            }
            Command::Continue(_) => {
                self.snapshot = None;
                self.stopped_on.clear();
                Ok(ResponseBody::Continue(ContinueResponse { all_threads_continued: Some(true) }))
            }
            Command::Next(_) | Command::StepIn(_) | Command::StepOut(_) | Command::StepBack(_) | Command::Goto(_) | Command::ReverseContinue(_) | Command::RestartFrame(_) => {
                Err("asyncmon never halts the target, so it cannot step: the stack is a snapshot of where each task waits. Continue takes the next snapshot.".into())
            }
            Command::Terminate(_) => return self.terminate(seq).await,
            Command::Restart(_) => match self.send(ClientRequest::Reset) {
                Ok(()) => {
                    self.restarting = true;
                    self.interrupting = false;
                    self.snapshot = None;
                    self.stopped_on.clear();
                    Ok(ResponseBody::Restart)
                }
                Err(e) => Err(e),
            },
            Command::Disconnect(args) => {
                self.disconnect(args.terminate_debuggee.unwrap_or(self.owned.is_some())).await;
                self.out.respond(seq, ResponseBody::Disconnect).await;
                return Flow::End;
            }
            Command::Evaluate(_) => Err("asyncmon cannot evaluate expressions: the target is never halted".into()),
            _ => {
                let command = raw.get("command").and_then(|c| c.as_str()).unwrap_or("?").to_string();
                Err(format!("asyncmond dap does not support the request \"{command}\""))
            }
        };
        match answer {
            Ok(body) => self.out.respond(seq, body).await,
            Err(why) => {
                let command = raw.get("command").and_then(|c| c.as_str()).unwrap_or("?").to_string();
                self.out.fail(seq, &command, &why).await;
            }
        }
        Flow::Continue
    }

    /// The session the debug view shows: the snapshot while stopped, else the live one.
    fn shown(&self) -> &SessionState {
        self.snapshot.as_ref().unwrap_or(&self.session)
    }

    /// The failures the view stopped on.
    fn failed(&self) -> Vec<Failure> {
        self.stopped_on.iter().map(|(_, failure)| failure.clone()).collect()
    }

    /// Launch (start the target, or follow a daemon already running one) or attach (follow the
    /// daemon at the socket).
    async fn start(&mut self, launch: bool, arguments: Option<&serde_json::Value>) -> Result<String, String> {
        let config = DebugConfig::from_arguments(arguments).map_err(|e| e.to_string())?;
        if let Some(socket) = &config.socket {
            self.socket = socket.clone();
        }
        self.roots = config.workspace_folder.iter().filter_map(|f| f.canonicalize().ok()).collect();
        if !launch {
            let client = DaemonClient::connect(&self.socket, CLIENT_NAME).await.map_err(|e| {
                format!("{e:#}. Attach follows a running daemon: start one (asyncmon demo, asyncmond sim ...), or use a launch configuration")
            })?;
            let target = client.target.name.clone();
            self.follow(client).await?;
            return Ok(format!("attached to the daemon at {} ({target})", self.socket.display()));
        }
        let words = config.target_words().map_err(|e| e.to_string())?;
        let words = daemon_words(words, &self.daemon_program).map_err(|e| e.to_string())?;
        if let Ok(client) = DaemonClient::connect(&self.socket, CLIENT_NAME).await {
            let target = client.target.name.clone();
            self.start_if_ended = true;
            self.follow(client).await?;
            return Ok(format!(
                "following the daemon already running at {} ({target}); its target is the one it was started with",
                self.socket.display()
            ));
        }
        if let Some(earlier) = self.owned.take() {
            // A second launch in one debug session: the first one's daemon (and its firmware)
            // belong to this session too, and end before the next starts.
            self.console(OutputEventCategory::Console, "asyncmon: ending the session launched before".into())
                .await;
            self.daemon = None;
            earlier.end().await;
        }
        let (daemon, client) =
            OwnedDaemon::start_serving(&self.daemon_program, &self.socket, words.clone(), CLIENT_NAME)
                .await?;
        self.owned = Some(daemon);
        self.follow(client).await?;
        Ok(format!("started asyncmond {}", words.join(" ")))
    }

    /// Subscribes to the daemon's session and passes its messages to the loop from a task of its
    /// own; requests for the daemon go through [`Adapter::send`].
    async fn follow(&mut self, mut client: DaemonClient) -> Result<(), String> {
        client.request(&ClientRequest::Subscribe).await.map_err(|e| e.to_string())?;
        self.connections += 1;
        let number = self.connections;
        let (requests, requests_rx) = unbounded_channel();
        self.daemon = Some(requests);
        let events = self.daemon_events.clone();
        tokio::spawn(async move {
            let relayed = client.relay(requests_rx, |message| {
                let events = events.clone();
                async move { events.send(DaemonInput::Message(number, Box::new(message))).await.is_ok() }
            });
            if let RelayEnd::Daemon(ended) = relayed.await {
                let _ = events.send(DaemonInput::Ended(number, ended)).await;
            }
        });
        Ok(())
    }

    fn send(&self, request: ClientRequest) -> Result<(), String> {
        match &self.daemon {
            Some(daemon) if daemon.send(request).is_ok() => Ok(()),
            _ => Err("no session: the daemon is gone".into()),
        }
    }

    fn firmware_running(&self) -> bool {
        matches!(
            self.session.target_state,
            TargetState::Starting | TargetState::WaitingForControlBlock | TargetState::Attached
        )
    }

    /// The toolbar's Stop, first press: KeyboardInterrupt, every task's cleanup runs; the session
    /// ends when the firmware has.
    async fn terminate(&mut self, seq: i64) -> Flow {
        if !self.firmware_running() || self.daemon.is_none() {
            self.out.respond(seq, ResponseBody::Terminate).await;
            self.end_session(None).await;
            return Flow::Continue;
        }
        match self.send(ClientRequest::Stop) {
            Ok(()) => {
                self.interrupting = true;
                self.out.respond(seq, ResponseBody::Terminate).await;
                let text = match self.session.executor {
                    Executor::Agent => "asyncmon: KeyboardInterrupt sent: the firmware's tasks clean up. Press Stop again to stop it at once (every task dropped).",
                    Executor::Embassy => "asyncmon: stop sent to the firmware's stop hook (embassy executor: its tasks cannot be cancelled, so there is no KeyboardInterrupt)",
                };
                self.console(OutputEventCategory::Console, text.into()).await;
            }
            Err(why) => self.out.fail(seq, "terminate", &why).await,
        }
        Flow::Continue
    }

    /// The toolbar's Stop, second press (or the end of the editor's session): a hard stop when the
    /// firmware still runs and it is ours to stop, then the daemon this adapter started ends.
    async fn disconnect(&mut self, stop_firmware: bool) {
        if stop_firmware && self.firmware_running() && self.send(ClientRequest::HardStop).is_ok() {
            self.console(OutputEventCategory::Console, "asyncmon: hard stop: every task dropped".into())
                .await;
            self.interrupting = true;
            self.apply_daemon_until(HARD_STOP_TIMEOUT, |a| !a.firmware_running()).await;
        }
        if let Some(daemon) = self.owned.take() {
            daemon.end().await;
        }
    }

    /// Applies the daemon's messages until `done` says so, the daemon is gone, or `timeout`.
    async fn apply_daemon_until(&mut self, timeout: Duration, done: impl Fn(&Adapter) -> bool) {
        let _ = tokio::time::timeout(timeout, async {
            while !done(self) && self.daemon.is_some() {
                match self.daemon_rx.recv().await {
                    Some(input) => self.on_daemon(input).await,
                    None => return,
                }
            }
        })
        .await;
    }

    /// Ends the debug session: `exited` with the firmware's exit code when it has one, then
    /// `terminated`.
    async fn end_session(&mut self, code: Option<i32>) {
        if self.terminated {
            return;
        }
        self.terminated = true;
        if let Some(code) = code {
            self.out.event(Event::Exited(ExitedEventBody { exit_code: i64::from(code) })).await;
        }
        self.out.event(Event::Terminated(Some(TerminatedEventBody { restart: None }))).await;
    }

    /// The daemon's next message (never ends: the adapter holds a sender).
    pub async fn next_daemon_input(&mut self) -> Option<DaemonInput> {
        self.daemon_rx.recv().await
    }

    /// Folds in what the daemon sent, and tells the editor what changed.
    pub async fn on_daemon(&mut self, input: DaemonInput) {
        match input {
            DaemonInput::Message(number, _) | DaemonInput::Ended(number, _) if number != self.connections => {
            }
            DaemonInput::Ended(_, why) => {
                self.daemon = None;
                let text = match why {
                    None => format!("asyncmon: the daemon at {} has ended", self.socket.display()),
                    Some(e) => format!("asyncmon: lost the daemon at {}: {e}", self.socket.display()),
                };
                self.console(OutputEventCategory::Important, text).await;
                self.end_session(None).await;
            }
            DaemonInput::Message(_, message) => self.on_message(*message).await,
        }
    }

    async fn on_message(&mut self, message: ServerMessage) {
        match message {
            ServerMessage::Snapshot(session) => {
                self.session = *session;
                for thread in view::threads(&self.session, &[]) {
                    self.thread(ThreadEventReason::Started, thread.id).await;
                }
                if std::mem::take(&mut self.start_if_ended) && !self.firmware_running() {
                    let _ = self.send(ClientRequest::Reset);
                    self.restarting = true;
                }
            }
            ServerMessage::Event(event) => {
                self.session.apply(&event);
                self.on_event(event).await;
            }
            _ => {}
        }
    }

    async fn on_event(&mut self, event: SessionEvent) {
        match event {
            SessionEvent::TaskSpawned(task) if task.epoch == self.session.epoch => {
                self.thread(ThreadEventReason::Started, thread_id(task.id)).await;
            }
            SessionEvent::TaskFinished { id, .. } => {
                self.thread(ThreadEventReason::Exited, thread_id(id)).await
            }
            SessionEvent::Log(line) => self.console(OutputEventCategory::Stdout, log_text(&line)).await,
            SessionEvent::Interrupted(report) => {
                self.console(OutputEventCategory::Console, interrupt_summary(&report)).await;
            }
            SessionEvent::StopHandled { hook_ran, hard, .. } => {
                // An embassy firmware: the session goes on unless its hook ends it.
                self.interrupting = false;
                let text = asyncmon_protocol::host::wording::stop_handled_words(hook_ran, hard);
                self.console(OutputEventCategory::Important, format!("asyncmon: {text}")).await;
            }
            SessionEvent::SessionStarted { epoch, .. } => {
                self.restarting = false;
                self.console(OutputEventCategory::Console, format!("asyncmon: session {epoch} started"))
                    .await;
            }
            SessionEvent::TargetState(TargetState::Exited { code, description }) if !self.restarting => {
                self.console(
                    OutputEventCategory::Console,
                    format!("asyncmon: the firmware ended: {description}"),
                )
                .await;
                self.end_session(code).await;
            }
            SessionEvent::TargetState(TargetState::Failed { reason }) => {
                self.console(
                    OutputEventCategory::Important,
                    format!("asyncmon: the target failed: {reason}"),
                )
                .await;
            }
            SessionEvent::Failure(failure) => self.on_failure(failure).await,
            SessionEvent::AwaitTraces(_) => self.traces_seen += 1,
            _ => {}
        }
    }

    async fn on_failure(&mut self, failure: Failure) {
        let what = match &failure.exception {
            Some(e) => format!("{}: {}", e.type_name, e.message),
            None => failure.message.clone(),
        };
        let task = failure.task.as_ref().map_or(0, |t| t.id);
        let name = failure.task.as_ref().map_or("", |t| t.name.as_str());
        self.console(
            OutputEventCategory::Stderr,
            format!("{} — {what} (task #{task} {name})", failure.message),
        )
        .await;
        // A view already stopped stays on what the user is looking at.
        let live = self.snapshot.is_none();
        if self.configured && live && !self.interrupting && !self.pausing && self.stop_on.stops(&failure) {
            // The Call Stack shows the description beside the thread: a few words.
            let short = failure
                .exception
                .as_ref()
                .map_or("failure", |e| e.type_name.rsplit("::").next().unwrap_or(&e.type_name));
            let description = format!("{short} (never retrieved)");
            let description =
                if failure.path == FailurePath::Unretrieved { description } else { short.to_string() };
            self.stop(StoppedEventReason::Exception, Some(thread_id(task)), description, Some(failure)).await;
        }
    }

    /// Stops the debug view on a snapshot of the session.
    async fn stop(
        &mut self,
        reason: StoppedEventReason,
        thread: Option<i64>,
        description: String,
        failure: Option<Failure>,
    ) {
        self.snapshot = Some(self.session.clone());
        let thread = thread.or_else(|| view::threads(&self.session, &[]).first().map(|t| t.id)).unwrap_or(1);
        let text = failure.as_ref().and_then(|f| f.exception.as_ref()).map(|e| e.type_name.clone());
        if let Some(failure) = failure {
            self.stopped_on.push((thread, failure));
        }
        self.out
            .event(Event::Stopped(StoppedEventBody {
                reason,
                description: Some(description),
                thread_id: Some(thread),
                preserve_focus_hint: Some(false),
                text,
                all_threads_stopped: Some(true),
                hit_breakpoint_ids: None,
            }))
            .await;
    }

    async fn thread(&mut self, reason: ThreadEventReason, thread_id: i64) {
        self.out.event(Event::Thread(ThreadEventBody { reason, thread_id })).await;
    }

    async fn console(&mut self, category: OutputEventCategory, text: String) {
        let body = OutputEventBody { category: Some(category), output: text + "\n", ..Default::default() };
        self.out.event(Event::Output(body)).await;
    }

    /// Ends the daemon this adapter started, if any (the editor went away).
    pub async fn end(&mut self) {
        if let Some(daemon) = self.owned.take() {
            daemon.end().await;
        }
    }
}

/// What the adapter can do, for `initialize`.
fn capabilities() -> Capabilities {
    let filter = |filter: &str, label: &str, description: &str, default: bool| ExceptionBreakpointsFilter {
        filter: filter.into(),
        label: label.into(),
        description: Some(description.into()),
        default: Some(default),
        ..Default::default()
    };
    Capabilities {
        supports_configuration_done_request: Some(true),
        supports_terminate_request: Some(true),
        supports_restart_request: Some(true),
        supports_exception_info_request: Some(true),
        support_terminate_debuggee: Some(true),
        exception_breakpoint_filters: Some(vec![
            filter(
                FILTER_UNRETRIEVED,
                "Unretrieved failures",
                "Stop when a task's failure reaches the exception handler (nobody awaited it), or the firmware panics",
                true,
            ),
            filter(FILTER_ALL, "All failures", "Stop on every failure, also those a task awaited or a gather got", false),
        ]),
        ..Default::default()
    }
}
