//! The language server proper: LSP requests in, the daemon's session out as diagnostics and
//! `asyncmon/session` notifications. See the module docs of [`crate::lsp`].

use super::await_hints::{waiting_in, WaitingHere};
use super::diagnostics::Diagnostics;
use super::framing::{guard_input, merge_output};
use super::publish::{publish_changes, PUBLISH_INTERVAL};
use super::state::{lock, Shared};
use crate::client::{Client as DaemonClient, RelayEnd};
use crate::owned_daemon::{daemon_words, OwnedDaemon};
use asyncmon_protocol::host::{ClientRequest, TargetState};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::unbounded_channel;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

/// The name the server gives the daemon in its hello.
const CLIENT_NAME: &str = "asyncmond lsp";

/// The commands the server carries out.
const COMMANDS: [&str; 4] =
    ["asyncmon.stop", "asyncmon.hardStop", "asyncmon.attach", "asyncmon.clearFailures"];

/// What a user is told when there is nothing to stop.
const NO_SESSION: &str = "no session running — Start demo or Run ELF…";

/// The daemon this server started, if any; shared with [`run_stdio`], which ends it when the
/// editor goes away.
type OwnedSlot = Arc<tokio::sync::Mutex<Option<OwnedDaemon>>>;

/// The language server.
pub struct Backend {
    client: Client,
    socket: PathBuf,
    daemon_program: PathBuf,
    shared: Arc<Mutex<Shared>>,
    owned: OwnedSlot,
}

/// Serves LSP on stdin/stdout; follows the daemon at `socket`, starting `daemon_program` there when
/// asked to attach and none runs. When the editor shuts the server down, closes its end of stdin
/// or sends SIGTERM, the daemon this server started (and so its firmware) ends too.
pub async fn run_stdio(socket: PathBuf, daemon_program: PathBuf) {
    let owned = OwnedSlot::default();
    let (service, client_socket) =
        LspService::new(|client| Backend::with_owned(client, socket, daemon_program, owned.clone()));
    // The editor's messages pass a guard before the server reads them (see `framing`).
    let (server_input, guarded) = tokio::io::duplex(64 * 1024);
    let (server_output, to_editor) = tokio::io::duplex(64 * 1024);
    let (answers, answers_rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(guard_input(tokio::io::stdin(), guarded, answers));
    let output = tokio::spawn(merge_output(to_editor, tokio::io::stdout(), answers_rx));
    let serve = Server::new(server_input, server_output, client_socket).serve(service);
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                () = serve => {}
                _ = terminate.recv() => {}
            }
        }
        Err(_) => serve.await,
    }
    end_owned(&owned).await;
    // The server's last answers (to `shutdown`) reach the editor before the process ends.
    let _ = tokio::time::timeout(Duration::from_secs(1), output).await;
}

/// Ends the daemon this server started, if it is still there.
async fn end_owned(owned: &OwnedSlot) {
    let daemon = owned.lock().await.take();
    if let Some(daemon) = daemon {
        daemon.end().await;
    }
}

impl Backend {
    /// A server that talks to the editor through `client`.
    pub fn new(client: Client, socket: PathBuf, daemon_program: PathBuf) -> Backend {
        Backend::with_owned(client, socket, daemon_program, OwnedSlot::default())
    }

    fn with_owned(client: Client, socket: PathBuf, daemon_program: PathBuf, owned: OwnedSlot) -> Backend {
        Backend { client, socket, daemon_program, shared: Arc::new(Mutex::new(Shared::new())), owned }
    }

