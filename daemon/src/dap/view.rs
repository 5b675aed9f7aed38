//! The session as the debug view shows it: tasks are threads, a task's await trace is its call
//! stack (innermost `.await` on top), a failure is an exception. Pure functions of the session; the
//! adapter ([`super::adapter`]) answers requests with them.

use crate::lsp::paths::resolve;
use asyncmon_protocol::host::wording::failure_path_words;
use asyncmon_protocol::host::wording::{
    frame_words, printable, printable_lines, wait_words, waiting_for_words,
};
use asyncmon_protocol::host::{
    AwaitFrame, Failure, FailurePath, FrameState, Location, SessionState, Task, TaskId, TaskState,
};
use dap::responses::ExceptionInfoResponse;
use dap::types::{
    ExceptionBreakMode, ExceptionDetails, PresentationHint, Scope, Source, StackFrame,
    StackFramePresentationhint, Thread, Variable,
};
use std::path::PathBuf;

/// How many frame ids a thread has room for: frame ids are `thread * FRAMES_PER_THREAD + index`.
pub const FRAMES_PER_THREAD: i64 = 1000;

/// The thread id of a task. DAP clients treat 0 as "no thread", and main is task 0.
pub fn thread_id(task: TaskId) -> i64 {
    i64::from(task) + 1
}

/// The task of a thread id.
pub fn task_of(thread: i64) -> Option<TaskId> {
    TaskId::try_from(thread - 1).ok()
}

/// The thread a frame id belongs to.
pub fn thread_of_frame(frame: i64) -> i64 {
    frame / FRAMES_PER_THREAD
}

/// The session's running tasks of the current epoch, as threads (`#3 telemetry`), and the tasks
/// of `failed` (the view stopped on their failures; they have ended: `#13 sensor_poll (failed)`).
pub fn threads(session: &SessionState, failed: &[Failure]) -> Vec<Thread> {
    let mut threads: Vec<Thread> = running(session)
        .map(|t| Thread { id: thread_id(t.id), name: format!("#{} {}", t.id, printable(&t.name)) })
        .collect();
    for task in failed.iter().filter_map(|f| f.task.as_ref()) {
        if !threads.iter().any(|t| t.id == thread_id(task.id)) {
            threads.push(Thread {
                id: thread_id(task.id),
                name: format!("#{} {} (failed)", task.id, printable(&task.name)),
            });
        }
    }
    threads
}

fn running(session: &SessionState) -> impl Iterator<Item = &Task> {
    session.tasks.iter().filter(move |t| t.epoch == session.epoch && t.state == TaskState::Running)
}

/// A task's call stack: its await trace from the innermost future out to the task's own future.
/// Frames inlined away or without debug info are not invented: the trace says what is missing.
/// Without a trace (none read yet, or none can be read from this target), one frame says why and
/// points at the task's spawn line.
pub fn stack_frames(session: &SessionState, task: TaskId, roots: &[PathBuf]) -> Vec<StackFrame> {
    let thread = thread_id(task);
    let frame_id = |index: usize| thread * FRAMES_PER_THREAD + index as i64;
    let chain = session.trace(task).map(|trace| main_chain(&trace.frames)).unwrap_or_default();
    if chain.is_empty() {
        let Some(t) = session.task(task) else { return Vec::new() };
        let why = if session.traces.unavailable.is_some() {
            "no await trace from this target"
        } else {
            "no await trace yet"
        };
        let mut frame =
            located(frame_id(0), format!("{} (spawned here; {why})", t.name), &t.spawned_at, roots);
        frame.presentation_hint = Some(StackFramePresentationhint::Label);
        return vec![frame];
    }
    chain
        .iter()
        .rev()
        .enumerate()
        .map(|(index, frame)| {
            let name = match frame.state {
                FrameState::Awaiting => frame.function.clone(),
                _ => frame_words(&AwaitFrame { location: None, ..(*frame).clone() }, None),
            };
            match &frame.location {
                Some(at) => located(frame_id(index), name, at, roots),
                None => StackFrame {
                    id: frame_id(index),
                    name: printable(&name).into_owned(),
                    source: None,
                    line: 0,
                    column: 0,
                    presentation_hint: Some(match frame.state {
                        FrameState::Unknown { .. } => StackFramePresentationhint::Subtle,
                        _ => StackFramePresentationhint::Normal,
                    }),
                    ..Default::default()
                },
            }
        })
        .collect()
}

