//! Property tests of the device link: messages round-trip, and no byte stream, however mangled,
//! makes the decoder panic or yield a frame that was not sent.

use asyncmon_protocol::decoder::{Decoded, FrameDecoder};
use asyncmon_protocol::device::*;
use asyncmon_protocol::frame::{decode, encode, MAX_FRAME};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = Text<'static>> {
    prop_oneof![
        "[a-zA-Z0-9 _:é]{0,40}".prop_map(|s| Text::Inline(Box::leak(s.into_boxed_str()))),
        (any::<u64>(), any::<u32>()).prop_map(|(addr, len)| Text::Static { addr, len }),
        any::<u16>().prop_map(Text::Interned),
    ]
}

fn location() -> impl Strategy<Value = SourceLocation<'static>> {
    (text(), any::<u32>(), any::<u32>()).prop_map(|(file, line, column)| SourceLocation {
        file,
        line,
        column,
    })
}

fn task() -> impl Strategy<Value = TaskInfo<'static>> {
    (any::<u32>(), text(), location(), any::<Option<u32>>())
        .prop_map(|(id, name, spawned_at, parent)| TaskInfo { id, name, spawned_at, parent })
}

fn path_strategy() -> impl Strategy<Value = FailurePath> {
    prop_oneof![
        Just(FailurePath::Unretrieved),
        Just(FailurePath::Awaited),
        Just(FailurePath::Gathered),
        Just(FailurePath::DuringShutdown),
        Just(FailurePath::Panic)
    ]
}

fn exception_strategy() -> impl Strategy<Value = ExceptionInfo<'static>> {
    (text(), text(), proptest::option::of(location()))
        .prop_map(|(type_name, message, raised_at)| ExceptionInfo { type_name, message, raised_at })
}

fn message() -> impl Strategy<Value = DeviceMessage<'static>> {
    let outcome = || {
        prop_oneof![
            Just(TaskOutcome::Completed),
            Just(TaskOutcome::Failed),
            Just(TaskOutcome::Cancelled),
            Just(TaskOutcome::FailedDuringCleanup),
            Just(TaskOutcome::DroppedAtDeadline),
        ]
    };

    prop_oneof![
        (any::<u16>(), text(), text()).prop_map(|(version, firmware, build_id)| {
            DeviceMessage::Hello(Hello { version, firmware, build_id })
        }),
        task().prop_map(DeviceMessage::TaskSpawned),
        (any::<u32>(), outcome()).prop_map(|(id, outcome)| DeviceMessage::TaskFinished { id, outcome }),
        (text(), proptest::option::of(exception_strategy()), proptest::option::of(task()), path_strategy())
            .prop_map(|(message, exception, task, path)| DeviceMessage::Failure(FailureContext {
                message,
                exception,
                task,
                path
            })),
        (any::<u32>(), proptest::collection::vec(any::<u32>(), 0..MAX_ACK_TASKS), any::<u32>()).prop_map(
            |(request_id, ids, cancelled_total)| DeviceMessage::InterruptAck(InterruptAck {
                request_id,
                cancelled: ids.into_iter().collect(),
                cancelled_total,
            })
        ),
        any::<u32>().prop_map(|count| DeviceMessage::FramesLost { count }),
        (
            any::<u32>(),
            proptest::collection::vec((any::<u32>(), outcome()), 0..MAX_ACK_TASKS),
            any::<u32>(),
            any::<bool>()
        )
            .prop_map(|(request_id, endings, total, hard_stop)| DeviceMessage::ShutdownAck(
                ShutdownAck {
                    request_id,
                    tasks: endings.into_iter().map(|(id, outcome)| TaskEnding { id, outcome }).collect(),
                    total,
                    hard_stop,
                }
            )),
        (task(), any::<u32>())
            .prop_map(|(task, storage_bytes)| DeviceMessage::Spawned { task, storage_bytes }),
        (text(), proptest::option::of(location()), any::<Option<u32>>())
            .prop_map(|(message, location, task)| DeviceMessage::Panic { message, location, task }),
        (any::<u16>(), text()).prop_map(|(id, text)| DeviceMessage::DefineText { id, text }),
        (text(), proptest::option::of(exception_strategy()), any::<Option<u32>>(), path_strategy()).prop_map(
            |(message, exception, task, path)| DeviceMessage::TaskFailure { message, exception, task, path }
        ),
        stats().prop_map(DeviceMessage::TaskStats),
        Just(DeviceMessage::RollCallStarted),
        any::<u32>().prop_map(|announced| DeviceMessage::RollCallDone { announced }),
        (task(), any::<u32>(), any::<u32>()).prop_map(|(task, reserved_bytes, future_bytes)| {
            DeviceMessage::SpawnedSized { task, reserved_bytes, future_bytes }
        }),
        (task(), any::<u32>(), any::<u32>(), any::<(u64, u64)>()).prop_map(
            |(task, reserved_bytes, future_bytes, (addr, type_marker))| DeviceMessage::SpawnedAt {
                task,
                reserved_bytes,
                future_bytes,
                future: FutureLocation { addr, type_marker },
            }
        ),
        (any::<u32>(), any::<u64>())
            .prop_map(|(id, header)| DeviceMessage::EmbassyTaskSpawned { id, header }),
        any::<(u32, bool, bool)>().prop_map(|(request_id, hook_ran, hard)| DeviceMessage::StopHandled {
            request_id,
            hook_ran,
            hard
        }),
        any::<(u64, u64)>()
            .prop_map(|(idle_us, elapsed_us)| DeviceMessage::ExecutorStats { idle_us, elapsed_us }),
        any::<(u32, u32)>().prop_map(|(total, capacity)| DeviceMessage::TasksNotWatched { total, capacity }),
        (any::<(u32, u64, u64)>(), proptest::collection::vec(any::<(u32, u32, u32)>(), 0..=MAX_POLL_SLICES))
            .prop_map(|((tick_hz, start, sent_at), slices)| DeviceMessage::PollSlices {
                tick_hz,
                start,
                sent_at,
                slices: slices.into_iter().map(|(task, gap, busy)| PollSlice { task, gap, busy }).collect(),
            }),
    ]
}

