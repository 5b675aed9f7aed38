//! DAP's base protocol for the adapter: the editor's messages in, checked one by one so that a bad
//! one costs an error answer (or a line in the Debug Console) and never the session; the adapter's
//! responses and events out, numbered. The framing (`Content-Length`, then JSON) is LSP's, and
//! [`crate::lsp::framing`] reads and writes it for both.

use crate::lsp::framing::{read_frame, write_frame, MAX_CONTENT_LENGTH};
use dap::base_message::{BaseMessage, Sendable};
use dap::events::Event;
use dap::requests::Request;
use dap::responses::{Response, ResponseBody};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

/// One message from the editor, checked.
#[derive(Debug)]
pub enum Incoming {
    /// A request the adapter understands (`raw` is the message as it came, for its arguments).
    Request {
        /// The message as JSON.
        raw: Value,
        /// The request.
        request: Box<Request>,
    },
    /// A request the adapter cannot take: an unknown command, or arguments that do not fit it.
    Unsupported {
        /// Its sequence number.
        seq: i64,
        /// Its command.
        command: String,
        /// Why, for the answer.
        why: String,
    },
    /// Not a request: a broken frame, a body that is not JSON, a message without `seq`.
    Malformed(String),
}

/// Commands DAP defines without arguments: some clients send `"arguments": {}` anyway.
const NO_ARGUMENTS: [&str; 3] = ["configurationDone", "threads", "loadedSources"];

/// Checks one message body.
pub fn check(body: &[u8]) -> Incoming {
    let mut raw: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => return Incoming::Malformed(format!("a message that is not JSON: {e}")),
    };
    let (Some(seq), Some(command)) = (
        raw.get("seq").and_then(Value::as_i64),
        raw.get("command").and_then(Value::as_str).map(str::to_string),
    ) else {
        return Incoming::Malformed("a message that is not a DAP request (no seq or command)".into());
    };
    if let Some(object) = raw.as_object_mut() {
        if NO_ARGUMENTS.contains(&command.as_str()) {
            object.remove("arguments");
        } else if object.get("arguments").is_none_or(Value::is_null) {
            // Requests whose arguments are all optional (`terminate`, `disconnect`) may come bare.
            object.insert("arguments".into(), json!({}));
        }
    }
    match serde_json::from_value::<Request>(raw.clone()) {
        Ok(request) => Incoming::Request { raw, request: Box::new(request) },
        Err(e) => Incoming::Unsupported {
            seq,
            why: format!("asyncmond dap cannot take the request \"{command}\": {e}"),
            command,
        },
    }
}

/// Reads the editor's messages and passes them on, checked; returns at the end of the input.
pub async fn read_messages<R: AsyncRead + Unpin>(
    input: R,
    to: mpsc::Sender<Incoming>,
) -> std::io::Result<()> {
    let mut input = tokio::io::BufReader::new(input);
    while let Some(frame) = read_frame(&mut input, MAX_CONTENT_LENGTH).await? {
        let incoming = match frame {
            Ok(body) => check(&body),
            Err(e) => Incoming::Malformed(e.to_string()),
        };
        if to.send(incoming).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// Spells a message as DAP does. The `dap` crate leaves a few of its types without serde's
/// renaming — `ContinueResponse` (`all_threads_continued`), `Source` (`presentation_hint`,
/// `source_reference`), `Breakpoint`, `ExceptionBreakpointsFilter` — and spells a source's
/// `deemphasize` hint `deEmphasize`. An editor ignores what it does not know, so the hint that greys
/// out a source outside the workspace would be lost. Every key is renamed `snake_case` →
/// `camelCase` throughout (every key the protocol defines is camelCase, but for the base
/// protocol's `request_seq`).
pub fn dap_spelling(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let keys: Vec<String> =
                object.keys().filter(|k| k.contains('_') && *k != "request_seq").cloned().collect();
            for key in keys {
                if let Some(v) = object.remove(&key) {
                    let mut camel = String::with_capacity(key.len());
                    let mut upper = false;
                    for c in key.chars() {
                        match c {
                            '_' => upper = true,
                            c if upper => {
                                camel.extend(c.to_uppercase());
                                upper = false;
                            }
                            c => camel.push(c),
                        }
                    }
                    object.insert(camel, v);
                }
            }
            if let Some(hint) = object.get_mut("presentationHint").filter(|h| *h == "deEmphasize") {
                *hint = Value::from("deemphasize");
            }
            object.values_mut().for_each(dap_spelling);
        }
        Value::Array(items) => items.iter_mut().for_each(dap_spelling),
        _ => {}
    }
}

