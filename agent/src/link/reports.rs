//! The reports the executor and the exception handler send: spawns, endings, failures, shutdown
//! acknowledgements. Each is built only when the link exists.

use super::{enabled, with_link};
use crate::exception::{Context, Exception, TaskMeta};
use asyncmon_protocol::device::*;
use core::fmt::Write as _;

/// A task was spawned: its future (or output) needs `future_bytes` of the `reserved_bytes` its
/// storage has, and lives at `future`.
pub(crate) fn send_task_spawned(
    meta: &TaskMeta,
    reserved_bytes: usize,
    future_bytes: usize,
    future: FutureLocation,
) {
    if !enabled() {
        return;
    }
    with_link(|link| {
        let task = TaskInfo {
            id: meta.id,
            name: link.intern(meta.name),
            spawned_at: SourceLocation {
                file: link.intern(meta.spawned_at.file()),
                line: meta.spawned_at.line(),
                column: meta.spawned_at.column(),
            },
            parent: meta.parent,
        };
        link.send(&DeviceMessage::SpawnedAt {
            task,
            reserved_bytes: reserved_bytes as u32,
            future_bytes: future_bytes as u32,
            future,
        });
    });
}

#[cfg(feature = "task-stats")]
pub(crate) fn send_task_stats(stats: TaskStats) {
    if !enabled() {
        return;
    }
    with_link(|link| {
        link.send(&DeviceMessage::TaskStats(stats));
    });
}

pub(crate) fn send_task_finished(id: TaskId, outcome: TaskOutcome) {
    if !enabled() {
        return;
    }
    with_link(|link| {
        link.send(&DeviceMessage::TaskFinished { id, outcome });
    });
}

pub(crate) fn send_shutdown_ack(
    request_id: u32,
    tasks: heapless::Vec<TaskEnding, MAX_ACK_TASKS>,
    total: u32,
    hard_stop: bool,
) {
    with_link(|link| {
        link.send(&DeviceMessage::ShutdownAck(ShutdownAck { request_id, tasks, total, hard_stop }));
    });
}

/// Renders an exception's message into a bounded buffer, marking it when cut.
struct Bounded {
    text: heapless::String<{ MAX_INLINE_TEXT * 2 }>,
    cut: bool,
}

impl Bounded {
    /// Cuts the text to [`MAX_INLINE_TEXT`] bytes at a character boundary, with the marker, when it
    /// was longer.
    fn finish(&mut self) {
        if !self.cut && self.text.len() <= MAX_INLINE_TEXT {
            return;
        }
        while self.text.len() + TRUNCATION_MARKER.len() > MAX_INLINE_TEXT {
            self.text.pop();
        }
        let _ = self.text.push_str(TRUNCATION_MARKER);
    }
}

impl core::fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for c in s.chars() {
            if self.text.push(c).is_err() {
                self.cut = true;
                return Err(core::fmt::Error);
            }
        }
        Ok(())
    }
}

fn send_exception(
    message: &'static str,
    exception: Option<&dyn Exception>,
    task: Option<&TaskMeta>,
    path: FailurePath,
) {
    if !enabled() {
        return;
    }
    // Render outside the critical section: `Display` is user code.
    let mut rendered = Bounded { text: heapless::String::new(), cut: false };
    if let Some(e) = exception.filter(|e| e.static_message().is_none()) {
        let _ = write!(rendered, "{e}");
        rendered.finish();
    }
    with_link(|link| {
        let exception = exception.map(|e| ExceptionInfo {
            type_name: link.intern(e.type_name()),
            message: match e.static_message() {
                Some(fixed) => link.intern(fixed),
                None => Text::Inline(rendered.text.as_str()),
            },
            raised_at: e.raised_at().map(|at| SourceLocation {
                file: link.intern(at.file()),
                line: at.line(),
                column: at.column(),
            }),
        });
        let message = link.intern(message);
        link.send(&DeviceMessage::TaskFailure { message, exception, task: task.map(|t| t.id), path });
    });
}

/// The default exception handler's work: the failure context, to the host.
pub(crate) fn send_failure(context: &Context<'_>) {
    send_exception(context.message, context.exception, context.task.as_ref(), context.path);
}

/// Tells the host that a failure was retrieved (awaited or gathered), so its path is on record.
pub(crate) fn send_retrieved_failure(meta: &TaskMeta, exception: &dyn Exception, path: FailurePath) {
    send_exception("Task exception was retrieved", Some(exception), Some(meta), path);
}
