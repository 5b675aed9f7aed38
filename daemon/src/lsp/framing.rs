//! LSP's base protocol (`Content-Length` headers, then a JSON body), checked before
//! `tower-lsp-server` sees it, so that a bad message costs one error answer and never the server.
//!
//! tower-lsp-server reads stdin through a `FramedRead`, which ends the stream at the first message
//! it cannot decode: one malformed message would end the server, and the editor would lose it. And
//! it believes any `Content-Length`. So the server reads what [`guard_input`] passes on: whole
//! messages no longer than [`MAX_CONTENT_LENGTH`] that parse as JSON-RPC. Anything else is skipped
//! (an over-long body is read and dropped, never held) and answered with a JSON-RPC error, which
//! [`merge_output`] writes between the server's own messages.

use serde_json::{json, Value};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::{Request, Response};

/// The largest message body accepted from the editor. The server asks for no document text, so
/// its requests are small; 4 MiB leaves room for any editor's initialize parameters.
pub const MAX_CONTENT_LENGTH: usize = 4 * 1024 * 1024;

/// The header that gives a body's length, as a lower-case prefix.
const CONTENT_LENGTH: &str = "content-length:";

/// The longest header line; a longer one is garbage.
const MAX_HEADER_LINE: usize = 8 * 1024;

/// What was wrong with a message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    /// The headers ended without a usable `Content-Length`.
    #[error("a message without a valid Content-Length header")]
    MissingContentLength,
    /// The body was longer than the limit; it was read and dropped.
    #[error("a message of {0} bytes, over the limit of {MAX_CONTENT_LENGTH}")]
    TooLarge(usize),
    /// A header line was too long or not text.
    #[error("a malformed header line")]
    BadHeader,
    /// The body is not JSON.
    #[error("a body that is not JSON: {0}")]
    NotJson(String),
    /// The body is JSON but not a JSON-RPC request, notification or response.
    #[error("a body that is not a JSON-RPC message")]
    NotJsonRpc {
        /// The message's id, when it had one, for the answer.
        id: Value,
    },
}

impl FrameError {
    /// The JSON-RPC error answer to send for it (a parse error, or an invalid request).
    pub fn answer(&self) -> Value {
        let (code, id) = match self {
            FrameError::NotJsonRpc { id } => (-32600, id.clone()),
            _ => (-32700, Value::Null),
        };
        json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": self.to_string() } })
    }
}

/// Reads one message body; `Ok(None)` at the end of the input. After an error the reader is at the
/// start of the next message (or of garbage, which the next call skips).
pub async fn read_frame<R: AsyncBufRead + Unpin>(
    input: &mut R,
    max: usize,
) -> std::io::Result<Option<Result<Vec<u8>, FrameError>>> {
    let mut length = None;
    let mut bad_header = false;
    let mut any = false;
    loop {
        let mut line = Vec::new();
        let read = (&mut *input).take(MAX_HEADER_LINE as u64).read_until(b'\n', &mut line).await?;
        if read == 0 {
            return Ok(any.then_some(Err(FrameError::MissingContentLength)));
        }
        any = true;
        if !line.ends_with(b"\n") {
            bad_header = true; // Too long: the rest of it is read as further lines.
            continue;
        }
        let Ok(text) = std::str::from_utf8(&line) else {
            bad_header = true;
            continue;
        };
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            break;
        }
        // A header anywhere in the line: after a header block without a length, the body that
        // followed it (unread: its length was unknown) runs into the next message's header, which
        // is where the input is in step again.
        if let Some(at) = text.to_ascii_lowercase().find(CONTENT_LENGTH) {
            length = text[at + CONTENT_LENGTH.len()..].trim().parse::<usize>().ok();
        }
    }
    let Some(length) = length else {
        return Ok(Some(Err(if bad_header {
            FrameError::BadHeader
        } else {
            FrameError::MissingContentLength
        })));
    };
    if length > max {
        let skipped = tokio::io::copy(&mut (&mut *input).take(length as u64), &mut tokio::io::sink()).await?;
        if (skipped as usize) < length {
            return Ok(None); // The input ended inside it.
        }
        return Ok(Some(Err(FrameError::TooLarge(length))));
    }
    let mut body = vec![0; length];
    if let Err(e) = input.read_exact(&mut body).await {
        return if e.kind() == std::io::ErrorKind::UnexpectedEof { Ok(None) } else { Err(e) };
    }
    Ok(Some(Ok(body)))
}

/// Whether `body` is a message tower-lsp-server can decode; the error to answer otherwise.
pub fn check_message(body: &[u8]) -> Result<(), FrameError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| FrameError::NotJson(e.to_string()))?;
    let decodes = serde_json::from_value::<Request>(value.clone()).is_ok()
        || serde_json::from_value::<Response>(value.clone()).is_ok();
    if decodes {
        Ok(())
    } else {
        Err(FrameError::NotJsonRpc {
            id: value.get("id").filter(|id| id.is_number() || id.is_string()).cloned().unwrap_or(Value::Null),
        })
    }
}