    fn shared(&self) -> std::sync::MutexGuard<'_, Shared> {
        lock(&self.shared)
    }

    /// Connects to the daemon and follows its session on a task of its own.
    async fn follow(&self) -> anyhow::Result<()> {
        let daemon = DaemonClient::connect(&self.socket, CLIENT_NAME).await?;
        self.follow_client(daemon).await
    }

    /// Follows the session of the daemon `daemon` is connected to, on a task of its own.
    async fn follow_client(&self, mut daemon: DaemonClient) -> anyhow::Result<()> {
        // From the daemon's welcome: the session itself has not arrived yet.
        let target = daemon.target.clone();
        daemon.request(&ClientRequest::Subscribe).await?;
        let (tx, rx) = unbounded_channel();
        let number = self.shared().connect(tx);
        let shared = self.shared.clone();
        let client = self.client.clone();
        let socket = self.socket.clone();
        tokio::spawn(async move {
            // The session is folded as it comes: nothing waits for the editor.
            let relayed = daemon.relay(rx, |message| {
                lock(&shared).fold(message);
                std::future::ready(true)
            });
            let ended = match relayed.await {
                RelayEnd::Daemon(ended) => ended,
                RelayEnd::Follower => None,
            };
            lock(&shared).disconnect(number);
            let (kind, text) = match ended {
                None => {
                    (MessageType::INFO, format!("asyncmon: the daemon at {} has ended", socket.display()))
                }
                Some(e) => {
                    (MessageType::WARNING, format!("asyncmon: lost the daemon at {}: {e}", socket.display()))
                }
            };
            client.log_message(kind, text).await;
        });
        self.log(
            MessageType::INFO,
            format!("asyncmon: following the daemon at {} ({target})", self.socket.display()),
        );
        Ok(())
    }

    /// Sends a line to the editor's log on a task of its own: a request never waits for the editor
    /// to read its notifications.
    fn log(&self, kind: MessageType, text: String) {
        let client = self.client.clone();
        tokio::spawn(async move { client.log_message(kind, text).await });
    }

    /// Starts a session for `words`: follows a daemon already on the socket, starts the firmware
    /// again when the session there has ended, or starts a daemon of its own.
    async fn attach(&self, words: Vec<String>) -> anyhow::Result<String> {
        let words = daemon_words(words, &self.daemon_program)?;
        let (connected, running, target) = {
            let shared = self.shared();
            (shared.connected(), shared.firmware_running(), shared.session.target.name.clone())
        };
        if running {
            return Ok(format!("a session is already running ({target}): Stop it first to start another"));
        }
        let mut owned = self.owned.lock().await;
        if connected {
            // The session there has ended. The same target (or a daemon the user started, which
            // this server never ends) starts its firmware again: a new session epoch.
            let same = owned.as_ref().is_none_or(|d| d.words() == words.as_slice());
            if same {
                self.send(ClientRequest::Reset).map_err(|e| anyhow::anyhow!(e.message.to_string()))?;
                return Ok(format!("started {target} again"));
            }
        } else if self.follow().await.is_ok() {
            return Ok(format!("following the daemon already running at {}", self.socket.display()));
        }
        if let Some(old) = owned.take() {
            old.end().await; // It served another target, or had died: end or reap it.
        }
        let (daemon, connection) =
            OwnedDaemon::start_serving(&self.daemon_program, &self.socket, words.clone(), CLIENT_NAME)
                .await
                .map_err(anyhow::Error::msg)?;
        *owned = Some(daemon);
        drop(owned);
        self.follow_client(connection).await?;
        Ok(format!("started asyncmond {}", words.join(" ")))
    }

    /// Sends `request` to the daemon.
    fn send(&self, request: ClientRequest) -> Result<Option<LSPAny>> {
        let shared = self.shared();
        match &shared.connection {
            Some(connection) if connection.requests.send(request).is_ok() => Ok(None),
            _ => Err(Error::invalid_params(NO_SESSION)),
        }
    }

    /// Sends a stop request, if there is a firmware to stop.
    fn stop(&self, request: ClientRequest) -> Result<Option<LSPAny>> {
        let refused = {
            let shared = self.shared();
            match &shared.session.target_state {
                TargetState::Exited { description, .. } if shared.connected() => {
                    Some(format!("the firmware is not running ({description}) — Start demo or Run ELF…"))
                }
                TargetState::Failed { reason } if shared.connected() => {
                    Some(format!("the target cannot take a stop request: {reason}"))
                }
                _ => None,
            }
        };
        match refused {
            Some(why) => Err(Error::invalid_params(why)),
            None => self.send(request),
        }
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
        let refresh = params.capabilities.workspace.as_ref().and_then(|w| w.inlay_hint.as_ref());
        {
            let mut shared = self.shared();
            shared.diagnostics = Diagnostics::new(roots);
            shared.inlay_refresh = refresh.and_then(|r| r.refresh_support).unwrap_or(false);
        }
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                inlay_hint_provider: Some(OneOf::Left(true)),
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
                publish_changes(&client, &shared).await;
            }
        });
        if self.follow().await.is_err() {
            let text = format!(
                "asyncmon: ready; no session yet (no daemon at {}) — Start demo or Run ELF… starts one",
                self.socket.display()
            );
            self.log(MessageType::INFO, text);
        }
    }

    async fn shutdown(&self) -> Result<()> {
        // The daemon this server started belongs to the editor, which is going away.
        end_owned(&self.owned).await;
        Ok(())
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        match params.command.as_str() {
            "asyncmon.stop" => self.stop(ClientRequest::Stop),
            "asyncmon.hardStop" => self.stop(ClientRequest::HardStop),
            "asyncmon.clearFailures" => {
                self.shared().diagnostics.clear();
                Ok(None)
            }
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
        let mut texts: Vec<String> = shared
            .diagnostics
            .of(Path::new(&file))
            .iter()
            .filter(|d| d.line == at.position.line)
            .map(|d| d.hover_text())
            .collect();
        texts.extend(
            waiting_in(&shared.session, shared.diagnostics.roots(), &file)
                .iter()
                .filter(|w| w.line == at.position.line)
                .map(WaitingHere::hover_text),
        );
        Ok((!texts.is_empty()).then(|| Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: texts.join("\n---\n"),
            }),
            range: None,
        }))
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        let Some(file) = folder_path(&params.text_document.uri) else { return Ok(None) };
        let waiting = {
            let shared = self.shared();
            waiting_in(&shared.session, shared.diagnostics.roots(), &file)
        };
        let range = params.range;
        let waiting: Vec<WaitingHere> =
            waiting.into_iter().filter(|w| (range.start.line..=range.end.line).contains(&w.line)).collect();
        if waiting.is_empty() {
            return Ok(Some(Vec::new()));
        }
        // The hint goes at the end of its line: the file is inside the workspace (`waiting_in`
        // found it there), so reading it is allowed.
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let hints = waiting
            .iter()
            .map(|w| InlayHint {
                position: Position {
                    line: w.line,
                    character: lines.get(w.line as usize).map_or(0, |l| l.encode_utf16().count() as u32),
                },
                label: InlayHintLabel::String(w.label()),
                kind: None,
                text_edits: None,
                tooltip: Some(InlayHintTooltip::MarkupContent(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: w.hover_text(),
                })),
                padding_left: Some(true),
                padding_right: None,
                data: None,
            })
            .collect();
        Ok(Some(hints))
    }
}
