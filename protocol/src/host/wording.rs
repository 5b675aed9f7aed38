//! How the host side phrases a session's outcomes, once for every client (the monitor, `asyncmon
//! stop`, the language server and through it the editor): one home for the words, so the terminal
//! and the editor never say the same thing two ways.

use super::{
    AwaitFrame, Failure, FailurePath, FrameState, InterruptReport, Location, SessionState, TaskOutcome,
    TaskTrace,
};
use std::borrow::Cow;
use std::format;
use std::string::String;
use std::vec::Vec;

/// `text` as a terminal or an editor may show it: control characters (an ESC that would start a
/// terminal escape, a newline that would break a row, C1 controls, DEL) and the bidirectional
/// overrides that reorder what is read ("trojan source") are written out as `\x1b`, `\n`,
/// `\u{202e}`. Every string that comes from a firmware (names, paths, messages, DWARF) goes
/// through this before a client prints it.
pub fn printable(text: &str) -> Cow<'_, str> {
    let escaped = |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if escaped(c) && (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if escaped(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`printable`] for text of several lines: each line on its own, the line breaks kept.
pub fn printable_lines(text: &str) -> String {
    text.lines().map(printable).collect::<Vec<_>>().join("\n")
}

/// How a task ended during a shutdown, in a word or two.
pub fn ending_words(outcome: TaskOutcome) -> &'static str {
    match outcome {
        TaskOutcome::Completed => "completed",
        TaskOutcome::Failed => "failed",
        TaskOutcome::Cancelled => "cancelled",
        TaskOutcome::FailedDuringCleanup => "failed in cleanup",
        TaskOutcome::DroppedAtDeadline => "dropped at deadline",
    }
}

/// One line for a shutdown: the tasks grouped by how they ended
/// (`KeyboardInterrupt: cancelled main, blinky; completed telemetry (3 tasks)`).
pub fn interrupt_summary(report: &InterruptReport) -> String {
    let order = [
        TaskOutcome::Cancelled,
        TaskOutcome::Completed,
        TaskOutcome::FailedDuringCleanup,
        TaskOutcome::Failed,
        TaskOutcome::DroppedAtDeadline,
    ];
    let groups: Vec<String> = order
        .iter()
        .filter_map(|outcome| {
            let names: Vec<&str> =
                report.tasks.iter().filter(|t| t.outcome == *outcome).map(|t| t.name.as_str()).collect();
            (!names.is_empty()).then(|| format!("{} {}", ending_words(*outcome), names.join(", ")))
        })
        .collect();
    let hard = if report.hard_stop { " (hard stop)" } else { "" };
    format!("KeyboardInterrupt{hard}: {} ({} tasks)", groups.join("; "), report.total)
}

