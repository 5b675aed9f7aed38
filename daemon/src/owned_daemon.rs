//! The daemon an editor's server (`asyncmond lsp`, `asyncmond dap`) started for a session: it
//! belongs to the editor, so it ends when the editor closes or the server shuts down. A daemon the
//! user started by hand is never one of these, and the servers never end it.
//!
//! [`daemon_words`] turns what an editor asks for (`demo`, or the words `asyncmond` takes) into the
//! daemon's arguments; both servers use it.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long a daemon has to end its target cleanly after SIGTERM before it is killed.
pub const END_TIMEOUT: Duration = Duration::from_secs(5);

/// The daemon's arguments for an editor's target words: `demo` is the demo firmware (the `asyncmon`
/// binary installed beside `asyncmond`, at `daemon_program`'s side); other words are passed as they
/// are (`sim PROGRAM`, `probe --chip CHIP ELF`, `qemu --machine M ELF`, `tcp --elf ELF HOST:PORT`).
pub fn daemon_words(words: Vec<String>, daemon_program: &Path) -> anyhow::Result<Vec<String>> {
    match words.first().map(String::as_str) {
        None => anyhow::bail!("a session needs target arguments: [\"demo\"], [\"sim\", PROGRAM], [\"probe\", \"--chip\", CHIP, ELF], [\"qemu\", \"--machine\", MACHINE, ELF], [\"tcp\", \"--elf\", ELF, HOST:PORT]"),
        Some("demo") => {
            let monitor = daemon_program.with_file_name("asyncmon");
            anyhow::ensure!(
                monitor.is_file(),
                "the demo firmware is the asyncmon binary, expected at {} (build it: cargo build -p asyncmon-tui)",
                monitor.display()
            );
            Ok(vec!["sim".into(), monitor.display().to_string(), "__device".into(), "demo".into()])
        }
        Some(_) => Ok(words),
    }
}

/// A daemon process this server started, and the target words it was started with.
#[derive(Debug)]
pub struct OwnedDaemon {
    child: Child,
    words: Vec<String>,
}

impl OwnedDaemon {
    /// Starts `program --socket SOCKET WORDS...`, its output discarded (it speaks to clients on
    /// the socket).
    pub fn start(program: &Path, socket: &Path, words: Vec<String>) -> std::io::Result<OwnedDaemon> {
        let child = Command::new(program)
            .arg("--socket")
            .arg(socket)
            .args(&words)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(OwnedDaemon { child, words })
    }

    /// The target words it was started with.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Whether it is still running (reaps it if not).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Ends it: SIGTERM (it ends its target cleanly: a simulated board's firmware is killed, a
    /// board is left running) and waits up to [`END_TIMEOUT`], then kills it.
    pub async fn end(mut self) {
        if !self.is_running() {
            return;
        }
        let Ok(pid) = i32::try_from(self.child.id()) else { return };
        if kill(Pid::from_raw(pid), Signal::SIGTERM).is_ok() {
            let deadline = tokio::time::Instant::now() + END_TIMEOUT;
            while tokio::time::Instant::now() < deadline {
                if !self.is_running() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            tracing::warn!(pid, "asyncmond did not end within {END_TIMEOUT:?} of SIGTERM: killing it");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn end_stops_a_process_that_obeys_sigterm_and_reaps_it() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("fake-asyncmond");
        std::fs::write(&script, "#!/bin/sh\nexec sleep 30\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let mut daemon =
            OwnedDaemon::start(&script, &dir.path().join("s.sock"), vec!["demo".into()]).unwrap();
        assert!(daemon.is_running());
        assert_eq!(daemon.words(), ["demo"]);
        let pid = daemon.child.id();
        let started = std::time::Instant::now();
        daemon.end().await;
        assert!(started.elapsed() < END_TIMEOUT, "ended by SIGTERM, not by the kill after the timeout");
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "the process is gone and reaped");
    }
}