/// The call stack of a task that failed, as asyncio's traceback of a task tells it: where the
/// exception was raised, then where the task was spawned, and where each task up the spawn chain
/// was ("the path up is not the path that created the task": this is the path that created it).
pub fn failure_frames(session: &SessionState, failure: &Failure, roots: &[PathBuf]) -> Vec<StackFrame> {
    let Some(task) = &failure.task else { return Vec::new() };
    let thread = thread_id(task.id);
    let mut frames = Vec::new();
    let what = failure.exception.as_ref().map_or(failure.message.clone(), |e| e.type_name.clone());
    if let Some(at) = failure.exception.as_ref().and_then(|e| e.raised_at.as_ref()) {
        frames.push(located(thread * FRAMES_PER_THREAD, format!("{} raised {what}", task.name), at, roots));
    }
    let chain = session.spawn_chain(failure.epoch, task.id);
    let chain = if chain.is_empty() { vec![task] } else { chain };
    for (index, pair) in chain.iter().enumerate() {
        let by = chain.get(index + 1).map_or(String::new(), |parent| format!(" by {}", parent.name));
        let id = thread * FRAMES_PER_THREAD + frames.len() as i64;
        frames.push(located(id, format!("{} spawned{by}", pair.name), &pair.spawned_at, roots));
    }
    frames
}

/// The first path down the trace: the task's future, what it awaits, what that awaits, ... (a
/// gather's further children are other branches; the first one is shown).
fn main_chain(frames: &[AwaitFrame]) -> Vec<&AwaitFrame> {
    let mut chain: Vec<&AwaitFrame> = Vec::new();
    for frame in frames {
        match chain.last() {
            Some(last) if frame.depth <= last.depth => break,
            _ => chain.push(frame),
        }
    }
    chain
}

fn located(id: i64, name: String, at: &Location, roots: &[PathBuf]) -> StackFrame {
    // Only a file inside the workspace folders is handed to the editor, which opens it on a stop:
    // a firmware's "/etc/passwd" (or a dependency's path on the machine that built it) is named,
    // not opened.
    let path = resolve(roots, &at.file).map(|f| f.display().to_string());
    let name_only =
        std::path::Path::new(&at.file).file_name().map(|n| printable(&n.to_string_lossy()).into_owned());
    let hint = path.is_none().then_some(PresentationHint::DeEmphasize);
    let origin = path.is_none().then(|| "outside the workspace folders".to_string());
    StackFrame {
        id,
        // What the firmware named is shown, never obeyed (a control character in it).
        name: printable(&name).into_owned(),
        source: Some(Source { name: name_only, path, presentation_hint: hint, origin, ..Default::default() }),
        line: i64::from(at.line),
        column: i64::from(at.column.max(1)),
        ..Default::default()
    }
}

/// The one scope of a frame: its task.
pub fn scopes(frame: i64) -> Vec<Scope> {
    vec![Scope {
        name: "Task".into(),
        variables_reference: thread_of_frame(frame),
        expensive: false,
        ..Default::default()
    }]
}

/// What the debug view shows of a task: its state, where it was spawned and by whom, what it waits
/// for and how long, how it was polled.
pub fn task_variables(session: &SessionState, task: TaskId) -> Vec<Variable> {
    let Some(t) = session.task(task) else { return Vec::new() };
    let mut out = vec![
        variable("task", format!("#{} {}", t.id, t.name)),
        variable("spawned at", t.spawned_at.to_string()),
    ];
    if let Some(parent) = t.parent.and_then(|p| session.task(p)) {
        out.push(variable("spawned by", format!("#{} {}", parent.id, parent.name)));
    }
    if let Some(trace) = session.trace(task) {
        out.push(variable("waiting for", waiting_for_words(trace)));
    }
    if let Some(since) = session.waiting_since(task) {
        out.push(variable("waiting for how long", wait_words(since)));
    }
    if let Some(stats) = &t.stats {
        out.push(variable("polls", stats.polls.to_string()));
        out.push(variable("busy", format!("{} µs", stats.busy_us)));
    }
    out
}

