//! The device-link messages' layout ([`crate::device`]): each type's fields in declaration order,
//! each enum's variant index first (the order of declaration, which only ever grows).

use super::{fields, Encode, Writer};
use crate::device::*;

impl Encode for Text<'_> {
    fn encode(&self, w: &mut Writer<'_>) {
        match self {
            Text::Inline(s) => {
                w.varint(0);
                s.encode(w);
            }
            Text::Static { addr, len } => {
                w.varint(1);
                fields!(w; addr, len);
            }
            Text::Interned(id) => {
                w.varint(2);
                id.encode(w);
            }
        }
    }
}

impl Encode for SourceLocation<'_> {
    fn encode(&self, w: &mut Writer<'_>) {
        fields!(w; &self.file, &self.line, &self.column);
    }
}

impl Encode for Hello<'_> {
    fn encode(&self, w: &mut Writer<'_>) {
        fields!(w; &self.version, &self.firmware, &self.build_id);
    }
}

impl Encode for TaskInfo<'_> {
    fn encode(&self, w: &mut Writer<'_>) {
        fields!(w; &self.id, &self.name, &self.spawned_at, &self.parent);
    }
}

impl Encode for TaskOutcome {
    fn encode(&self, w: &mut Writer<'_>) {
        w.varint(*self as u32);
    }
}

impl Encode for FailurePath {
    fn encode(&self, w: &mut Writer<'_>) {
        w.varint(*self as u32);
    }
}

impl Encode for TaskRunState {
    fn encode(&self, w: &mut Writer<'_>) {
        w.varint(*self as u32);
    }
}

impl Encode for TaskEnding {
    fn encode(&self, w: &mut Writer<'_>) {
        fields!(w; &self.id, &self.outcome);
    }
}

impl Encode for ShutdownAck {
    fn encode(&self, w: &mut Writer<'_>) {
        fields!(w; &self.request_id, &self.tasks, &self.total, &self.hard_stop);
    }
}

impl Encode for ExceptionInfo<'_> {
    fn encode(&self, w: &mut Writer<'_>) {
        fields!(w; &self.type_name, &self.message, &self.raised_at);
    }
}

impl Encode for FailureContext<'_> {
    fn encode(&self, w: &mut Writer<'_>) {
        fields!(w; &self.message, &self.exception, &self.task, &self.path);
    }
}

impl Encode for InterruptAck {
    fn encode(&self, w: &mut Writer<'_>) {
        fields!(w; &self.request_id, &self.cancelled, &self.cancelled_total);
    }
}

impl Encode for FutureLocation {
    fn encode(&self, w: &mut Writer<'_>) {
        fields!(w; &self.addr, &self.type_marker);
    }
}

impl Encode for TaskStats {
    fn encode(&self, w: &mut Writer<'_>) {
        fields!(w; &self.task, &self.polls, &self.busy_us, &self.max_poll_us, &self.self_wakes,
            &self.idle_us, &self.state);
    }
}

impl Encode for PollSlice {
    fn encode(&self, w: &mut Writer<'_>) {
        fields!(w; &self.task, &self.gap, &self.busy);
    }
}

/// The variant index of [`DeviceMessage::PollSlices`].
const POLL_SLICES: u32 = 20;

impl Encode for PollBatch<'_> {
    fn encode(&self, w: &mut Writer<'_>) {
        w.varint(POLL_SLICES);
        fields!(w; &self.tick_hz, &self.start, &self.sent_at, self.slices);
    }
}

impl Encode for DeviceMessage<'_> {
    fn encode(&self, w: &mut Writer<'_>) {
        use DeviceMessage as M;
        // The variant index (postcard's), then the variant's fields.
        let variant = match self {
            M::Hello(_) => 0,
            M::TaskSpawned(_) => 1,
            M::TaskFinished { .. } => 2,
            M::Failure(_) => 3,
            M::InterruptAck(_) => 4,
            M::FramesLost { .. } => 5,
            M::ShutdownAck(_) => 6,
            M::Spawned { .. } => 7,
            M::Panic { .. } => 8,
            M::DefineText { .. } => 9,
            M::TaskFailure { .. } => 10,
            M::TaskStats(_) => 11,
            M::RollCallStarted => 12,
            M::RollCallDone { .. } => 13,
            M::SpawnedSized { .. } => 14,
            M::SpawnedAt { .. } => 15,
            M::EmbassyTaskSpawned { .. } => 16,
            M::StopHandled { .. } => 17,
            M::ExecutorStats { .. } => 18,
            M::TasksNotWatched { .. } => 19,
            M::PollSlices { tick_hz, start, sent_at, slices } => {
                // One layout for both forms: the device's borrowed batch writes it.
                return PollBatch { tick_hz: *tick_hz, start: *start, sent_at: *sent_at, slices }.encode(w);
            }
        };
        w.varint(variant);
        match self {
            M::Hello(hello) => hello.encode(w),
            M::TaskSpawned(task) => task.encode(w),
            M::TaskFinished { id, outcome } => fields!(w; id, outcome),
            M::Failure(context) => context.encode(w),
            M::InterruptAck(ack) => ack.encode(w),
            M::FramesLost { count } => count.encode(w),
            M::ShutdownAck(ack) => ack.encode(w),
            M::Spawned { task, storage_bytes } => fields!(w; task, storage_bytes),
            M::Panic { message, location, task } => fields!(w; message, location, task),
            M::DefineText { id, text } => fields!(w; id, text),
            M::TaskFailure { message, exception, task, path } => {
                fields!(w; message, exception, task, path)
            }
            M::TaskStats(stats) => stats.encode(w),
            M::RollCallStarted => {}
            M::RollCallDone { announced } => announced.encode(w),
            M::SpawnedSized { task, reserved_bytes, future_bytes } => {
                fields!(w; task, reserved_bytes, future_bytes)
            }
            M::SpawnedAt { task, reserved_bytes, future_bytes, future } => {
                fields!(w; task, reserved_bytes, future_bytes, future)
            }
            M::EmbassyTaskSpawned { id, header } => fields!(w; id, header),
            M::StopHandled { request_id, hook_ran, hard } => fields!(w; request_id, hook_ran, hard),
            M::ExecutorStats { idle_us, elapsed_us } => fields!(w; idle_us, elapsed_us),
            M::TasksNotWatched { total, capacity } => fields!(w; total, capacity),
            M::PollSlices { .. } => {}
        }
    }
}
