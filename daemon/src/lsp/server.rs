//! The language server proper: LSP requests in, the daemon's session out as diagnostics and
//! `asyncmon/session` notifications. See the module docs of [`crate::lsp`].

use super::diagnostics::{Diagnostics, FailureDiagnostic, Severity};
use super::summary::{log_text, LogLines, SessionSummary, LOG_NOTIFICATION, SESSION_NOTIFICATION};
use crate::client::Client as DaemonClient;
use asyncmon_protocol::host::{ClientRequest, ServerMessage, SessionState, TargetDescription};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::notification::Notification;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

/// The shortest time between two publications (diagnostics of one file, or the session
/// notification): a burst of failures is one publication.
pub const PUBLISH_INTERVAL: Duration = Duration::from_millis(100);

/// How long `asyncmon.attach` waits for a daemon it started to open its socket.
const DAEMON_START_TIMEOUT: Duration = Duration::from_secs(10);

/// The commands the server carries out.
const COMMANDS: [&str; 3] = ["asyncmon.stop", "asyncmon.hardStop", "asyncmon.attach"];

/// The `asyncmon/session` notification.
enum SessionNotification {}

impl Notification for SessionNotification {
    type Params = SessionSummary;
    const METHOD: &'static str = SESSION_NOTIFICATION;
}

/// The `asyncmon/logs` notification.
enum LogNotification {}

impl Notification for LogNotification {
    type Params = LogLines;
    const METHOD: &'static str = LOG_NOTIFICATION;
}

/// The most log lines held for the next publication; older ones are dropped and counted.
const MAX_PENDING_LOG_LINES: usize = 2000;

/// What the server knows, shared between LSP requests and the daemon connection.
struct Shared {
    session: SessionState,
    diagnostics: Diagnostics,
    roots: Vec<PathBuf>,
    connected: bool,
    summary_dirty: bool,
    /// Firmware log lines not yet sent to the editor, and how many were dropped meanwhile.
    logs: Vec<String>,
    logs_dropped: u64,
    /// Requests for the daemon, while connected.
    requests: Option<UnboundedSender<ClientRequest>>,
}

/// The language server.
pub struct Backend {
    client: Client,
    socket: PathBuf,
    daemon_program: PathBuf,
    shared: Arc<Mutex<Shared>>,
}

/// Serves LSP on stdin/stdout; follows the daemon at `socket`, starting `daemon_program` there when
/// asked to attach and none runs.
pub async fn run_stdio(socket: PathBuf, daemon_program: PathBuf) {
    let (service, client_socket) = LspService::new(|client| Backend::new(client, socket, daemon_program));
    Server::new(tokio::io::stdin(), tokio::io::stdout(), client_socket).serve(service).await;
}

impl Backend {
    /// A server that talks to the editor through `client`.
    pub fn new(client: Client, socket: PathBuf, daemon_program: PathBuf) -> Backend {
        let none = TargetDescription { backend: "none".into(), name: "no target".into() };
        Backend {
            client,
            socket,
            daemon_program,
            shared: Arc::new(Mutex::new(Shared {
                session: SessionState::new(none),
                diagnostics: Diagnostics::default(),
                roots: Vec::new(),
                connected: false,
                summary_dirty: true,
                logs: Vec::new(),
                logs_dropped: 0,
                requests: None,
            })),
        }
    }

