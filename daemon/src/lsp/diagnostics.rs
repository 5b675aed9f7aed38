//! Failures as diagnostics: which file and line each failure goes on, what it says, and which
//! files need publishing again. Pure: fed session events, asked for the files that changed.
//!
//! A failure goes on the line that raised it, or where its task was spawned when no raise site is
//! known; a failure whose file is not in the workspace goes on the first workspace folder, so it is
//! never dropped. Failures are grouped by where they were raised, their exception type and the path
//! they took: a group is one diagnostic that shows the latest failure's message and counts the
//! others, so a task that fails every poll never floods the Problems panel. A file shows at most
//! [`MAX_PER_FILE`] groups; a group beyond that is counted in one more diagnostic, and never
//! pushes out a group that is already shown. A new session epoch (the target reset, or a new
//! session) clears everything; a stop keeps them, as a compiler's errors stay until the next build.

use super::paths::resolve;
use asyncmon_protocol::host::wording::{failure_path_words, printable, printable_lines};
use asyncmon_protocol::host::{Failure, FailurePath, Location, SessionEvent, SessionState};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The most failure groups shown per file; the first ones stay.
pub const MAX_PER_FILE: usize = 100;

/// How serious a failure is, as the editor shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Nobody handled it: never retrieved, during shutdown, a panic.
    Error,
    /// A task that awaited it (or a gather) got it and could handle it.
    Warning,
    /// Not a failure: a note about the failures (how many more there are).
    Information,
}

/// Another place that matters: a task in the spawn chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    /// The file in the workspace, when found.
    pub file: Option<PathBuf>,
    /// Where, as the firmware knows it.
    pub location: Location,
    /// What is there.
    pub message: String,
}

/// One diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureDiagnostic {
    /// 0-based line, 0-based column.
    pub line: u32,
    /// 0-based column.
    pub column: u32,
    /// How serious.
    pub severity: Severity,
    /// The exception type and message, and the task.
    pub message: String,
    /// The path taken, as a short code (`never-retrieved`, `awaited`, ...).
    pub code: &'static str,
    /// What kind of failure: the exception's type, or the handler's message when there is none.
    /// With the place and the path it makes the group.
    pub kind: String,
    /// The spawn chain up to main.
    pub related: Vec<Related>,
    /// The latest failure's whole context, in Markdown, for a hover.
    pub hover: String,
    /// How many failures of this group were raised here.
    pub count: u32,
}

impl FailureDiagnostic {
    /// The hover: the latest failure's whole context, then how many more there were like it.
    pub fn hover_text(&self) -> String {
        match self.count {
            1 => self.hover.clone(),
            n => format!("{}\n*and {} more like it*\n", self.hover, n - 1),
        }
    }
}

/// Every failure diagnostic of the session, by file.
#[derive(Debug, Default)]
pub struct Diagnostics {
    roots: Vec<PathBuf>,
    files: BTreeMap<PathBuf, Vec<FailureDiagnostic>>,
    /// Per file, the failures of groups past [`MAX_PER_FILE`].
    hidden: BTreeMap<PathBuf, u32>,
    dirty: BTreeSet<PathBuf>,
}

impl Diagnostics {
    /// Diagnostics for a workspace with these folders.
    pub fn new(roots: Vec<PathBuf>) -> Self {
        Diagnostics { roots, ..Default::default() }
    }

    /// The workspace folders firmware paths are mapped into.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// Folds in an event; `session` already includes it.
    pub fn apply(&mut self, session: &SessionState, event: &SessionEvent) {
        match event {
            SessionEvent::SessionStarted { .. } => self.clear(),
            SessionEvent::Failure(failure) => self.add(session, failure),
            _ => {}
        }
    }

    /// Rebuilds everything from a snapshot.
    pub fn reset_to(&mut self, session: &SessionState) {
        self.clear();
        for failure in session.failures.iter().filter(|f| f.epoch == session.epoch) {
            self.add(session, failure);
        }
    }

    /// The files whose diagnostics changed since the last call, with their diagnostics now (empty:
    /// clear the file); a file with groups past [`MAX_PER_FILE`] gets one more, saying how many.
    pub fn take_changed(&mut self) -> Vec<(PathBuf, Vec<FailureDiagnostic>)> {
        std::mem::take(&mut self.dirty)
            .into_iter()
            .map(|file| {
                let mut diagnostics = self.files.get(&file).cloned().unwrap_or_default();
                if let Some(&hidden) = self.hidden.get(&file) {
                    diagnostics.push(hidden_note(hidden));
                }
                (file, diagnostics)
            })
            .collect()
    }