/// The adapter's side of the conversation: numbers each message and writes it.
pub struct Output {
    writer: Box<dyn AsyncWrite + Unpin + Send>,
    seq: i64,
}

impl Output {
    /// Writes to `writer`.
    pub fn new(writer: impl AsyncWrite + Unpin + Send + 'static) -> Output {
        Output { writer: Box::new(writer), seq: 0 }
    }

    async fn write(&mut self, mut message: Value) {
        dap_spelling(&mut message);
        let body = message.to_string();
        if let Err(e) = write_frame(&mut self.writer, body.as_bytes()).await {
            // The editor is gone; the end of its input ends the adapter.
            tracing::debug!("cannot write to the editor: {e}");
        }
    }

    fn next_seq(&mut self) -> i64 {
        self.seq += 1;
        self.seq
    }

    /// A successful response.
    pub async fn respond(&mut self, request_seq: i64, body: ResponseBody) {
        let response = Response { request_seq, success: true, message: None, body: Some(body), error: None };
        let seq = self.next_seq();
        let message = serde_json::to_value(BaseMessage { seq, message: Sendable::Response(response) })
            .unwrap_or_else(|e| json!({ "seq": seq, "type": "response", "request_seq": request_seq, "success": false, "message": e.to_string() }));
        self.write(message).await;
    }

    /// A failed response, with the reason shown to the user.
    pub async fn fail(&mut self, request_seq: i64, command: &str, why: &str) {
        let seq = self.next_seq();
        let message = json!({
            "seq": seq,
            "type": "response",
            "request_seq": request_seq,
            "command": command,
            "success": false,
            "message": why,
            "body": { "error": { "id": 1, "format": why, "showUser": true } },
        });
        self.write(message).await;
    }

    /// An event.
    pub async fn event(&mut self, event: Event) {
        let seq = self.next_seq();
        match serde_json::to_value(BaseMessage { seq, message: Sendable::Event(event) }) {
            Ok(message) => self.write(message).await,
            Err(e) => tracing::warn!("cannot encode an event: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_without_arguments_and_bare_ones_are_taken() {
        let done = check(br#"{"seq":3,"type":"request","command":"configurationDone","arguments":{}}"#);
        assert!(matches!(done, Incoming::Request { .. }), "{done:?}");
        let threads = check(br#"{"seq":4,"type":"request","command":"threads"}"#);
        assert!(matches!(threads, Incoming::Request { .. }), "{threads:?}");
        let terminate = check(br#"{"seq":5,"type":"request","command":"terminate"}"#);
        assert!(matches!(terminate, Incoming::Request { .. }), "{terminate:?}");
    }

    #[tokio::test]
    async fn what_the_dap_crate_writes_in_snake_case_reaches_the_editor_in_camel_case() {
        use dap::responses::ContinueResponse;
        use dap::types::{PresentationHint, Source};
        let (writer, mut reader) = tokio::io::duplex(4096);
        let mut out = Output::new(writer);
        let body = ContinueResponse { all_threads_continued: Some(true) };
        out.respond(1, ResponseBody::Continue(body)).await;
        let source = Source {
            path: Some("/etc/passwd".into()),
            presentation_hint: Some(PresentationHint::DeEmphasize),
            ..Default::default()
        };
        let mut value = serde_json::to_value(&source).unwrap();
        dap_spelling(&mut value);
        assert_eq!(value, json!({ "path": "/etc/passwd", "presentationHint": "deemphasize" }));
        drop(out);
        let mut written = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut reader, &mut written).await.unwrap();
        assert!(written.contains(r#""allThreadsContinued":true"#), "{written}");
        assert!(written.contains(r#""request_seq":1"#), "the base protocol's one snake_case key: {written}");
        assert!(!written.replace("request_seq", "").contains('_'), "{written}");
    }

    #[test]
    fn bad_messages_are_told_apart() {
        assert!(matches!(check(b"{not json"), Incoming::Malformed(_)));
        assert!(matches!(check(br#"{"type":"request"}"#), Incoming::Malformed(_)));
        let unknown = check(br#"{"seq":7,"type":"request","command":"dance","arguments":{}}"#);
        assert!(
            matches!(unknown, Incoming::Unsupported { seq: 7, ref command, .. } if command == "dance"),
            "{unknown:?}"
        );
        let wrong =
            check(br#"{"seq":8,"type":"request","command":"stackTrace","arguments":{"threadId":"one"}}"#);
        assert!(matches!(wrong, Incoming::Unsupported { seq: 8, .. }), "{wrong:?}");
    }
}