/// How long a task has waited, in words: `850 ms`, `3.2 s`.
pub fn wait_words(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// A source location as a person reads it: the path relative to `base` (the workspace, the current
/// directory) when it lies inside, else whole.
pub fn location_words(location: &Location, base: Option<&str>) -> String {
    let file = base
        .and_then(|base| location.file.strip_prefix(base))
        .map(|rest| rest.trim_start_matches('/'))
        .unwrap_or(&location.file);
    format!("{file}:{}", location.line)
}

/// One frame of an await trace, in words: `app::telemetry at src/app.rs:42`,
/// `asyncmon_agent::time::Sleep: sleep: a timer`.
pub fn frame_words(frame: &AwaitFrame, base: Option<&str>) -> String {
    let at = frame.location.as_ref().map(|l| location_words(l, base));
    let function = &frame.function;
    match (&frame.state, at) {
        (FrameState::Awaiting, Some(at)) => format!("{function} at {at}"),
        (FrameState::Awaiting, None) => format!("{function} (awaiting)"),
        (FrameState::NotStarted, Some(at)) => format!("{function} (not started yet; {at})"),
        (FrameState::NotStarted, None) => format!("{function} (not started yet)"),
        (FrameState::Returned, _) => format!("{function} (returned)"),
        (FrameState::Panicked, _) => format!("{function} (panicked)"),
        (FrameState::Waiting { description: Some(what) }, _) => format!("{function}: {what}"),
        (FrameState::Waiting { description: None }, _) => function.clone(),
        (FrameState::Unknown { reason }, _) => format!("{function}: unknown ({reason})"),
    }
}

/// What a task waits for, in a few words: the innermost frame's description, or its type.
pub fn waiting_for_words(trace: &TaskTrace) -> String {
    match trace.innermost() {
        None => "-".into(),
        Some(frame) => match &frame.state {
            FrameState::Waiting { description: Some(what) } => what.clone(),
            FrameState::Waiting { description: None } => short_type(&frame.function),
            FrameState::NotStarted => "its first poll".into(),
            FrameState::Returned => "nothing: it returned".into(),
            FrameState::Panicked => "nothing: it panicked".into(),
            FrameState::Awaiting => "-".into(),
            FrameState::Unknown { reason } => format!("unknown ({reason})"),
        },
    }
}

/// A type's name without its path and the paths of its arguments: `Timer`, `Receiver<u32>`.
fn short_type(name: &str) -> String {
    let mut out = String::new();
    let mut segment = String::new();
    for c in name.chars() {
        match c {
            ':' => segment.clear(),
            '<' | '>' | ',' | ' ' | '(' | ')' | '[' | ']' | ';' | '&' | '*' => {
                out.push_str(&segment);
                segment.clear();
                out.push(c);
            }
            _ => segment.push(c),
        }
    }
    out.push_str(&segment);
    out
}

/// An embassy firmware's answer to a stop, in words: embassy tasks cannot be cancelled from
/// outside, so this is never a KeyboardInterrupt.
pub fn stop_handled_words(hook_ran: bool, hard: bool) -> String {
    let what = if hard { "hard stop" } else { "stop" };
    if hook_ran {
        format!("{what}: the firmware's stop hook ran (embassy executor: its tasks cannot be cancelled, so there is no KeyboardInterrupt)")
    } else {
        format!("{what}: nothing was stopped — the firmware registered no stop hook (asyncmon_embassy::set_stop_hook) and embassy tasks cannot be cancelled from outside; reset the target instead (asyncmon reset)")
    }
}

/// The path a failure took, in words (the editor's hover, the debug view's exception details, a
/// runner's plain output).
pub fn failure_path_words(path: FailurePath) -> &'static str {
    match path {
        FailurePath::Unretrieved => {
            "never retrieved: nobody awaited the task, so the exception handler got it"
        }
        FailurePath::Awaited => "retrieved by the task that awaited it",
        FailurePath::Gathered => "came out of a gather, which cancelled the other tasks",
        FailurePath::DuringShutdown => "raised while a stop request was carried out",
        FailurePath::Panic => "a panic: the firmware halted",
    }
}

/// A failure in plain lines: what was raised, then where, in which task, its spawn chain, the
/// path it took and the handler's message.
pub fn failure_context(session: &SessionState, failure: &Failure) -> Vec<String> {
    let mut lines = Vec::new();
    match &failure.exception {
        Some(e) => lines.push(format!("{}: {}", e.type_name, e.message)),
        None => lines.push(failure.message.clone()),
    }
    if let Some(at) = failure.exception.as_ref().and_then(|e| e.raised_at.as_ref()) {
        lines.push(format!("raised at {at}"));
    }
    if let Some(task) = &failure.task {
        // An embassy task has no spawn location (line 0).
        match task.spawned_at.line {
            0 => lines.push(format!("in task {} (#{})", task.name, task.id)),
            _ => lines.push(format!("in task {} (#{}), spawned at {}", task.name, task.id, task.spawned_at)),
        }
        let chain: Vec<&str> =
            session.spawn_chain(failure.epoch, task.id).iter().map(|t| t.name.as_str()).collect();
        if chain.len() > 1 {
            lines.push(format!("spawn chain: {}", chain.join(" ← ")));
        }
    }
    lines.push(format!("path: {}", failure_path_words(failure.path)));
    if failure.exception.is_some() {
        lines.push(format!("handler: {}", failure.message));
    }
    lines
}

/// Why a firmware halted, from its panic: the reason of [`super::TargetState::Halted`]
/// ("panic in faulty at src/tasks.rs:54").
pub fn halted_words(failure: &Failure) -> String {
    let mut words = String::from("panic");
    if let Some(task) = &failure.task {
        words.push_str(&format!(" in {}", task.name));
    }
    if let Some(at) = failure.exception.as_ref().and_then(|e| e.raised_at.as_ref()) {
        words.push_str(&format!(" at {at}"));
    }
    words
}

