//! The simulated board's firmware process (and QEMU's, for the QEMU target): one the daemon started (its child: exit status, output
//! pipes), or one it found running (after a daemon restart: `asyncmond sim --pid PID`), whose end
//! it can only see as the process disappearing.

use super::sink::Sink;
use asyncmon_protocol::host::{LogLine, LogSource, SessionEvent};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus};
use std::time::Instant;

/// How a firmware process ended: its exit code, when known, and a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// The exit code, when the daemon started the process.
    pub code: Option<i32>,
    /// In words.
    pub description: String,
}

/// A firmware process.
pub enum Process {
    /// Started by this daemon.
    Started(Child),
    /// Found running; not this daemon's child.
    Found(u32),
}

impl Process {
    /// Its process id.
    pub fn id(&self) -> u32 {
        match self {
            Process::Started(child) => child.id(),
            Process::Found(pid) => *pid,
        }
    }

    /// How it ended, if it has.
    pub fn try_exit(&mut self) -> Option<Exit> {
        match self {
            Process::Started(child) => child.try_wait().ok().flatten().map(describe_exit),
            Process::Found(pid) => (!alive(*pid)).then(|| Exit {
                code: None,
                description: "ended (its exit code goes to its parent, not to this daemon)".into(),
            }),
        }
    }

    /// Whether the process is ending: gone, or going within a quarter of a second. A memory error
    /// then is its exit, not a broken link.
    pub fn gone_soon(&mut self) -> bool {
        let deadline = Instant::now() + std::time::Duration::from_millis(250);
        loop {
            if !std::path::Path::new(&format!("/proc/{}/mem", self.id())).exists()
                || self.try_exit().is_some()
            {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    /// Ends a process this daemon started; one it found is left running.
    pub fn end(&mut self) {
        if let Process::Started(child) = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Whether `pid` is a live process (not gone, not a zombie).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses: "pid (comm) S ...".
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|s| s != 'Z' && s != 'X'),
        Err(_) => false,
    }
}

/// How a child ended, in words.
pub fn describe_exit(status: ExitStatus) -> Exit {
    let code = status.code();
    let description = match (code, status.signal()) {
        (Some(130), _) => "KeyboardInterrupt (exit code 130)".to_string(),
        (Some(0), _) => "finished (exit code 0)".to_string(),
        (Some(code), _) => format!("failed (exit code {code})"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => "ended".to_string(),
    };
    Exit { code, description }
}

/// Publishes each line of `stream` as a log line. Bytes that are not UTF-8 are shown replaced,
/// never a reason to stop reading: a closed pipe would kill the firmware with SIGPIPE.
pub fn forward_lines(stream: impl Read + Send + 'static, source: LogSource, sink: Sink, started: Instant) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_string();
                    let at_ms = started.elapsed().as_millis() as u64;
                    sink.publish(SessionEvent::Log(LogLine::plain(at_ms, source, text)));
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_found_process_is_alive_until_it_is_gone() {
        let mut child = std::process::Command::new("/bin/sleep").arg("30").spawn().unwrap();
        let mut found = Process::Found(child.id());
        assert!(found.try_exit().is_none());
        found.end();
        assert!(alive(child.id()), "a found process is not ended by the daemon");
        child.kill().unwrap();
        // Until reaped it is a zombie: not alive.
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(found.try_exit().is_some());
        child.wait().unwrap();
        assert!(!alive(u32::MAX - 1));
    }
}
