//! `asyncmon ps` and `asyncmon pstree`: where every running task is waiting, as plain text fit for
//! pasting into an issue (after Python 3.14's `python -m asyncio ps` / `pstree`). The daemon reads
//! the traces afresh from target memory when asked; the device runs no code for it.

use asyncmon_daemon::client::Client;
use asyncmon_protocol::host::wording::{
    frame_words, left_out_words, printable, wait_words, waiting_for_words,
};
use asyncmon_protocol::host::{
    ClientRequest, FailurePath, ServerMessage, SessionEvent, SessionState, TargetState, Task, TaskState,
};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The options `ps` and `pstree` share.
#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// The daemon's socket [default: the one session running: asyncmond's, or asyncmon run's, qemu's or demo's].
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// Which of the daemon's targets (0 is the first).
    #[arg(long, default_value_t = 0)]
    pub target: u32,
    /// Seconds to wait for the traces.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
}

/// The session of target `target` at the daemon on `socket`, with await traces read just now.
pub async fn fetch(socket: &Path, target: u32, timeout: Duration) -> anyhow::Result<SessionState> {
    let mut client = Client::connect(socket, "asyncmon ps").await?;
    client.request(&ClientRequest::SubscribeTarget { target }).await?;
    let wait = async {
        let mut session: Option<SessionState> = None;
        loop {
            match client.recv().await? {
                Some(ServerMessage::Snapshot(snapshot)) => {
                    // A halted firmware (a panic) has no waits to read: its tasks are said as such.
                    if matches!(snapshot.target_state, TargetState::Halted { .. }) {
                        return Ok(*snapshot);
                    }
                    session = Some(*snapshot);
                    // Asked once the snapshot is here, so the answer is an event after it.
                    client.request(&ClientRequest::RefreshTraces { target }).await?;
                }
                Some(ServerMessage::Event(event)) => {
                    let Some(session) = session.as_mut() else { continue };
                    let answered = matches!(
                        event,
                        SessionEvent::AwaitTraces(_) | SessionEvent::TargetState(TargetState::Halted { .. })
                    );
                    session.apply(&event);
                    if answered {
                        return Ok(session.clone());
                    }
                }
                Some(ServerMessage::Refused { reason }) => anyhow::bail!("asyncmond refused: {reason}"),
                Some(_) => {}
                None => anyhow::bail!("asyncmond closed the connection before the traces came"),
            }
        }
    };
    tokio::time::timeout(timeout, wait)
        .await
        .map_err(|_| anyhow::anyhow!("no await traces came within {timeout:?}"))?
}

/// The source paths are shown relative to the current directory when they lie inside it.
fn base() -> Option<String> {
    std::env::current_dir().ok().map(|dir| dir.to_string_lossy().into_owned())
}

/// The running tasks of the current epoch, in id order; after a halt, the tasks it ended.
fn running(session: &SessionState) -> Vec<&Task> {
    let mut tasks: Vec<&Task> = session
        .tasks
        .iter()
        .filter(|t| t.epoch == session.epoch && matches!(t.state, TaskState::Running | TaskState::Halted))
        .collect();
    tasks.sort_by_key(|t| t.id);
    tasks
}

/// The first line after a halt: why, and what starts the firmware again.
fn halted(session: &SessionState) -> Option<String> {
    match &session.target_state {
        TargetState::Halted { reason } => {
            let reason = printable(reason);
            Some(format!("the firmware halted ({reason}): no task runs; `asyncmon reset` starts it again\n"))
        }
        _ => None,
    }
}

/// What a task that the halt ended was doing: the one that panicked, or waiting no more.
fn halted_words(session: &SessionState, task: &Task) -> String {
    let panicked = session.failures.iter().any(|f| {
        f.epoch == session.epoch
            && f.path == FailurePath::Panic
            && f.task.as_ref().is_some_and(|t| t.id == task.id)
    });
    if panicked { "nothing: it panicked" } else { "nothing: the firmware halted" }.into()
}

/// How long ago `since_ms` was, at `now_ms`, in words.
fn waited(now_ms: u64, since_ms: u64) -> String {
    wait_words(now_ms.saturating_sub(since_ms))
}