/// Writes one message with its header.
pub async fn write_frame<W: AsyncWrite + Unpin>(output: &mut W, body: &[u8]) -> std::io::Result<()> {
    output.write_all(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes()).await?;
    output.write_all(body).await?;
    output.flush().await
}

/// Passes the good messages of `input` to `server`; sends the answer to each bad one to `answers`.
/// Returns at the end of the input (the server then sees its input end too).
pub async fn guard_input<R, W>(input: R, mut server: W, answers: mpsc::Sender<Value>) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut input = tokio::io::BufReader::new(input);
    while let Some(frame) = read_frame(&mut input, MAX_CONTENT_LENGTH).await? {
        match frame.and_then(|body| check_message(&body).map(|()| body)) {
            Ok(body) => write_frame(&mut server, &body).await?,
            Err(error) => {
                tracing::warn!("asyncmond lsp: skipped {error}");
                if answers.send(error.answer()).await.is_err() {
                    break;
                }
            }
        }
    }
    server.shutdown().await
}

/// Copies the server's messages to `output`, with the guard's answers written between them.
pub async fn merge_output<R, W>(
    server: R,
    mut output: W,
    mut answers: mpsc::Receiver<Value>,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut server = tokio::io::BufReader::new(server);
    let mut answers_open = true;
    loop {
        tokio::select! {
            frame = read_frame(&mut server, usize::MAX) => match frame? {
                Some(Ok(body)) => write_frame(&mut output, &body).await?,
                Some(Err(_)) => {} // The server writes whole messages; nothing to do with less.
                None => return Ok(()),
            },
            answer = answers.recv(), if answers_open => match answer {
                Some(answer) => write_frame(&mut output, answer.to_string().as_bytes()).await?,
                None => answers_open = false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn frames(input: &[u8]) -> Vec<Result<Vec<u8>, FrameError>> {
        let mut reader = tokio::io::BufReader::new(input);
        let mut out = Vec::new();
        while let Some(frame) = read_frame(&mut reader, 64).await.unwrap() {
            out.push(frame);
        }
        out
    }

    #[tokio::test]
    async fn good_messages_come_through_and_bad_ones_are_skipped_one_by_one() {
        let input = b"Content-Length: 2\r\n\r\n{}\
garbage without a header end\r\n\r\n\
Content-Type: x\r\nContent-Length: 3\r\n\r\n[1]\
Content-Length: 100\r\n\r\n"
            .to_vec();
        let mut input = input;
        input.extend(vec![b'x'; 100]);
        input.extend(b"Content-Length: 4\r\n\r\nnull");
        let got = frames(&input).await;
        assert_eq!(
            got,
            [
                Ok(b"{}".to_vec()),
                Err(FrameError::MissingContentLength),
                Ok(b"[1]".to_vec()),
                Err(FrameError::TooLarge(100)),
                Ok(b"null".to_vec()),
            ]
        );
    }

    #[tokio::test]
    async fn a_header_block_without_a_length_costs_itself_and_not_the_next_message() {
        // Its body cannot be read (its length is unknown) and runs into the next header.
        let input = b"Content-Type: x\r\n\r\n{\"seq\":1,\"command\":\"threads\"}Content-Length: 2\r\n\r\n{}";
        assert_eq!(frames(input).await, [Err(FrameError::MissingContentLength), Ok(b"{}".to_vec())]);
    }

    #[tokio::test]
    async fn a_message_cut_short_by_the_end_of_input_is_not_one() {
        assert_eq!(frames(b"Content-Length: 10\r\n\r\n{\"a\"").await, []);
        assert_eq!(frames(b"").await, []);
    }

    #[test]
    fn bodies_are_checked_as_json_rpc() {
        assert_eq!(check_message(br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#), Ok(()));
        assert_eq!(check_message(br#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#), Ok(()));
        assert_eq!(check_message(br#"{"jsonrpc":"2.0","id":4,"result":null}"#), Ok(()));
        assert!(matches!(check_message(b"{\"jsonrpc\":"), Err(FrameError::NotJson(_))));
        let not_rpc = check_message(br#"{"id":7,"hello":true}"#).unwrap_err();
        assert_eq!(not_rpc, FrameError::NotJsonRpc { id: json!(7) });
        assert_eq!(not_rpc.answer()["error"]["code"], -32600);
        assert_eq!(not_rpc.answer()["id"], 7);
        assert_eq!(FrameError::TooLarge(9).answer()["error"]["code"], -32700);
    }
}
