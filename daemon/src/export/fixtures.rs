//! Session events for the exporters' tests.

use asyncmon_protocol::host::{FirmwareInfo, Location, SessionEvent, Task, TaskState};

/// Task `id` of `epoch`, spawned by `parent`, at line 10 + `id` of `src/main.rs`.
pub fn task(epoch: u32, id: u32, name: &str, parent: Option<u32>) -> Task {
    Task {
        epoch,
        id,
        name: name.into(),
        spawned_at: Location { file: "src/main.rs".into(), line: 10 + id, column: 5 },
        parent,
        state: TaskState::Running,
        storage_bytes: None,
        future_bytes: None,
        stats: None,
    }
}

/// The firmware `demo` (build `b1`) said hello: `epoch` starts.
pub fn started(epoch: u32) -> SessionEvent {
    SessionEvent::SessionStarted {
        epoch,
        firmware: FirmwareInfo { name: "demo".into(), build_id: "b1".into(), protocol_version: 1 },
    }
}