    /// The diagnostics of `file`.
    pub fn of(&self, file: &std::path::Path) -> &[FailureDiagnostic] {
        self.files.get(file).map_or(&[], Vec::as_slice)
    }

    /// Forgets every failure (a new session, or the user's "Clear failures").
    pub fn clear(&mut self) {
        self.hidden.clear();
        for file in std::mem::take(&mut self.files).into_keys() {
            self.dirty.insert(file);
        }
    }

    fn add(&mut self, session: &SessionState, failure: &Failure) {
        let at = failure
            .exception
            .as_ref()
            .and_then(|e| e.raised_at.clone())
            .or_else(|| failure.task.as_ref().map(|t| t.spawned_at.clone()));
        let found = at.as_ref().and_then(|at| resolve(&self.roots, &at.file));
        let Some(file) = found.clone().or_else(|| self.roots.first().cloned()) else {
            return; // No workspace folder: nowhere to show anything.
        };
        let (line, column) = match (&found, &at) {
            (Some(_), Some(at)) => (at.line.saturating_sub(1), at.column.saturating_sub(1)),
            _ => (0, 0),
        };
        let diagnostic = self.diagnostic(session, failure, at.as_ref(), found.is_some(), line, column);
        let list = self.files.entry(file.clone()).or_default();
        let group = list.iter().position(|d| {
            (d.line, d.column, d.code, &d.kind) == (line, column, diagnostic.code, &diagnostic.kind)
        });
        match group {
            Some(index) => {
                let count = list[index].count + 1;
                list[index] = FailureDiagnostic { count, ..diagnostic };
            }
            None if list.len() < MAX_PER_FILE => list.push(diagnostic),
            None => *self.hidden.entry(file.clone()).or_default() += 1,
        }
        self.dirty.insert(file);
    }

    fn diagnostic(
        &self,
        session: &SessionState,
        failure: &Failure,
        at: Option<&Location>,
        in_workspace: bool,
        line: u32,
        column: u32,
    ) -> FailureDiagnostic {
        let what = match &failure.exception {
            Some(e) => format!("{}: {}", short_type(&e.type_name), e.message),
            None => failure.message.clone(),
        };
        let task = failure.task.as_ref().map_or(String::new(), |t| format!(" — in task {}", t.name));
        let elsewhere = match (in_workspace, at) {
            (false, Some(at)) => format!(" (at {at}, not in this workspace)"),
            (false, None) => " (no source location known)".to_string(),
            _ => String::new(),
        };
        let chain = failure.task.as_ref().map_or_else(Vec::new, |t| session.spawn_chain(failure.epoch, t.id));
        let related = chain
            .windows(2)
            .map(|pair| Related {
                file: resolve(&self.roots, &pair[0].spawned_at.file),
                location: pair[0].spawned_at.clone(),
                message: printable(&format!("{} spawned by {} here", pair[0].name, pair[1].name))
                    .into_owned(),
            })
            .collect();
        let mut hover = format!("**{what}**\n\n");
        if let Some(at) = failure.exception.as_ref().and_then(|e| e.raised_at.as_ref()) {
            hover += &format!("- raised at `{at}`\n");
        }
        if let Some(task) = &failure.task {
            hover += &format!("- task `{}` (#{}), spawned at `{}`\n", task.name, task.id, task.spawned_at);
            let names: Vec<&str> = chain.iter().map(|t| t.name.as_str()).collect();
            hover += &format!("- spawn chain: {}\n", names.join(" ← "));
        }
        hover += &format!("- path: {}\n- handler: {}\n", failure_path_words(failure.path), failure.message);
        FailureDiagnostic {
            line,
            column,
            severity: match failure.path {
                FailurePath::Awaited | FailurePath::Gathered => Severity::Warning,
                _ => Severity::Error,
            },
            // What the firmware said is shown, never obeyed (a control character in a name).
            message: printable(&format!("{what}{task}{elsewhere}")).into_owned(),
            code: path_code(failure.path),
            kind: failure.exception.as_ref().map_or_else(|| failure.message.clone(), |e| e.type_name.clone()),
            related,
            hover: printable_lines(&hover),
            count: 1,
        }
    }
}

/// The note on a file whose failure groups are past [`MAX_PER_FILE`].
fn hidden_note(hidden: u32) -> FailureDiagnostic {
    FailureDiagnostic {
        line: 0,
        column: 0,
        severity: Severity::Information,
        message: format!(
            "{hidden} more failures of other kinds in this file are not shown here (at most {MAX_PER_FILE} kinds a file); asyncmon monitor lists every one"
        ),
        code: "more-failures",
        kind: String::new(),
        related: Vec::new(),
        hover: String::new(),
        count: 1,
    }
}

