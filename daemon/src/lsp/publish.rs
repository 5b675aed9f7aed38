//! What goes out to the editor on the publish tick: diagnostics per changed file, the
//! `asyncmon/session` and `asyncmon/logs` notifications. At most one round every
//! [`PUBLISH_INTERVAL`], so a burst of failures is one publication.

use super::diagnostics::{FailureDiagnostic, Severity};
use super::state::{lock, Shared};
use super::summary::{LogLines, SessionSummary, LOG_NOTIFICATION, SESSION_NOTIFICATION};
use std::sync::Mutex;
use std::time::Duration;
use tower_lsp_server::ls_types::notification::Notification;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

/// The shortest time between two publications (diagnostics of one file, or the session
/// notification): a burst of failures is one publication.
pub const PUBLISH_INTERVAL: Duration = Duration::from_millis(100);

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

/// Publishes what changed since the last round: log lines, diagnostics per file, the session
/// summary.
pub async fn publish_changes(client: &Client, shared: &Mutex<Shared>) {
    let (changed, summary, logs, refresh_hints) = {
        let mut shared = lock(shared);
        let changed = shared.diagnostics.take_changed();
        let summary = std::mem::take(&mut shared.summary_dirty)
            .then(|| SessionSummary::of(&shared.session, shared.connected()));
        let refresh_hints = shared.inlay_refresh && std::mem::take(&mut shared.traces_dirty);
        let lines = std::mem::take(&mut shared.logs);
        let dropped = std::mem::take(&mut shared.logs_dropped);
        (
            changed,
            summary,
            (!lines.is_empty() || dropped > 0).then_some(LogLines { lines, dropped }),
            refresh_hints,
        )
    };
    if refresh_hints {
        // A request the editor answers: on a task of its own, so a slow editor never holds up
        // the publications.
        let client = client.clone();
        tokio::spawn(async move {
            let _ = client.inlay_hint_refresh().await;
        });
    }
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

/// A diagnostic as LSP has it.
pub fn to_lsp(d: &FailureDiagnostic) -> Diagnostic {
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
            Severity::Information => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(d.code.into())),
        source: Some("asyncmon".into()),
        message,
        related_information: Some(related),
        ..Default::default()
    }
}
