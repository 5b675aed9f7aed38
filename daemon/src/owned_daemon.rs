//! The daemon an editor's server (`asyncmond lsp`, `asyncmond dap`) started for a session: it
//! belongs to the editor, so it ends when the editor closes or the server shuts down. A daemon the
//! user started by hand is never one of these, and the servers never end it.
//!
//! [`daemon_words`] turns what an editor asks for (`demo`, or the words `asyncmond` takes) into the
//! daemon's arguments, and [`OwnedDaemon::start_serving`] starts it and waits for its socket; both
//! servers use them.
//!
//! The daemon ends with the server however the server ends: it is started with
//! `--end-with-stdin` and its standard input is a pipe only the server holds, which the kernel
//! closes when the server ends, killed included. What the daemon writes to stderr is passed on to
//! the server's (dropped, never waited for, when nobody reads that) and its last lines kept: a daemon that cannot start (a chip probe-rs does not know,
//! a file that is not an ELF) is reported in its own words, at once.

use crate::client::Client;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a daemon has to end its target cleanly after SIGTERM before it is killed.
pub const END_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a daemon that still runs has to open its socket.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How many of the daemon's last stderr lines are kept for a reason.
const KEPT_LINES: usize = 40;

/// How many of the daemon's stderr lines may wait to be passed on to this process's stderr.
const PASSED_ON_LINES: usize = 256;

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
    /// Its standard input: the daemon ends when this closes.
    _lifeline: Option<ChildStdin>,
    /// Its last lines on stderr.
    said: Arc<Mutex<VecDeque<String>>>,
}

impl OwnedDaemon {
    /// Starts `program --socket SOCKET --end-with-stdin WORDS...`; its stdout is discarded (it
    /// speaks to clients on the socket), its stderr passed on to this process's.
    pub fn start(program: &Path, socket: &Path, words: Vec<String>) -> std::io::Result<OwnedDaemon> {
        let mut child = Command::new(program)
            .arg("--socket")
            .arg(socket)
            .arg("--end-with-stdin")
            .args(&words)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let said = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(stderr) = child.stderr.take() {
            let said = said.clone();
            // Passed on by a thread of its own through a bounded queue: if nobody reads this
            // process's stderr, lines are dropped here, and the daemon never blocks on its log.
            let (lines, to_write) = std::sync::mpsc::sync_channel::<String>(PASSED_ON_LINES);
            std::thread::spawn(move || {
                for line in to_write {
                    let _ = writeln!(std::io::stderr(), "{line}");
                }
            });
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    let _ = lines.try_send(line.clone());
                    let mut said = said.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    if said.len() == KEPT_LINES {
                        said.pop_front();
                    }
                    said.push_back(line);
                }
            });
        }
        Ok(OwnedDaemon { _lifeline: child.stdin.take(), child, words, said })
    }

    /// Starts the daemon for `words` and connects to it as `client`, once it serves. A daemon that
    /// ends first is reported at once in its own words; one that does not serve within
    /// [`START_TIMEOUT`] is ended.
    pub async fn start_serving(
        program: &Path,
        socket: &Path,
        words: Vec<String>,
        client: &str,
    ) -> Result<(OwnedDaemon, Client), String> {
        let mut daemon = OwnedDaemon::start(program, socket, words.clone())
            .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
        let command = format!("asyncmond {}", words.join(" "));
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            match Client::connect(socket, client).await {
                Ok(connection) => return Ok((daemon, connection)),
                Err(e) => {
                    if let Some(reason) = daemon.ended() {
                        return Err(format!("{command} could not start: {reason}"));
                    }
                    if tokio::time::Instant::now() >= deadline {
                        let said = daemon.last_words();
                        daemon.end().await;
                        return Err(format!(
                            "{command} did not serve within {START_TIMEOUT:?}: {e:#}{}",
                            said.map(|s| format!(" (it said: {s})")).unwrap_or_default()
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    /// The target words it was started with.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Whether it is still running (reaps it if not).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Why it ended, when it has: its exit status and its own words.
    pub fn ended(&mut self) -> Option<String> {
        let status = self.child.try_wait().ok().flatten()?;
        // Its last lines are read on a thread of its own: give it a moment to reach the end.
        std::thread::sleep(Duration::from_millis(20));
        Some(match self.last_words() {
            Some(said) => said,
            None => format!("it ended ({status}) without a word"),
        })
    }

    /// What it last said that explains something: its closing error (`asyncmond: ...`), else its
    /// last warning or error, else its last line.
    pub fn last_words(&self) -> Option<String> {
        let said = self.said.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let lines = || said.iter().rev().map(|l| l.trim()).filter(|l| !l.is_empty());
        lines()
            .find_map(|l| l.strip_prefix("asyncmond: "))
            .or_else(|| lines().find(|l| l.contains(" ERROR ") || l.contains(" WARN ")))
            .or_else(|| lines().next())
            .map(|l| asyncmon_protocol::host::wording::printable(l).into_owned())
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

    fn script(dir: &Path, body: &str) -> std::path::PathBuf {
        let script = dir.join("fake-asyncmond");
        std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        script
    }

    #[tokio::test]
    async fn a_daemon_that_cannot_start_is_reported_at_once_in_its_own_words() {
        let dir = tempfile::tempdir().unwrap();
        let program = script(
            dir.path(),
            "echo '2026-12-07T02:00:00Z  INFO asyncmond: starting' >&2\necho 'asyncmond: probe-rs knows no chip called \"bogus\"' >&2\nexit 1",
        );
        let started = std::time::Instant::now();
        let words = vec!["probe".into(), "--chip=bogus".into()];
        let served = OwnedDaemon::start_serving(&program, &dir.path().join("s.sock"), words, "test").await;
        let Err(err) = served else { panic!("a daemon that exits at once was served") };
        assert_eq!(
            err,
            "asyncmond probe --chip=bogus could not start: probe-rs knows no chip called \"bogus\""
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "not after the start timeout: {:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn the_daemon_is_given_a_lifeline_it_can_end_with() {
        let dir = tempfile::tempdir().unwrap();
        // A daemon that ends when its standard input closes, as asyncmond --end-with-stdin does.
        let program = script(dir.path(), "cat > /dev/null");
        let mut daemon = OwnedDaemon::start(&program, &dir.path().join("s.sock"), vec![]).unwrap();
        assert!(daemon.is_running());
        drop(daemon._lifeline.take());
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while daemon.is_running() {
            assert!(std::time::Instant::now() < deadline, "it never saw its standard input close");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
