//! How fast the daemon turns RTT bytes into session events: an in-memory RTT control block (the
//! same layout as a 32-bit chip's) holds a batch of real frames; each iteration reads the up
//! channel with the RTT reader and decodes every frame into events. Reported as bytes per second;
//! the goal is to stay far above what a probe delivers (about 1 MB/s).
//!
//! `cargo bench -p asyncmon-daemon --bench decode`

#![allow(missing_docs)] // criterion_group! generates undocumented functions.

use asyncmon_daemon::device_link::DeviceLink;
use asyncmon_daemon::memory::{FakeMemory, TargetMemory};
use asyncmon_daemon::rtt::{ControlBlock, PointerWidth, UpChannel, RTT_ID};
use asyncmon_protocol::device::*;
use asyncmon_protocol::frame::{encode, MAX_FRAME};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::Instant;

const BASE: u64 = 0x2000_0000;
const UP_SIZE: u64 = 64 * 1024;

/// A 32-bit RTT control block with one up channel "asyncmon" of `UP_SIZE` bytes.
fn memory() -> FakeMemory {
    let w = PointerWidth::Four;
    let mut mem = FakeMemory { base: BASE, bytes: vec![0; 0x1000 + UP_SIZE as usize] };
    mem.write(BASE + 0x800, b"asyncmon\0").unwrap();
    mem.write(BASE, RTT_ID).unwrap();
    let put = |mem: &mut FakeMemory, addr: u64, v: u64| mem.write(addr, &(v as u32).to_le_bytes()).unwrap();
    put(&mut mem, BASE + 16, 1);
    put(&mut mem, BASE + 20, 0);
    let desc = BASE + 16 + 2 * w.bytes();
    put(&mut mem, desc, BASE + 0x800);
    put(&mut mem, desc + 4, BASE + 0x1000);
    put(&mut mem, desc + 8, UP_SIZE);
    mem
}

/// A realistic mix: spawns, endings and failures with interned strings, as the demo sends them.
fn frames() -> Vec<u8> {
    let mut out = [0; MAX_FRAME];
    let mut bytes = Vec::new();
    let mut push = |msg: &DeviceMessage<'_>| bytes.extend_from_slice(encode(msg, &mut out).unwrap());
    push(&DeviceMessage::DefineText { id: 0, text: Text::Inline("sensor_poll") });
    push(&DeviceMessage::DefineText { id: 1, text: Text::Inline("src/main.rs") });
    for id in 1..200u32 {
        let task = TaskInfo {
            id,
            name: Text::Interned(0),
            spawned_at: SourceLocation { file: Text::Interned(1), line: 176, column: 22 },
            parent: Some(2),
        };
        push(&DeviceMessage::Spawned { task, storage_bytes: 2048 });
        if id % 3 == 0 {
            push(&DeviceMessage::TaskFailure {
                message: Text::Inline("Task exception was never retrieved"),
                exception: Some(ExceptionInfo {
                    type_name: Text::Inline("demo::SensorError"),
                    message: Text::Inline("sensor poll #3 timed out after 50 ms"),
                    raised_at: Some(SourceLocation { file: Text::Interned(1), line: 167, column: 20 }),
                }),
                task: Some(id),
                path: FailurePath::Unretrieved,
            });
        } else {
            push(&DeviceMessage::TaskFinished { id, outcome: TaskOutcome::Completed });
        }
    }
    bytes
}

fn decode(c: &mut Criterion) {
    let frames = frames();
    assert!((frames.len() as u64) < UP_SIZE);
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Bytes(frames.len() as u64));
    group.bench_function("rtt_read_and_decode", |b| {
        b.iter_custom(|iters| {
            let mut mem = memory();
            let block = ControlBlock::read(&mut mem, BASE, PointerWidth::Four).unwrap();
            let desc = block.up_channel("asyncmon").unwrap().clone();
            let mut up = UpChannel::attach(&mut mem, &desc).unwrap();
            let mut link = DeviceLink::new(Instant::now());
            let (mut bytes, mut events) = (Vec::new(), Vec::new());
            let mut elapsed = std::time::Duration::ZERO;
            for _ in 0..iters {
                // The "target" writes the batch at the start of the buffer.
                mem.write(desc.buffer, &frames).unwrap();
                mem.write(desc.addr + 12, &(frames.len() as u32).to_le_bytes()).unwrap();
                let start = Instant::now();
                bytes.clear();
                up.read(&mut mem, &mut bytes).unwrap();
                link.ingest(&bytes, &mut mem, &mut events);
                elapsed += start.elapsed();
                assert_eq!(events.len(), 199 * 2, "every spawn and ending became an event");
                events.clear();
                // Back to an empty ring for the next batch.
                mem.write(desc.addr + 12, &0u32.to_le_bytes()).unwrap();
                mem.write(desc.addr + 16, &0u32.to_le_bytes()).unwrap();
                up = UpChannel::attach(&mut mem, &desc).unwrap();
            }
            elapsed
        })
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