fn short_type(type_name: &str) -> &str {
    type_name.rsplit("::").next().unwrap_or(type_name)
}

fn path_code(path: FailurePath) -> &'static str {
    match path {
        FailurePath::Unretrieved => "never-retrieved",
        FailurePath::Awaited => "awaited",
        FailurePath::Gathered => "gathered",
        FailurePath::DuringShutdown => "during-shutdown",
        FailurePath::Panic => "panic",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use asyncmon_protocol::host::{Exception, FirmwareInfo, TargetDescription, Task, TaskState};

    fn loc(file: &str, line: u32) -> Location {
        Location { file: file.into(), line, column: 9 }
    }

    fn task(id: u32, name: &str, parent: Option<u32>, line: u32) -> Task {
        Task {
            epoch: 1,
            id,
            name: name.into(),
            spawned_at: loc("app/src/main.rs", line),
            parent,
            state: TaskState::Running,
            storage_bytes: None,
            future_bytes: None,
            stats: None,
        }
    }

    fn failure(seq: u64, file: &str, line: u32, path: FailurePath) -> Failure {
        Failure {
            seq,
            epoch: 1,
            at_ms: seq,
            message: "Task exception was never retrieved".into(),
            exception: Some(Exception {
                type_name: "app::SensorError".into(),
                message: "sensor timed out".into(),
                raised_at: Some(loc(file, line)),
            }),
            task: Some(task(5, "sensor_poll", Some(2), 30)),
            path,
        }
    }

    struct Fixture {
        dir: tempfile::TempDir,
        session: SessionState,
        diagnostics: Diagnostics,
    }

    impl Fixture {
        fn new() -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("app/src")).unwrap();
            std::fs::write(dir.path().join("app/src/main.rs"), "").unwrap();
            std::fs::write(dir.path().join("app/src/sensor.rs"), "").unwrap();
            let mut session =
                SessionState::new(TargetDescription { backend: "sim".into(), name: "x".into() });
            let started = SessionEvent::SessionStarted {
                epoch: 1,
                firmware: FirmwareInfo { name: "app".into(), build_id: "1".into(), protocol_version: 1 },
            };
            session.apply(&started);
            for t in [
                task(0, "main", None, 1),
                task(2, "telemetry", Some(0), 20),
                task(5, "sensor_poll", Some(2), 30),
            ] {
                session.apply(&SessionEvent::TaskSpawned(t));
            }
            let diagnostics = Diagnostics::new(vec![dir.path().canonicalize().unwrap()]);
            Fixture { dir, session, diagnostics }
        }

        fn send(&mut self, event: SessionEvent) {
            self.session.apply(&event);
            self.diagnostics.apply(&self.session, &event);
        }

        fn file(&self, p: &str) -> PathBuf {
            self.dir.path().join(p).canonicalize().unwrap()
        }
    }

    #[test]
    fn a_failure_goes_on_its_raise_line_with_the_spawn_chain_related() {
        let mut f = Fixture::new();
        f.send(SessionEvent::Failure(failure(1, "app/src/sensor.rs", 42, FailurePath::Unretrieved)));
        let changed = f.diagnostics.take_changed();
        assert_eq!(changed.len(), 1);
        let (file, list) = &changed[0];
        assert_eq!(file, &f.file("app/src/sensor.rs"));
        let d = &list[0];
        assert_eq!((d.line, d.column, d.severity, d.code), (41, 8, Severity::Error, "never-retrieved"));
        assert_eq!(d.message, "SensorError: sensor timed out — in task sensor_poll");
        let related: Vec<&str> = d.related.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(related, ["sensor_poll spawned by telemetry here", "telemetry spawned by main here"]);
        assert_eq!(d.related[0].file, Some(f.file("app/src/main.rs")));
        assert!(d.hover.contains("spawn chain: sensor_poll ← telemetry ← main"), "{}", d.hover);
        assert!(f.diagnostics.take_changed().is_empty(), "nothing changed since");
    }

    #[test]
    fn a_terminal_escape_in_a_failure_reaches_the_editor_written_out() {
        let mut f = Fixture::new();
        let mut evil = failure(1, "app/src/sensor.rs", 42, FailurePath::Unretrieved);
        evil.exception.as_mut().unwrap().message = "boom\u{1b}]0;pwned\u{7}\u{202e}".into();
        f.send(SessionEvent::Failure(evil));
        let changed = f.diagnostics.take_changed();
        let d = &changed[0].1[0];
        for text in [&d.message, &d.hover] {
            assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}'), "{text:?}");
            assert!(text.contains("boom\\x1b]0;pwned\\x07\\u{202e}"), "{text}");
        }
    }

    #[test]
    fn a_failure_in_an_unknown_file_still_appears_on_the_workspace() {
        let mut f = Fixture::new();
        f.send(SessionEvent::Failure(failure(
            1,
            "/rustc/1234/library/core/src/result.rs",
            7,
            FailurePath::Awaited,
        )));
        let changed = f.diagnostics.take_changed();
        let (file, list) = &changed[0];
        assert_eq!(file, &f.dir.path().canonicalize().unwrap());
        assert_eq!((list[0].line, list[0].severity), (0, Severity::Warning));
        assert!(list[0].message.contains("not in this workspace"), "{}", list[0].message);
    }

    /// The demo's shape: a failure whose message carries its poll number, raised every poll.
    fn numbered(seq: u64, path: FailurePath) -> Failure {
        let mut f = failure(seq, "app/src/sensor.rs", 42, path);
        f.exception.as_mut().unwrap().message = format!("sensor poll #{seq} timed out");
        f
    }

    #[test]
    fn a_burst_on_one_line_is_one_diagnostic_showing_the_latest_and_a_reset_clears_everything() {
        let mut f = Fixture::new();
        for seq in 0..500 {
            f.send(SessionEvent::Failure(numbered(seq, FailurePath::Unretrieved)));
        }
        let changed = f.diagnostics.take_changed();
        assert_eq!(changed.len(), 1, "one publication for the burst");
        assert_eq!(changed[0].1.len(), 1, "messages that differ only in their numbers are one group");
        let group = &changed[0].1[0];
        assert_eq!(group.count, 500);
        assert!(group.message.starts_with("SensorError: sensor poll #499 timed out"), "{}", group.message);
        let hover = group.hover_text();
        assert!(
            hover.contains("sensor poll #499") && !hover.contains("#498"),
            "the latest's context: {hover}"
        );
        assert!(hover.ends_with("*and 499 more like it*\n"), "{hover}");
        f.send(SessionEvent::SessionStarted {
            epoch: 2,
            firmware: FirmwareInfo { name: "app".into(), build_id: "1".into(), protocol_version: 1 },
        });
        let changed = f.diagnostics.take_changed();
        assert_eq!(changed, [(f.file("app/src/sensor.rs"), vec![])], "the file is cleared");
    }

    #[test]
    fn the_same_raise_site_by_other_paths_stays_distinct_through_a_flood() {
        let mut f = Fixture::new();
        f.send(SessionEvent::Failure(numbered(1, FailurePath::Awaited)));
        f.send(SessionEvent::Failure(numbered(2, FailurePath::Gathered)));
        for seq in 3..1000 {
            f.send(SessionEvent::Failure(numbered(seq, FailurePath::Unretrieved)));
        }
        let list = f.diagnostics.of(&f.file("app/src/sensor.rs"));
        let groups: Vec<(&str, u32)> = list.iter().map(|d| (d.code, d.count)).collect();
        assert_eq!(groups, [("awaited", 1), ("gathered", 1), ("never-retrieved", 997)]);
    }

    #[test]
    fn groups_past_the_cap_are_counted_and_never_push_out_a_shown_one() {
        let mut f = Fixture::new();
        for line in 1..=(MAX_PER_FILE as u32 + 20) {
            f.send(SessionEvent::Failure(failure(
                u64::from(line),
                "app/src/sensor.rs",
                line,
                FailurePath::Unretrieved,
            )));
        }
        // A repeat of the first group after the cap still counts there.
        f.send(SessionEvent::Failure(failure(999, "app/src/sensor.rs", 1, FailurePath::Unretrieved)));
        let list = f.diagnostics.of(&f.file("app/src/sensor.rs"));
        assert_eq!(list.len(), MAX_PER_FILE);
        assert_eq!((list[0].line, list[0].count), (0, 2), "the first group is kept and counts its repeat");
        let changed = f.diagnostics.take_changed();
        let published = &changed[0].1;
        assert_eq!(published.len(), MAX_PER_FILE + 1);
        let note = published.last().unwrap();
        assert_eq!((note.code, note.severity), ("more-failures", Severity::Information));
        assert!(note.message.starts_with("20 more failures of other kinds"), "{}", note.message);
        f.diagnostics.clear();
        assert_eq!(
            f.diagnostics.take_changed(),
            [(f.file("app/src/sensor.rs"), vec![])],
            "cleared, note too"
        );
    }
}
