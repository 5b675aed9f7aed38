//! Golden bytes: the postcard encoding of every device-link message is pinned, so a change to the
//! wire is always deliberate (firmware in the field keeps speaking the old bytes). The bytes are
//! checked twice: as serde and postcard write them (the host's decoder reads that layout) and as the
//! agent writes them by hand (`asyncmon_protocol::wire`, inside a frame).

use asyncmon_protocol::decoder::{Decoded, FrameDecoder};
use asyncmon_protocol::device::*;
use asyncmon_protocol::frame::{self, MAX_FRAME};
use asyncmon_protocol::wire::Encode;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The payload of the frame the agent writes for `msg`.
fn written_by_hand(msg: &impl Encode) -> Vec<u8> {
    let mut out = [0u8; MAX_FRAME];
    let frame = frame::encode(msg, &mut out).unwrap();
    let mut payloads = Vec::new();
    FrameDecoder::<MAX_FRAME>::new().feed(frame, |d| match d {
        Decoded::Frame(p) => payloads.push(p.to_vec()),
        Decoded::Rejected { reason, .. } => panic!("the agent's frame was rejected: {reason}"),
    });
    assert_eq!(payloads.len(), 1, "one frame");
    payloads.remove(0)
}

fn check(msg: impl serde::Serialize + Encode, expect: &str) {
    assert_eq!(hex(&postcard::to_allocvec(&msg).unwrap()), expect, "the wire encoding changed");
    assert_eq!(hex(&written_by_hand(&msg)), expect, "the agent writes other bytes than serde");
}

const LOC: SourceLocation<'static> =
    SourceLocation { file: Text::Static { addr: 0x1000, len: 11 }, line: 42, column: 5 };

/// Task 3, spawned by main at [`LOC`], its name a static string.
const WORKER: TaskInfo<'static> =
    TaskInfo { id: 3, name: Text::Static { addr: 0x2000, len: 6 }, spawned_at: LOC, parent: Some(0) };

#[test]
fn hello() {
    check(
        DeviceMessage::Hello(Hello {
            version: 1,
            firmware: Text::Inline("demo"),
            build_id: Text::Inline("0.1"),
        }),
        "0001000464656d6f0003302e31",
    );
}

#[test]
fn task_spawned() {
    check(
        DeviceMessage::TaskSpawned(TaskInfo {
            id: 3,
            name: Text::Static { addr: 0x2000, len: 6 },
            spawned_at: LOC,
            parent: Some(0),
        }),
        "0103018040060180200b2a050100",
    );
}

#[test]
fn task_finished() {
    check(DeviceMessage::TaskFinished { id: 3, outcome: TaskOutcome::Cancelled }, "020302");
}

#[test]
fn failure() {
    check(
        DeviceMessage::Failure(FailureContext {
            message: Text::Inline("never retrieved"),
            exception: Some(ExceptionInfo {
                type_name: Text::Static { addr: 0x3000, len: 9 },
                message: Text::Inline("timeout"),
                raised_at: Some(LOC),
            }),
            task: None,
            path: FailurePath::Unretrieved,
        }),
        "03000f6e65766572207265747269657665640101806009000774696d656f7574010180200b2a050000",
    );
}

#[test]
fn interrupt_ack() {
    let mut cancelled = heapless::Vec::new();
    cancelled.extend_from_slice(&[0, 1, 2]).unwrap();
    check(
        DeviceMessage::InterruptAck(InterruptAck { request_id: 7, cancelled, cancelled_total: 3 }),
        "04070300010203",
    );
}

#[test]
fn frames_lost() {
    check(DeviceMessage::FramesLost { count: 300 }, "05ac02");
}

#[test]
fn stop() {
    check(HostCommand::Stop { request_id: 7 }, "0007");
}

#[test]
fn shutdown_ack() {
    let mut tasks = heapless::Vec::new();
    tasks.push(TaskEnding { id: 0, outcome: TaskOutcome::Cancelled }).unwrap();
    tasks.push(TaskEnding { id: 4, outcome: TaskOutcome::DroppedAtDeadline }).unwrap();
    check(
        DeviceMessage::ShutdownAck(ShutdownAck { request_id: 2, tasks, total: 2, hard_stop: true }),
        "060202000204040201",
    );
}

#[test]
fn spawned() {
    check(DeviceMessage::Spawned { task: WORKER, storage_bytes: 2048 }, "0703018040060180200b2a0501008010");
}

#[test]
fn panic() {
    check(
        DeviceMessage::Panic { message: Text::Inline("oops"), location: Some(LOC), task: Some(2) },
        "0800046f6f7073010180200b2a050102",
    );
}

#[test]
fn hard_stop() {
    check(HostCommand::HardStop { request_id: 9 }, "0109");
}

#[test]
fn define_text() {
    check(
        DeviceMessage::DefineText { id: 3, text: Text::Static { addr: 0x0800_4000, len: 11 } },
        "090301808081400b",
    );
}