/// What the session does not show, in words, one line each: the tasks it stopped keeping (past
/// [`super::MAX_RUNNING_TASKS`]) and what a snapshot left out to fit one message. Empty for a
/// session that shows everything.
pub fn left_out_words(session: &SessionState) -> Vec<String> {
    let mut lines = Vec::new();
    if session.tasks_dropped > 0 {
        lines.push(format!(
            "{} running tasks are not shown: the session keeps the newest {} (the firmware announced more and never ended them)",
            session.tasks_dropped,
            super::MAX_RUNNING_TASKS
        ));
    }
    if let Some(trimmed) = &session.trimmed {
        lines.push(trimmed.clone());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::TaskEndingReport;
    use std::vec;

    fn ending(name: &str, outcome: TaskOutcome) -> TaskEndingReport {
        TaskEndingReport { id: 0, name: name.into(), outcome }
    }

    #[test]
    fn a_summary_groups_tasks_by_how_they_ended() {
        let report = InterruptReport {
            request_id: 1,
            tasks: vec![
                ending("main", TaskOutcome::Cancelled),
                ending("telemetry", TaskOutcome::Completed),
                ending("blinky", TaskOutcome::Cancelled),
                ending("uart", TaskOutcome::DroppedAtDeadline),
            ],
            total: 5,
            hard_stop: true,
        };
        assert_eq!(
            interrupt_summary(&report),
            "KeyboardInterrupt (hard stop): cancelled main, blinky; completed telemetry; dropped at deadline uart (5 tasks)"
        );
    }

    #[test]
    fn trace_frames_are_said_with_paths_relative_to_the_workspace() {
        let at = Location { file: "/work/app/src/main.rs".into(), line: 42, column: 0 };
        let frame = |state, location: Option<Location>| AwaitFrame {
            depth: 0,
            function: "app::telemetry".into(),
            location,
            state,
        };
        assert_eq!(
            frame_words(&frame(FrameState::Awaiting, Some(at.clone())), Some("/work/app")),
            "app::telemetry at src/main.rs:42"
        );
        assert_eq!(
            frame_words(&frame(FrameState::NotStarted, Some(at.clone())), Some("/elsewhere")),
            "app::telemetry (not started yet; /work/app/src/main.rs:42)"
        );
        let sleep = AwaitFrame {
            depth: 1,
            function: "asyncmon_agent::time::Sleep".into(),
            location: None,
            state: FrameState::Waiting { description: Some("sleep: a timer".into()) },
        };
        assert_eq!(frame_words(&sleep, None), "asyncmon_agent::time::Sleep: sleep: a timer");
        let trace =
            TaskTrace { task: 1, frames: vec![frame(FrameState::Awaiting, Some(at)), sleep], since_ms: 0 };
        assert_eq!(waiting_for_words(&trace), "sleep: a timer");
        let receiver = AwaitFrame {
            depth: 1,
            function: "app::chan::Receive<core::option::Option<u32>>".into(),
            location: None,
            state: FrameState::Waiting { description: None },
        };
        let trace = TaskTrace { task: 1, frames: vec![receiver], since_ms: 0 };
        assert_eq!(waiting_for_words(&trace), "Receive<Option<u32>>");
    }

    #[test]
    fn a_halt_names_the_task_and_the_line() {
        let mut failure = Failure {
            seq: 1,
            epoch: 1,
            at_ms: 0,
            message: "the firmware panicked".into(),
            exception: Some(super::super::Exception {
                type_name: "panic".into(),
                message: "boom".into(),
                raised_at: Some(Location { file: "src/tasks.rs".into(), line: 71, column: 5 }),
            }),
            task: None,
            path: FailurePath::Panic,
        };
        assert_eq!(halted_words(&failure), "panic at src/tasks.rs:71:5");
        failure.exception = None;
        assert_eq!(halted_words(&failure), "panic");
    }

    #[test]
    fn what_a_firmware_says_is_printed_without_its_escapes() {
        assert!(matches!(printable("ticker"), Cow::Borrowed("ticker")));
        assert_eq!(printable("\u{1b}]0;pwned\u{7}name"), "\\x1b]0;pwned\\x07name");
        assert_eq!(printable("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(printable("\u{9b}2J"), "\\x9b2J", "a C1 CSI");
        assert_eq!(printable("admin\u{202e}gpj.exe"), "admin\\u{202e}gpj.exe");
        assert_eq!(printable("größe ✓"), "größe ✓", "printable Unicode stays");
        assert_eq!(printable_lines("one\u{1b}[2J\ntwo"), "one\\x1b[2J\ntwo");
    }
}