fn stats() -> impl Strategy<Value = TaskStats> {
    let state =
        prop_oneof![Just(TaskRunState::Waiting), Just(TaskRunState::Ready), Just(TaskRunState::Cancelling)];
    (any::<(u32, u32, u64, u32, u32, u32)>(), state).prop_map(
        |((task, polls, busy_us, max_poll_us, self_wakes, idle_us), state)| TaskStats {
            task,
            polls,
            busy_us,
            max_poll_us,
            self_wakes,
            idle_us,
            state,
        },
    )
}

fn encoded(msg: &DeviceMessage<'_>) -> Vec<u8> {
    let mut out = [0; MAX_FRAME];
    encode(msg, &mut out).expect("every message fits a frame").to_vec()
}

/// Every payload the decoder yields for `bytes`.
fn decode_all(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut decoder = FrameDecoder::<MAX_FRAME>::new();
    let mut frames = Vec::new();
    decoder.feed(bytes, |d| {
        if let Decoded::Frame(p) = d {
            frames.push(p.to_vec());
        }
    });
    frames
}

proptest! {
    #[test]
    fn the_agent_writes_the_bytes_serde_writes(msg in message()) {
        let frames = decode_all(&encoded(&msg));
        prop_assert_eq!(&frames[0], &postcard::to_allocvec(&msg).unwrap());
    }

    #[test]
    fn every_message_round_trips_through_a_frame(msg in message()) {
        let frames = decode_all(&encoded(&msg));
        prop_assert_eq!(frames.len(), 1);
        let back: DeviceMessage<'_> = decode(&frames[0]).unwrap();
        prop_assert_eq!(back, msg);
    }

    #[test]
    fn random_bytes_never_yield_a_frame(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        prop_assert!(decode_all(&bytes).is_empty());
    }

    #[test]
    fn mangled_streams_yield_only_frames_that_were_sent(
        msgs in proptest::collection::vec(message(), 1..8),
        cuts in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..12), 0..6),
        garbage in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let sent: Vec<Vec<u8>> = msgs.iter().map(encoded).collect();
        let mut stream: Vec<u8> = sent.concat();
        // Remove runs of bytes (lost fragments, truncation, splices) and insert garbage.
        for (at, len) in cuts {
            if stream.is_empty() { break; }
            let i = at.index(stream.len());
            let end = (i + len).min(stream.len());
            stream.drain(i..end);
            stream.splice(i..i, garbage.iter().copied());
        }
        let payloads: Vec<Vec<u8>> = sent.iter().map(|f| decode_all(f).remove(0)).collect();
        for frame in decode_all(&stream) {
            prop_assert!(payloads.contains(&frame), "decoded a frame that was never sent");
        }
    }

    #[test]
    fn frames_survive_any_split_into_reads(msgs in proptest::collection::vec(message(), 1..6), split in 1usize..64) {
        let stream: Vec<u8> = msgs.iter().flat_map(encoded).collect();
        let mut decoder = FrameDecoder::<MAX_FRAME>::new();
        let mut got = Vec::new();
        for chunk in stream.chunks(split) {
            decoder.feed(chunk, |d| if let Decoded::Frame(p) = d { got.push(p.to_vec()) });
        }
        prop_assert_eq!(got.len(), msgs.len());
    }
}

#[test]
fn the_largest_failure_context_fits_one_frame() {
    let long = "x".repeat(MAX_INLINE_TEXT);
    let big = Text::Static { addr: u64::MAX, len: u32::MAX };
    let loc = SourceLocation { file: big, line: u32::MAX, column: u32::MAX };
    let task = TaskInfo { id: u32::MAX, name: big, spawned_at: loc, parent: Some(u32::MAX) };
    let msg = DeviceMessage::Failure(FailureContext {
        message: Text::Inline(&long),
        exception: Some(ExceptionInfo { type_name: big, message: Text::Inline(&long), raised_at: Some(loc) }),
        task: Some(task),
        path: FailurePath::DuringShutdown,
    });
    let frame = encoded(&msg);
    // The agent's up channel is 1 KiB; a failure must fit a write with room to spare.
    assert!(frame.len() <= 512, "failure frame is {} bytes", frame.len());
}