#[test]
fn task_failure_with_every_string_interned() {
    let msg = DeviceMessage::TaskFailure {
        message: Text::Interned(0),
        exception: Some(ExceptionInfo {
            type_name: Text::Interned(1),
            message: Text::Interned(2),
            raised_at: Some(SourceLocation { file: Text::Interned(3), line: 120, column: 20 }),
        }),
        task: Some(5),
        path: FailurePath::Unretrieved,
    };
    check(msg.clone(), "0a020001020102020102037814010500");
    let mut out = [0u8; asyncmon_protocol::frame::MAX_FRAME];
    let frame = asyncmon_protocol::frame::encode(&msg, &mut out).unwrap();
    assert!(frame.len() < 32, "a failure with interned strings is {} bytes on the wire", frame.len());
}

#[test]
fn task_stats() {
    check(
        DeviceMessage::TaskStats(TaskStats {
            task: 7,
            polls: 300,
            busy_us: 1500,
            max_poll_us: 40,
            self_wakes: 2,
            idle_us: 20_000,
            state: TaskRunState::Cancelling,
        }),
        // Variant 11, then varints: 7, 300, 1500, 40, 2, 20000, then Cancelling (2).
        "0b07ac02dc0b2802a09c0102",
    );
}

#[test]
fn poll_slices() {
    let slices = [PollSlice { task: 1, gap: 0, busy: 12 }, PollSlice { task: 7, gap: 300, busy: 5 }];
    // Variant 20, varints 1000000, 2000, 2400, two slices: (1, 0, 12) and (7, 300, 5).
    let bytes = "14c0843dd00fe0120201000c07ac0205";
    check(
        DeviceMessage::PollSlices {
            tick_hz: 1_000_000,
            start: 2_000,
            sent_at: 2_400,
            slices: slices.into_iter().collect(),
        },
        bytes,
    );
    // The device's borrowed form writes the same frame.
    let batch = PollBatch { tick_hz: 1_000_000, start: 2_000, sent_at: 2_400, slices: &slices };
    assert_eq!(hex(&written_by_hand(&batch)), bytes);
    // A full batch with the largest numbers still fits a frame.
    let worst = PollSlice { task: u32::MAX, gap: u32::MAX, busy: u32::MAX };
    let msg = DeviceMessage::PollSlices {
        tick_hz: u32::MAX,
        start: u64::MAX,
        sent_at: u64::MAX,
        slices: core::iter::repeat_n(worst, MAX_POLL_SLICES).collect(),
    };
    let mut out = [0u8; asyncmon_protocol::frame::MAX_FRAME];
    assert!(asyncmon_protocol::frame::encode(&msg, &mut out).is_ok());
}

#[test]
fn resync() {
    check(HostCommand::Resync, "02");
}

#[test]
fn roll_call() {
    check(HostCommand::RollCall, "03");
    // Variants 12 and 13 (appended after TaskStats), then the count as a varint.
    check(DeviceMessage::RollCallStarted, "0c");
    check(DeviceMessage::RollCallDone { announced: 300 }, "0dac02");
}

#[test]
fn spawned_sized() {
    check(
        DeviceMessage::SpawnedSized { task: WORKER, reserved_bytes: 256, future_bytes: 72 },
        "0e03018040060180200b2a050100800248",
    );
}

#[test]
fn spawned_at() {
    // Variant 15, then SpawnedSized's fields, then the future's address and its type marker (a
    // thumb function address, low bit set), as varints.
    check(
        DeviceMessage::SpawnedAt {
            task: WORKER,
            reserved_bytes: 256,
            future_bytes: 72,
            future: FutureLocation { addr: 0x2000_0100, type_marker: 0x0000_1235 },
        },
        "0f03018040060180200b2a0501008002488082808002b524",
    );
}

#[test]
fn embassy_task_spawned() {
    // Variant 16, the observer's id, then the task header's address, as varints.
    check(DeviceMessage::EmbassyTaskSpawned { id: 4, header: 0x2000_0240 }, "1004c084808002");
}

#[test]
fn stop_handled() {
    // Variant 17, the request id, then the two flags.
    check(DeviceMessage::StopHandled { request_id: 7, hook_ran: true, hard: false }, "11070100");
}

#[test]
fn executor_stats() {
    // Variant 18, then the two durations as varints.
    check(DeviceMessage::ExecutorStats { idle_us: 900_000, elapsed_us: 1_000_000 }, "12a0f736c0843d");
}

#[test]
fn the_agent_reads_every_command_as_it_was_written() {
    let commands = [
        HostCommand::Stop { request_id: 7 },
        HostCommand::HardStop { request_id: u32::MAX },
        HostCommand::Resync,
        HostCommand::RollCall,
    ];
    for command in commands {
        assert_eq!(HostCommand::from_payload(&written_by_hand(&command)), Some(command));
    }
}

#[test]
fn tasks_not_watched() {
    check(DeviceMessage::TasksNotWatched { total: 3, capacity: 32 }, "130320");
}