/// The lines that go before the table: why nothing waits (a halt, no traces), and what the
/// session does not show.
fn header(session: &SessionState) -> String {
    let mut out = halted(session).or_else(|| unavailable(session)).unwrap_or_default();
    for line in left_out_words(session) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The line that says why there are no traces, if there are none to be had.
fn unavailable(session: &SessionState) -> Option<String> {
    session.traces.unavailable.as_ref().map(|why| format!("no await traces: {}\n", printable(why)))
}

/// `asyncmon ps`: one line per running task: id, name, the innermost await, what it waits for and
/// for how long.
pub fn ps(session: &SessionState) -> String {
    let base = base();
    let mut rows = vec![["ID".to_string(), "NAME".into(), "WAITING AT".into(), "FOR".into(), "SINCE".into()]];
    for task in running(session) {
        if task.state == TaskState::Halted {
            rows.push([
                task.id.to_string(),
                task.name.clone(),
                "-".into(),
                halted_words(session, task),
                "-".into(),
            ]);
            continue;
        }
        let (at, what, since) = match session.trace(task.id) {
            Some(trace) => (
                trace
                    .innermost_await()
                    .map(|frame| frame_words(frame, base.as_deref()))
                    .unwrap_or_else(|| "-".into()),
                waiting_for_words(trace),
                waited(session.traces.at_ms, session.waiting_since(task.id).unwrap_or(trace.since_ms)),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        // What the firmware named and said is shown, never obeyed (a terminal escape in a name).
        rows.push([
            task.id.to_string(),
            printable(&task.name).into_owned(),
            printable(&at).into_owned(),
            printable(&what).into_owned(),
            since,
        ]);
    }
    let mut out = header(session);
    let widths: Vec<usize> =
        (0..5).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}  ", width = widths[c]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `asyncmon pstree`: the spawn tree of the running tasks, each with its whole await trace.
pub fn pstree(session: &SessionState) -> String {
    let base = base();
    let tasks = running(session);
    let mut out = header(session);
    let roots: Vec<&Task> =
        tasks.iter().copied().filter(|t| t.parent.is_none_or(|p| !tasks.iter().any(|o| o.id == p))).collect();
    for root in roots {
        tree(session, &tasks, root, "", "", base.as_deref(), &mut out);
    }
    out
}

fn tree(
    session: &SessionState,
    tasks: &[&Task],
    task: &Task,
    lead: &str,
    rest: &str,
    base: Option<&str>,
    out: &mut String,
) {
    let _ = writeln!(out, "{lead}{} #{}", printable(&task.name), task.id);
    let children: Vec<&Task> =
        tasks.iter().copied().filter(|t| t.parent == Some(task.id) && t.id != task.id).collect();
    let bar = if children.is_empty() { "   " } else { "│  " };
    match session.trace(task.id) {
        _ if task.state == TaskState::Halted => {
            let _ = writeln!(out, "{rest}{bar}└ {}", halted_words(session, task));
        }
        Some(trace) => {
            for frame in &trace.frames {
                let indent = "  ".repeat(usize::from(frame.depth));
                let _ = writeln!(out, "{rest}{bar}{indent}└ {}", printable(&frame_words(frame, base)));
            }
        }
        None => {
            let _ = writeln!(out, "{rest}{bar}(no trace)");
        }
    }
    for (i, child) in children.iter().enumerate() {
        let last = i + 1 == children.len();
        let (lead, next) = if last { ("└─ ", "   ") } else { ("├─ ", "│  ") };
        tree(session, tasks, child, &format!("{rest}{lead}"), &format!("{rest}{next}"), base, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use asyncmon_protocol::host::{Failure, FirmwareInfo, Location, TargetDescription};

    fn task(id: u32, name: &str) -> Task {
        Task {
            epoch: 1,
            id,
            name: name.into(),
            spawned_at: Location { file: "src/tasks.rs".into(), line: 10, column: 0 },
            parent: None,
            state: TaskState::Running,
            storage_bytes: None,
            future_bytes: None,
            stats: None,
        }
    }

    #[test]
    fn after_a_panic_every_task_is_said_halted_and_the_panicking_one_so() {
        let mut session = SessionState::new(TargetDescription { backend: "qemu".into(), name: "fw".into() });
        let firmware = FirmwareInfo { name: "fw".into(), build_id: "1".into(), protocol_version: 1 };
        session.apply(&SessionEvent::SessionStarted { epoch: 1, firmware });
        session.apply(&SessionEvent::TaskSpawned(task(1, "ticker")));
        session.apply(&SessionEvent::TaskSpawned(task(2, "faulty")));
        session.apply(&SessionEvent::Failure(Failure {
            seq: 1,
            epoch: 1,
            at_ms: 4000,
            message: "the firmware panicked".into(),
            exception: None,
            task: Some(task(2, "faulty")),
            path: FailurePath::Panic,
        }));
        let reason = "panic in faulty at src/tasks.rs:98".to_string();
        session.apply(&SessionEvent::TargetState(TargetState::Halted { reason }));
        let out = ps(&session);
        assert!(out.starts_with("the firmware halted (panic in faulty at src/tasks.rs:98)"), "{out}");
        assert!(out.contains("asyncmon reset"), "{out}");
        let row =
            |name: &str| out.lines().find(|l| l.split_whitespace().nth(1) == Some(name)).unwrap().to_string();
        assert!(row("ticker").contains("nothing: the firmware halted"), "{out}");
        assert!(row("faulty").contains("nothing: it panicked"), "{out}");
        let tree = pstree(&session);
        assert!(tree.contains("faulty #2\n   └ nothing: it panicked"), "{tree}");
    }

    #[test]
    fn a_terminal_escape_in_a_name_or_a_wait_is_shown_not_obeyed() {
        let mut session = SessionState::new(TargetDescription { backend: "sim".into(), name: "fw".into() });
        let firmware = FirmwareInfo { name: "fw".into(), build_id: "1".into(), protocol_version: 1 };
        session.apply(&SessionEvent::SessionStarted { epoch: 1, firmware });
        session.apply(&SessionEvent::TaskSpawned(task(1, "\u{1b}]0;pwned\u{7}\u{1b}[2J")));
        for out in [ps(&session), pstree(&session)] {
            assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
            assert!(out.contains("\\x1b]0;pwned\\x07\\x1b[2J"), "{out}");
        }
    }

    #[test]
    fn tasks_the_session_stopped_keeping_are_counted_above_the_table() {
        let mut session = SessionState::new(TargetDescription { backend: "sim".into(), name: "fw".into() });
        let firmware = FirmwareInfo { name: "fw".into(), build_id: "1".into(), protocol_version: 1 };
        session.apply(&SessionEvent::SessionStarted { epoch: 1, firmware });
        let announced = asyncmon_protocol::host::MAX_RUNNING_TASKS as u32 + 7;
        for id in 0..announced {
            session.apply(&SessionEvent::TaskSpawned(task(id, "flood")));
        }
        for out in [ps(&session), pstree(&session)] {
            let first = out.lines().next().unwrap();
            assert!(
                first.starts_with("7 running tasks are not shown: the session keeps the newest 1024"),
                "{first}"
            );
        }
    }
}
