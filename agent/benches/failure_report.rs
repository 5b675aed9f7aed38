//! Criterion benchmark (3): reporting one failure into the RTT buffer through the default
//! exception handler (render the message, encode, CRC, COBS, one RTT write). The host side drains
//! the buffer between batches, out of the measured time, by reading this process's own RTT
//! control block with the daemon's RTT code, as the simulator does.
//!
//! `cargo bench -p asyncmon-agent --bench failure_report`

#![allow(missing_docs)] // criterion_group! generates undocumented functions.

use asyncmon_agent::{default_exception_handler, link, Context, Exception, FailurePath, TaskMeta};
use asyncmon_daemon::backend::locate_in_process;
use asyncmon_daemon::memory::ProcessMemory;
use asyncmon_daemon::rtt::{ControlBlock, UpChannel};
use core::panic::Location;
use criterion::{criterion_group, criterion_main, Criterion};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct SensorTimeout {
    poll: u32,
    at: &'static Location<'static>,
}

impl core::fmt::Display for SensorTimeout {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "sensor poll #{} timed out after 50 ms", self.poll)
    }
}

impl Exception for SensorTimeout {
    fn raised_at(&self) -> Option<&'static Location<'static>> {
        Some(self.at)
    }

    fn is_cancellation(&self) -> bool {
        false
    }
}

struct Drain {
    mem: ProcessMemory,
    up: UpChannel,
    buf: Vec<u8>,
}

impl Drain {
    fn attach() -> Drain {
        let pid = std::process::id();
        let (addr, width) = locate_in_process(pid).unwrap();
        let mut mem = ProcessMemory::open(pid).unwrap();
        let block = ControlBlock::read(&mut mem, addr, width).unwrap();
        let up = UpChannel::attach(&mut mem, block.up_channel("asyncmon").unwrap()).unwrap();
        Drain { mem, up, buf: Vec::new() }
    }

    /// Empties the up buffer; returns the bytes read.
    fn drain(&mut self) -> usize {
        self.buf.clear();
        self.up.read(&mut self.mem, &mut self.buf).unwrap()
    }
}

/// An error whose message is a fixed string: it travels as an interned reference.
#[derive(Debug)]
struct BusFault {
    at: &'static Location<'static>,
}

impl core::fmt::Display for BusFault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("I2C bus fault")
    }
}

impl Exception for BusFault {
    fn raised_at(&self) -> Option<&'static Location<'static>> {
        Some(self.at)
    }

    fn static_message(&self) -> Option<&'static str> {
        Some("I2C bus fault")
    }

    fn is_cancellation(&self) -> bool {
        false
    }
}

/// Measures `default_exception_handler(context)`, draining the buffer between batches.
fn bench_report(c: &mut Criterion, drain: &mut Drain, name: &str, context: &Context<'_>) {
    // The first report defines the interned strings; measure the steady state.
    default_exception_handler(context);
    drain.drain();
    default_exception_handler(context);
    let frame = drain.drain();
    println!("{name}: {frame} bytes on the wire");
    let per_batch = (1023 / frame).max(1) as u64;
    c.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut measured = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let batch = left.min(per_batch);
                let start = Instant::now();
                for _ in 0..batch {
                    default_exception_handler(std::hint::black_box(context));
                }
                measured += start.elapsed();
                assert_eq!(drain.drain(), frame * batch as usize, "every frame was written, none dropped");
                left -= batch;
            }
            measured
        })
    });
}

fn report_failure(c: &mut Criterion) {
    link::init("bench", "1");
    let mut drain = Drain::attach();
    drain.drain();
    let task = TaskMeta { id: 5, name: "sensor_poll", spawned_at: Location::caller(), parent: Some(2) };
    let timeout = SensorTimeout { poll: 3, at: Location::caller() };
    let rendered = Context {
        message: "Task exception was never retrieved",
        exception: Some(&timeout),
        task: Some(task),
        path: FailurePath::Unretrieved,
    };
    bench_report(c, &mut drain, "report_failure/rendered message (36 bytes)", &rendered);
    let fault = BusFault { at: Location::caller() };
    let fixed = Context { exception: Some(&fault), ..rendered };
    bench_report(c, &mut drain, "report_failure/static message (interned)", &fixed);
}

criterion_group!(benches, report_failure);
criterion_main!(benches);
