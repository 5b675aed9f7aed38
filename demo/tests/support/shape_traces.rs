//! What the shapes firmware's await traces must say, wherever it runs (the simulated board, QEMU's
//! boards): for every task, each frame's `.await` line, checked against the `// await: TAG`
//! comments in `demo/src/shapes.rs`, and what its innermost future waits for.

use super::Harness;
use asyncmon_protocol::host::{ClientRequest, FrameState, SessionState, TaskState, TaskTrace};
use std::time::Duration;

/// The tasks of the shapes firmware, the tags of their frames' `.await`s (outermost first), and
/// what the innermost future waits for (`{name}` stands for the id of task `name`).
const SHAPES: &[(&str, &[&str], &str)] = &[
    ("main", &["main"], "sleep: a timer"),
    ("three_deep", &["three_deep", "level2", "level3"], "sleep: a timer"),
    ("in_a_block", &["block_outer", "block_inner"], "sleep: a timer"),
    ("generic", &["generic"], "sleep: a timer"),
    ("looping", &["looping"], "sleep: a timer"),
    ("deadline", &["deadline", "level3"], "sleep: a timer"),
    ("joined", &["level3"], "sleep: a timer"),
    ("joiner", &["joiner"], "join task #{joined}"),
    ("gathered_a", &["level3"], "sleep: a timer"),
    ("gathered_b", &["level3"], "sleep: a timer"),
    ("gatherer", &["gatherer"], "gather of 2 tasks, waiting for #{gathered_a} #{gathered_b}"),
    ("receiver", &["receiver"], "a message on Channel CHANNEL"),
    ("subscriber", &["subscriber"], "a message on PubSubChannel NEWS"),
    ("watcher", &["watcher"], "a change of Watch SETTING"),
    ("pipe_reader", &["pipe_reader"], "bytes in Pipe BYTES"),
    ("locker", &["locker"], "the lock of Mutex LOCK"),
    // A select's branches are frames of their own, the first one innermost.
    ("selector", &["selector"], "Signal DOORBELL"),
    ("cleaning_up", &["cleanup"], "sleep: a timer"),
];

fn source() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/shapes.rs")).unwrap()
}

/// The tag on line `line` of shapes.rs (`// await: TAG`).
fn tag_at(source: &str, line: u32) -> Option<&str> {
    source.lines().nth(line as usize - 1)?.split("// await: ").nth(1).map(str::trim)
}

fn id_of(session: &SessionState, name: &str) -> u32 {
    session.tasks.iter().rev().find(|t| t.name == name).unwrap_or_else(|| panic!("no task {name}")).id
}

fn trace_of<'a>(session: &'a SessionState, name: &str) -> Option<&'a TaskTrace> {
    session.trace(id_of(session, name))
}

/// Whether every shape's task runs and has a trace that has reached its final await.
fn settled(session: &SessionState) -> bool {
    let source = source();
    SHAPES.iter().all(|(name, tags, _)| {
        session.tasks.iter().any(|t| t.name == *name && t.state == TaskState::Running)
            && trace_of(session, name).is_some_and(|trace| {
                // The innermost `.await` in shapes.rs (a library's async fn may be inside it).
                let last = trace
                    .frames
                    .iter()
                    .rev()
                    .filter_map(|f| f.location.as_ref())
                    .find(|l| l.file.ends_with("demo/src/shapes.rs"));
                last.is_some_and(|l| tag_at(&source, l.line) == tags.last().copied())
            })
    })
}

/// Asks for traces (as `asyncmon ps` does) and checks every shape's, line by line.
pub async fn every_shape_is_traced(h: &mut Harness) {
    h.until("the shapes' tasks with traces", Duration::from_secs(20), settled).await;
    h.client.request(&ClientRequest::RefreshTraces { target: 0 }).await.unwrap();
    let asked_at = h.session.traces.at_ms;
    h.until("traces read on request", Duration::from_secs(10), |s| s.traces.at_ms > asked_at).await;
    assert_eq!(h.session.traces.unavailable, None);
    let source = source();
    for (name, tags, waiting_for) in SHAPES {
        let trace = trace_of(&h.session, name).unwrap_or_else(|| panic!("{name} has no trace"));
        let at: Vec<&str> = trace
            .frames
            .iter()
            .filter_map(|f| f.location.as_ref())
            // An async fn of embassy-sync's (a watch's `changed`) is a frame of its own, in its source.
            .filter(|l| {
                let ours = l.file.ends_with("demo/src/shapes.rs");
                assert!(ours || l.file.contains("embassy-sync"), "{name}: {l}");
                ours
            })
            .map(|l| {
                tag_at(&source, l.line).unwrap_or_else(|| panic!("{name}: line {} has no await tag", l.line))
            })
            .collect();
        assert_eq!(&at, tags, "{name}: {:#?}", trace.frames);
        let mut expected = waiting_for.to_string();
        for other in ["joined", "gathered_a", "gathered_b"] {
            expected = expected.replace(&format!("{{{other}}}"), &id_of(&h.session, other).to_string());
        }
        let innermost = trace.innermost().unwrap();
        assert_eq!(
            innermost.state,
            FrameState::Waiting { description: Some(expected) },
            "{name}: {:#?}",
            trace.frames
        );
        // A chain, one level at a time; a select's two branches side by side.
        for (parent, child) in trace.frames.iter().zip(trace.frames.iter().skip(1)) {
            let sibling = *name == "selector" && child.depth == parent.depth;
            assert!(child.depth == parent.depth + 1 || sibling, "{name}: {:#?}", trace.frames);
        }
    }
    let generic = trace_of(&h.session, "generic").unwrap();
    assert_eq!(generic.frames[0].function, "asyncmon_demo::shapes::generic<u16>");
    let block = trace_of(&h.session, "in_a_block").unwrap();
    assert_eq!(block.frames[1].function, "asyncmon_demo::shapes::in_a_block::{async_block#0}");
    let deadline = trace_of(&h.session, "deadline").unwrap();
    assert!(
        deadline.frames[1].function.starts_with("asyncmon_agent::time::WaitFor<"),
        "{:#?}",
        deadline.frames
    );
    let selector = trace_of(&h.session, "selector").unwrap();
    let waits: Vec<String> = selector
        .frames
        .iter()
        .filter_map(|f| match &f.state {
            FrameState::Waiting { description: Some(what) } => Some(what.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        waits,
        [
            "the future below, cancelled with its task",
            "the first of 2 futures",
            "Signal DOORBELL",
            "a message on Channel LETTERS"
        ],
        "{:#?}",
        selector.frames
    );
    let receiver = trace_of(&h.session, "receiver").unwrap();
    assert!(
        receiver.frames[2].function.starts_with("embassy_sync::channel::ReceiveFuture<"),
        "{:#?}",
        receiver.frames
    );
}
