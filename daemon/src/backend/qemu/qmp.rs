//! A small client of QEMU's machine protocol (QMP) over its Unix socket: the handshake, then one
//! command at a time (`system_reset`, `quit`). Events QEMU sends meanwhile are skipped.

use serde_json::{json, Value};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// Why a QMP command did not happen.
#[derive(Debug, thiserror::Error)]
pub enum QmpError {
    /// The socket could not be reached, or broke.
    #[error("QEMU's QMP socket: {0}")]
    Io(#[from] io::Error),
    /// QEMU said something that is not QMP.
    #[error("QEMU answered something that is not QMP: {0}")]
    Protocol(String),
    /// QEMU refused the command.
    #[error("QEMU refused {command}: {reason}")]
    Refused {
        /// The command.
        command: String,
        /// QEMU's description of the error.
        reason: String,
    },
}

/// Connects to the Unix socket at `path`, waiting up to `wait` for QEMU to create it (QMP's and
/// the gdbstub's both).
pub fn connect_waiting(path: &Path, wait: Duration) -> io::Result<UnixStream> {
    let deadline = Instant::now() + wait;
    loop {
        match UnixStream::connect(path) {
            Ok(stream) => return Ok(stream),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(e),
        }
    }
}

/// A connected QMP session, in command mode.
pub struct Qmp {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Qmp {
    /// Connects to the socket at `path` (waiting up to `wait` for QEMU to create it) and enters
    /// command mode.
    pub fn connect(path: &Path, wait: Duration) -> Result<Self, QmpError> {
        let stream = connect_waiting(path, wait)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let writer = stream.try_clone()?;
        let mut qmp = Qmp { reader: BufReader::new(stream), writer };
        let greeting = qmp.message()?;
        if greeting.get("QMP").is_none() {
            return Err(QmpError::Protocol(greeting.to_string()));
        }
        qmp.execute("qmp_capabilities")?;
        Ok(qmp)
    }

    /// Runs `command` (without arguments) and returns QEMU's answer.
    pub fn execute(&mut self, command: &str) -> Result<Value, QmpError> {
        let mut line = json!({ "execute": command }).to_string();
        line.push('\n');
        self.writer.write_all(line.as_bytes())?;
        loop {
            let message = self.message()?;
            if let Some(answer) = message.get("return") {
                return Ok(answer.clone());
            }
            if let Some(error) = message.get("error") {
                let reason = error.get("desc").and_then(Value::as_str).unwrap_or("no reason given");
                return Err(QmpError::Refused { command: command.into(), reason: reason.into() });
            }
            // An event ({"event": ...}): not the answer.
        }
    }

    fn message(&mut self) -> Result<Value, QmpError> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(QmpError::Io(io::Error::new(io::ErrorKind::UnexpectedEof, "QEMU closed the socket")));
        }
        serde_json::from_str(&line).map_err(|_| QmpError::Protocol(line.trim_end().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    /// A QMP server that greets, takes the capabilities, sends an event, then answers `system_reset`
    /// and refuses anything else.
    fn fake_qemu(path: &Path) -> std::thread::JoinHandle<Vec<String>> {
        let listener = UnixListener::bind(path).unwrap();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            writeln!(writer, r#"{{"QMP": {{"version": {{}}, "capabilities": []}}}}"#).unwrap();
            let mut seen = Vec::new();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 0 {
                let command: Value = serde_json::from_str(&line).unwrap();
                let name = command["execute"].as_str().unwrap().to_string();
                line.clear();
                match name.as_str() {
                    "qmp_capabilities" => writeln!(writer, r#"{{"return": {{}}}}"#).unwrap(),
                    "system_reset" => {
                        writeln!(writer, r#"{{"event": "RESET", "data": {{}}}}"#).unwrap();
                        writeln!(writer, r#"{{"return": {{}}}}"#).unwrap();
                    }
                    _ => writeln!(
                        writer,
                        r#"{{"error": {{"class": "CommandNotFound", "desc": "The command {name} has not been found"}}}}"#
                    )
                    .unwrap(),
                }
                seen.push(name);
            }
            seen
        })
    }

    #[test]
    fn commands_are_answered_past_events_and_refusals_say_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qmp.sock");
        let server = fake_qemu(&path);
        let mut qmp = Qmp::connect(&path, Duration::from_secs(1)).unwrap();
        assert_eq!(qmp.execute("system_reset").unwrap(), json!({}));
        let err = qmp.execute("teleport").unwrap_err().to_string();
        assert!(err.contains("QEMU refused teleport: The command teleport has not been found"), "{err}");
        drop(qmp);
        assert_eq!(server.join().unwrap(), ["qmp_capabilities", "system_reset", "teleport"]);
    }

    #[test]
    fn no_socket_is_an_error_after_the_wait() {
        let dir = tempfile::tempdir().unwrap();
        let err = Qmp::connect(&dir.path().join("none"), Duration::from_millis(30)).err().unwrap();
        assert!(matches!(err, QmpError::Io(_)), "{err}");
    }
}