    fn shared(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Connects to the daemon and follows its session on a task of its own.
    async fn follow(&self) -> anyhow::Result<()> {
        let mut daemon = DaemonClient::connect(&self.socket, "asyncmond lsp").await?;
        daemon.request(&ClientRequest::Subscribe).await?;
        let (tx, mut rx) = unbounded_channel();
        {
            let mut shared = self.shared();
            shared.connected = true;
            shared.summary_dirty = true;
            shared.requests = Some(tx);
        }
        let shared = self.shared.clone();
        let client = self.client.clone();
        tokio::spawn(async move {
            let reason = loop {
                tokio::select! {
                    message = daemon.recv() => match message {
                        Ok(Some(message)) => fold(&shared, message),
                        Ok(None) => break "asyncmond closed the connection".to_string(),
                        Err(e) => break e.to_string(),
                    },
                    Some(request) = rx.recv() => {
                        if let Err(e) = daemon.request(&request).await {
                            break e.to_string();
                        }
                    }
                }
            };
            {
                let mut shared = shared.lock().unwrap_or_else(|e| e.into_inner());
                shared.connected = false;
                shared.requests = None;
                shared.summary_dirty = true;
            }
            client.log_message(MessageType::WARNING, format!("asyncmon: {reason}")).await;
        });
        Ok(())
    }

    /// Starts a daemon for `words` (unless one answers on the socket) and follows it.
    async fn attach(&self, words: Vec<String>) -> anyhow::Result<String> {
        if self.shared().connected {
            return Ok(format!("already following the daemon at {}", self.socket.display()));
        }
        if self.follow().await.is_ok() {
            return Ok(format!("following the daemon already running at {}", self.socket.display()));
        }
        let words = self.target_words(words)?;
        std::process::Command::new(&self.daemon_program)
            .arg("--socket")
            .arg(&self.socket)
            .args(&words)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", self.daemon_program.display()))?;
        let deadline = tokio::time::Instant::now() + DAEMON_START_TIMEOUT;
        loop {
            match self.follow().await {
                Ok(()) => return Ok(format!("started asyncmond {}", words.join(" "))),
                Err(e) if tokio::time::Instant::now() >= deadline => {
                    anyhow::bail!("asyncmond {} did not start: {e}", words.join(" "))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// The daemon's arguments for the attach command's words: `demo` is the demo firmware (the
    /// `asyncmon` binary installed beside `asyncmond`).
    fn target_words(&self, words: Vec<String>) -> anyhow::Result<Vec<String>> {
        match words.first().map(String::as_str) {
            None => anyhow::bail!("asyncmon.attach needs target arguments: [\"demo\"], [\"sim\", PROGRAM], [\"probe\", \"--chip\", CHIP, ELF], [\"tcp\", \"--elf\", ELF, HOST:PORT]"),
            Some("demo") => {
                let monitor = self.daemon_program.with_file_name("asyncmon");
                anyhow::ensure!(
                    monitor.is_file(),
                    "the demo firmware is the asyncmon binary, expected at {}",
                    monitor.display()
                );
                Ok(vec!["sim".into(), monitor.display().to_string(), "__device".into(), "demo".into()])
            }
            Some(_) => Ok(words),
        }
    }

    fn send(&self, request: ClientRequest) -> Result<Option<LSPAny>> {
        match &self.shared().requests {
            Some(tx) if tx.send(request).is_ok() => Ok(None),
            _ => Err(Error::invalid_params("no target is attached: run asyncmon.attach first")),
        }
    }

    /// Publishes what changed since the last round: diagnostics per file, the session summary.
    async fn publish_changes(client: &Client, shared: &Mutex<Shared>) {
        let (changed, summary, logs) = {
            let mut shared = shared.lock().unwrap_or_else(|e| e.into_inner());
            let changed = shared.diagnostics.take_changed();
            let summary = std::mem::take(&mut shared.summary_dirty)
                .then(|| SessionSummary::of(&shared.session, shared.connected));
            let lines = std::mem::take(&mut shared.logs);
            let dropped = std::mem::take(&mut shared.logs_dropped);
            (changed, summary, (!lines.is_empty() || dropped > 0).then_some(LogLines { lines, dropped }))
        };
        if let Some(logs) = logs {
            client.send_notification::<LogNotification>(logs).await;
        }
        for (file, diagnostics) in changed {
            let Some(uri) = Uri::from_file_path(&file) else { continue };
            let diagnostics = diagnostics.iter().map(to_lsp).collect();
            client.publish_diagnostics(uri, diagnostics, None).await;
        }
        if let Some(summary) = summary {
            client.send_notification::<SessionNotification>(summary).await;
        }
    }
}

/// Folds a daemon message into the shared state.
fn fold(shared: &Mutex<Shared>, message: ServerMessage) {
    let mut shared = shared.lock().unwrap_or_else(|e| e.into_inner());
    let shared = &mut *shared;
    match message {
        ServerMessage::Snapshot(session) => {
            shared.session = *session;
            shared.diagnostics.reset_to(&shared.session);
        }
        ServerMessage::Event(event) => {
            shared.session.apply(&event);
            shared.diagnostics.apply(&shared.session, &event);
            if let asyncmon_protocol::host::SessionEvent::Log(line) = &event {
                if shared.logs.len() == MAX_PENDING_LOG_LINES {
                    shared.logs.remove(0);
                    shared.logs_dropped += 1;
                }
                shared.logs.push(log_text(line));
            }
        }
        _ => return,
    }
    shared.summary_dirty = true;
}

fn to_lsp(d: &FailureDiagnostic) -> Diagnostic {
    let message = match d.count {
        1 => d.message.clone(),
        n => format!("{} (×{n})", d.message),
    };
    let related = d
        .related
        .iter()
        .filter_map(|r| {
            let line = r.location.line.saturating_sub(1);
            Some(DiagnosticRelatedInformation {
                location: Location {
                    uri: Uri::from_file_path(r.file.as_ref()?)?,
                    range: Range::new(Position::new(line, 0), Position::new(line + 1, 0)),
                },
                message: r.message.clone(),
            })
        })
        .collect();
    Diagnostic {
        range: Range::new(Position::new(d.line, d.column), Position::new(d.line + 1, 0)),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.into())),
        source: Some("asyncmon".into()),
        message,
        related_information: Some(related),
        ..Default::default()
    }
}

fn folder_path(uri: &Uri) -> Option<PathBuf> {
    uri.to_file_path()?.canonicalize().ok()
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let mut roots: Vec<PathBuf> =
            params.workspace_folders.unwrap_or_default().iter().filter_map(|f| folder_path(&f.uri)).collect();
        #[allow(deprecated)] // Older clients send only a root URI.
        if roots.is_empty() {
            roots.extend(params.root_uri.as_ref().and_then(folder_path));
        }
        {
            let mut shared = self.shared();
            shared.diagnostics = Diagnostics::new(roots.clone());
            shared.roots = roots;
        }
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: COMMANDS.iter().map(|c| c.to_string()).collect(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            server_info: Some(ServerInfo {
                name: "asyncmond".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            ..Default::default()
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let (client, shared) = (self.client.clone(), self.shared.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PUBLISH_INTERVAL);
            loop {
                tick.tick().await;
                Backend::publish_changes(&client, &shared).await;
            }
        });
        if let Err(e) = self.follow().await {
            let text = format!("asyncmon: no daemon yet ({e}); run asyncmon.attach to start one");
            self.client.log_message(MessageType::INFO, text).await;
        }
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        match params.command.as_str() {
            "asyncmon.stop" => self.send(ClientRequest::Stop),
            "asyncmon.hardStop" => self.send(ClientRequest::HardStop),
            "asyncmon.attach" => {
                let words: Vec<String> = params
                    .arguments
                    .iter()
                    .map(|a| {
                        a.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| Error::invalid_params("target words are strings"))
                    })
                    .collect::<Result<_>>()?;
                match self.attach(words).await {
                    Ok(said) => Ok(Some(LSPAny::String(said))),
                    Err(e) => Err(Error::invalid_params(e.to_string())),
                }
            }
            other => Err(Error::invalid_params(format!("unknown command {other}"))),
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let at = params.text_document_position_params;
        let Some(file) = folder_path(&at.text_document.uri) else { return Ok(None) };
        let shared = self.shared();
        let texts: Vec<String> = shared
            .diagnostics
            .of(Path::new(&file))
            .iter()
            .filter(|d| d.line == at.position.line)
            .map(|d| d.hover.clone())
            .collect();
        Ok((!texts.is_empty()).then(|| Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: texts.join("\n---\n"),
            }),
            range: None,
        }))
    }
}
