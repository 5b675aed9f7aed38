//! `asyncmond lsp --stdio` as an editor starts it, fed what a broken or hostile client sends:
//! a body that is not JSON, JSON that is not JSON-RPC, headers without a length, a body over the
//! size limit. Each is answered with a JSON-RPC error and the server goes on serving.

mod support;

use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use support::stdio::{frame, messages};

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

    // A header block without a length, and its body (which cannot be read without one) running
    // into the next message: that one is still answered.
    stdin
        .write_all(b"Content-Type: application/vscode-jsonrpc\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":8}")
        .unwrap();
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
