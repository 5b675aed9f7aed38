//! Session events for the exporters' tests.

use asyncmon_protocol::host::{FirmwareInfo, Location, PollSlice, Polls, SessionEvent, Task, TaskState};

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

/// A batch of polls sent when the device's clock read `device_now_ns`: (task, start, length) each.
pub fn polls(device_now_ns: u64, slices: &[(u32, u64, u64)]) -> SessionEvent {
    let slices =
        slices.iter().map(|&(task, start_ns, busy_ns)| PollSlice { task, start_ns, busy_ns }).collect();
    SessionEvent::Polls(Polls { device_now_ns, slices })
}
