//! `asyncmond lsp --stdio` as an editor starts it, fed what a broken or hostile client sends:
//! a body that is not JSON, JSON that is not JSON-RPC, headers without a length, a body over the
//! size limit. Each is answered with a JSON-RPC error and the server goes on serving.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Reads the server's messages on a thread of its own.
fn messages(stdout: std::process::ChildStdout) -> mpsc::Receiver<Value> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        loop {
            let mut length = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(value) = line.strip_prefix("Content-Length: ") {
                    length = value.parse::<usize>().ok();
                }
            }
            let mut body = vec![0; length.expect("every message has a length")];
            reader.read_exact(&mut body).unwrap();
            if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        }
    });
    rx
}

/// The next message that is an answer (not a notification), within a few seconds.
fn next_answer(rx: &mpsc::Receiver<Value>) -> Value {
    loop {
        let message = rx.recv_timeout(Duration::from_secs(10)).expect("an answer from the server");
        if message.get("method").is_none() {
            return message;
        }
    }
}

#[test]
fn malformed_messages_are_answered_and_the_server_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_asyncmond"))
        .arg("--socket")
        .arg(dir.path().join("none.sock"))
        .args(["lsp", "--stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = server.stdin.take().unwrap();
    let answers = messages(server.stdout.take().unwrap());

    stdin.write_all(&frame(b"{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ")).unwrap();
    let answer = next_answer(&answers);
    assert_eq!(
        (answer["id"].clone(), answer["error"]["code"].clone()),
        (Value::Null, json!(-32700)),
        "{answer}"
    );

    stdin.write_all(&frame(br#"{"id": 7, "hello": "world"}"#)).unwrap();
    let answer = next_answer(&answers);
    assert_eq!(
        (answer["id"].clone(), answer["error"]["code"].clone()),
        (json!(7), json!(-32600)),
        "{answer}"
    );

    stdin.write_all(b"Content-Type: application/vscode-jsonrpc\r\n\r\n").unwrap();
    let answer = next_answer(&answers);
    assert!(answer["error"]["message"].as_str().unwrap().contains("Content-Length"), "{answer}");

    // Over the limit: read and dropped, never held, and said.
    let huge = vec![b' '; asyncmon_daemon::lsp::framing::MAX_CONTENT_LENGTH + 1];
    stdin.write_all(&frame(&huge)).unwrap();
    let answer = next_answer(&answers);
    assert!(answer["error"]["message"].as_str().unwrap().contains("over the limit"), "{answer}");

    // And the server still serves.
    let initialize =
        json!({ "jsonrpc": "2.0", "id": 2, "method": "initialize", "params": { "capabilities": {} } });
    stdin.write_all(&frame(initialize.to_string().as_bytes())).unwrap();
    let answer = next_answer(&answers);
    assert_eq!(answer["id"], 2);
    assert_eq!(answer["result"]["serverInfo"]["name"], "asyncmond", "{answer}");
    stdin
        .write_all(&frame(json!({ "jsonrpc": "2.0", "id": 3, "method": "shutdown" }).to_string().as_bytes()))
        .unwrap();
    assert_eq!(next_answer(&answers)["id"], 3);
    stdin.write_all(&frame(json!({ "jsonrpc": "2.0", "method": "exit" }).to_string().as_bytes())).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the server did not exit after `exit`");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
}