fn variable(name: &str, value: String) -> Variable {
    Variable {
        name: name.into(),
        value: printable(&value).into_owned(),
        variables_reference: 0,
        ..Default::default()
    }
}

/// The exception a failure is, for `exceptionInfo`: its type, message, and where it went.
pub fn exception_info(session: &SessionState, failure: &Failure) -> ExceptionInfoResponse {
    let (type_name, message) = match &failure.exception {
        Some(e) => (printable(&e.type_name).into_owned(), printable_lines(&e.message)),
        None => (printable(&failure.message).into_owned(), printable_lines(&failure.message)),
    };
    let mut trace = Vec::new();
    if let Some(at) = failure.exception.as_ref().and_then(|e| e.raised_at.as_ref()) {
        trace.push(format!("raised at {at}"));
    }
    if let Some(task) = &failure.task {
        let chain = session.spawn_chain(failure.epoch, task.id);
        let names: Vec<&str> = chain.iter().map(|t| t.name.as_str()).collect();
        trace.push(format!("in task #{} {}, spawned at {}", task.id, task.name, task.spawned_at));
        trace.push(format!("spawn chain: {}", names.join(" ← ")));
    }
    trace.push(format!("{}: {}", failure.message, failure_path_words(failure.path)));
    ExceptionInfoResponse {
        exception_id: type_name.clone(),
        description: Some(message.clone()),
        break_mode: match failure.path {
            FailurePath::Unretrieved | FailurePath::Panic => ExceptionBreakMode::Unhandled,
            _ => ExceptionBreakMode::Always,
        },
        details: Some(ExceptionDetails {
            message: Some(message),
            type_name: Some(type_name),
            stack_trace: Some(printable_lines(&trace.join("\n"))),
            ..Default::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use asyncmon_protocol::host::{AwaitTraces, Exception, SessionEvent, TargetDescription, TaskTrace};

    fn loc(line: u32) -> Location {
        Location { file: "src/app.rs".into(), line, column: 5 }
    }

    fn frame(depth: u16, function: &str, location: Option<Location>, state: FrameState) -> AwaitFrame {
        AwaitFrame { depth, function: function.into(), location, state }
    }

    fn task(id: TaskId, name: &str, parent: Option<TaskId>, line: u32) -> Task {
        Task {
            epoch: 1,
            id,
            name: name.into(),
            spawned_at: loc(line),
            parent,
            state: TaskState::Running,
            storage_bytes: None,
            future_bytes: None,
            stats: None,
        }
    }

    fn session() -> SessionState {
        let mut session = SessionState::new(TargetDescription { backend: "sim".into(), name: "app".into() });
        session.epoch = 1;
        session.apply(&SessionEvent::TaskSpawned(task(0, "main", None, 1)));
        session.apply(&SessionEvent::TaskSpawned(task(1, "poller", Some(0), 10)));
        session
    }

    #[test]
    fn the_innermost_await_is_on_top_and_a_gathers_other_branches_are_left_out() {
        let mut session = session();
        let frames = vec![
            frame(0, "app::poller", Some(loc(20)), FrameState::Awaiting),
            frame(1, "app::read_all", Some(loc(30)), FrameState::Awaiting),
            frame(
                2,
                "asyncmon_agent::Gather",
                None,
                FrameState::Waiting { description: Some("gather of #2 #3".into()) },
            ),
            frame(1, "app::other_branch", Some(loc(40)), FrameState::Awaiting),
        ];
        session.traces = AwaitTraces {
            epoch: 1,
            at_ms: 0,
            tasks: vec![TaskTrace { task: 1, frames, since_ms: 0 }],
            unavailable: None,
        };
        let stack = stack_frames(&session, 1, &[]);
        let names: Vec<&str> = stack.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["asyncmon_agent::Gather: gather of #2 #3", "app::read_all", "app::poller"]);
        assert_eq!((stack[1].line, stack[2].line), (30, 20));
        assert!(stack[0].source.is_none(), "a leaf future without a line gets no made-up source");
        assert_eq!(thread_of_frame(stack[2].id), thread_id(1));
    }

    #[test]
    fn without_a_trace_the_stack_says_why_at_the_spawn_line() {
        let mut session = session();
        let stack = stack_frames(&session, 1, &[]);
        assert_eq!(stack.len(), 1);
        assert_eq!(stack[0].name, "poller (spawned here; no await trace yet)");
        assert_eq!(stack[0].line, 10);
        session.traces.unavailable = Some("no debug info".into());
        assert_eq!(
            stack_frames(&session, 1, &[])[0].name,
            "poller (spawned here; no await trace from this target)"
        );
    }

    #[test]
    fn a_failed_task_is_a_thread_whose_stack_is_its_raise_site_and_the_path_that_created_it() {
        let session = session();
        let failure = Failure {
            seq: 1,
            epoch: 1,
            at_ms: 0,
            message: "Task exception was never retrieved".into(),
            exception: Some(Exception {
                type_name: "app::Timeout".into(),
                message: "no answer".into(),
                raised_at: Some(loc(33)),
            }),
            task: Some(Task {
                state: TaskState::Finished(asyncmon_protocol::host::TaskOutcome::Failed),
                ..task(1, "poller", Some(0), 10)
            }),
            path: FailurePath::Unretrieved,
        };
        let names: Vec<String> =
            threads(&session, std::slice::from_ref(&failure)).into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["#0 main", "#1 poller"], "a failed task still running is listed once");
        let stack = failure_frames(&session, &failure, &[]);
        let names: Vec<&str> = stack.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["poller raised app::Timeout", "poller spawned by main", "main spawned"]);
        assert_eq!(stack.iter().map(|f| f.line).collect::<Vec<_>>(), [33, 10, 1]);
        let info = exception_info(&session, &failure);
        assert_eq!(info.exception_id, "app::Timeout");
        assert!(matches!(info.break_mode, ExceptionBreakMode::Unhandled));
        assert!(info.details.unwrap().stack_trace.unwrap().contains("spawn chain: poller ← main"));
    }

    #[test]
    fn what_the_firmware_named_reaches_the_editor_escaped() {
        let mut session = SessionState::new(TargetDescription { backend: "sim".into(), name: "app".into() });
        session.epoch = 1;
        session.apply(&SessionEvent::TaskSpawned(task(1, "evil\u{1b}[2J", None, 10)));
        let threads = threads(&session, &[]);
        assert_eq!(threads[0].name, "#1 evil\\x1b[2J");
        let stack = stack_frames(&session, 1, &[]);
        assert!(stack[0].name.starts_with("evil\\x1b[2J (spawned here"), "{}", stack[0].name);
        let variables = task_variables(&session, 1);
        assert!(variables.iter().all(|v| !v.value.contains('\u{1b}')), "{variables:?}");
    }

    #[test]
    fn a_source_outside_the_workspace_is_named_not_handed_to_the_editor() {
        let mut session = SessionState::new(TargetDescription { backend: "sim".into(), name: "app".into() });
        session.epoch = 1;
        let mut evil = task(1, "reader", None, 10);
        evil.spawned_at = Location { file: "/etc/passwd".into(), line: 1, column: 1 };
        session.apply(&SessionEvent::TaskSpawned(evil));
        let workspace = tempfile::tempdir().unwrap();
        let stack = stack_frames(&session, 1, &[workspace.path().to_path_buf()]);
        let source = stack[0].source.as_ref().unwrap();
        assert_eq!(source.path, None, "{source:?}");
        assert_eq!(source.name.as_deref(), Some("passwd"));
    }
}
