//! Where tasks wait, at the source lines of their `.await`s: an inlay hint at the end of each line
//! where a running task is suspended (`← sensor_poll, telemetry waiting here · 3.2 s`) and, in the
//! hover, each such task's whole await trace. From the session's await traces, with firmware paths
//! mapped to the workspace as diagnostics are ([`super::paths`]).

use super::paths::resolve;
use asyncmon_protocol::host::wording::{frame_words, printable, printable_lines, wait_words};
use asyncmon_protocol::host::{FrameState, SessionState, TaskState};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The tasks suspended at one line of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingHere {
    /// The line, 0-based (as LSP counts).
    pub line: u32,
    /// The tasks, in id order: name and id.
    pub tasks: Vec<(String, u32)>,
    /// How long the longest-waiting of them has waited, in milliseconds.
    pub longest_ms: u64,
    /// Each task's whole trace in words, for the hover.
    pub traces: Vec<String>,
}

impl WaitingHere {
    /// The inlay hint's text.
    pub fn label(&self) -> String {
        let names: Vec<&str> = self.tasks.iter().map(|(name, _)| name.as_str()).collect();
        printable(&format!("← {} waiting here · {}", names.join(", "), wait_words(self.longest_ms)))
            .into_owned()
    }

    /// The hover's text: each task and its trace.
    pub fn hover_text(&self) -> String {
        let traces = printable_lines(&self.traces.join("\n\n"));
        format!("**Waiting here** (await traces, outermost future first)\n\n{traces}")
    }
}

/// Every line of `file` (a workspace file) where a running task of the current epoch is suspended
/// at an `.await`, in line order.
pub fn waiting_in(session: &SessionState, roots: &[PathBuf], file: &Path) -> Vec<WaitingHere> {
    let mut lines: BTreeMap<u32, WaitingHere> = BTreeMap::new();
    let running = session.tasks.iter().filter(|t| t.epoch == session.epoch && t.state == TaskState::Running);
    for task in running {
        let Some(trace) = session.trace(task.id) else { continue };
        let waited =
            session.waiting_since(task.id).map_or(0, |since| session.traces.at_ms.saturating_sub(since));
        let words = trace
            .frames
            .iter()
            .map(|f| format!("{}└ {}", "  ".repeat(usize::from(f.depth)), frame_words(f, None)))
            .collect::<Vec<_>>()
            .join("  \n");
        for frame in trace.frames.iter().filter(|f| f.state == FrameState::Awaiting) {
            let Some(at) = &frame.location else { continue };
            if resolve(roots, &at.file).as_deref() != Some(file) || at.line == 0 {
                continue;
            }
            let here = lines.entry(at.line - 1).or_insert_with(|| WaitingHere {
                line: at.line - 1,
                tasks: Vec::new(),
                longest_ms: 0,
                traces: Vec::new(),
            });
            if !here.tasks.iter().any(|(_, id)| *id == task.id) {
                here.tasks.push((task.name.clone(), task.id));
                here.longest_ms = here.longest_ms.max(waited);
                here.traces.push(format!(
                    "{} #{} — waiting {}:  \n{words}",
                    task.name,
                    task.id,
                    wait_words(waited)
                ));
            }
        }
    }
    lines.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use asyncmon_protocol::host::*;

    fn session() -> SessionState {
        let mut s = SessionState::new(TargetDescription { backend: "sim".into(), name: "app".into() });
        s.apply(&SessionEvent::SessionStarted {
            epoch: 1,
            firmware: FirmwareInfo { name: "app".into(), build_id: "1".into(), protocol_version: 1 },
        });
        for (id, name) in [(1, "telemetry"), (2, "sensor_poll"), (3, "done")] {
            s.apply(&SessionEvent::TaskSpawned(Task {
                epoch: 1,
                id,
                name: name.into(),
                spawned_at: Location { file: "src/app.rs".into(), line: 1, column: 1 },
                parent: Some(0),
                state: TaskState::Running,
                storage_bytes: None,
                future_bytes: None,
                stats: None,
            }));
        }
        let at = |line| Some(Location { file: "/ci/build/src/app.rs".into(), line, column: 0 });
        let awaiting = |depth, function: &str, line| AwaitFrame {
            depth,
            function: function.into(),
            location: at(line),
            state: FrameState::Awaiting,
        };
        let trace = |task, frames, since_ms| TaskTrace { task, frames, since_ms };
        s.apply(&SessionEvent::AwaitTraces(AwaitTraces {
            epoch: 1,
            at_ms: 5_000,
            tasks: vec![
                trace(1, vec![awaiting(0, "app::telemetry", 3), awaiting(1, "app::read", 2)], 1_800),
                trace(2, vec![awaiting(0, "app::sensor_poll", 2)], 4_000),
                trace(3, vec![awaiting(0, "app::done", 3)], 0),
            ],
            unavailable: None,
        }));
        s.apply(&SessionEvent::TaskFinished { id: 3, outcome: TaskOutcome::Completed });
        s
    }

    #[test]
    fn each_await_line_names_the_tasks_suspended_there_and_the_longest_wait() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/app.rs"), "a\nb\nc\n").unwrap();
        let file = dir.path().join("src/app.rs").canonicalize().unwrap();
        let roots = [dir.path().to_path_buf()];
        let here = waiting_in(&session(), &roots, &file);
        assert_eq!(here.len(), 2, "{here:#?}");
        assert_eq!(here[0].line, 1);
        assert_eq!(here[0].label(), "← telemetry, sensor_poll waiting here · 3.2 s");
        assert_eq!(here[1].label(), "← telemetry waiting here · 3.2 s", "a finished task waits nowhere");
        assert!(here[0].hover_text().contains("telemetry #1 — waiting 3.2 s"), "{}", here[0].hover_text());
        assert!(here[0].hover_text().contains("  └ app::read at /ci/build/src/app.rs:2"));
        let elsewhere = dir.path().join("other.rs");
        assert!(waiting_in(&session(), &roots, &elsewhere).is_empty());
    }
}
