//! Await traces of futures in this very test process, read through `/proc/self/mem` with this test
//! binary's own DWARF, as the daemon reads a simulated firmware: nested async fns, an async block,
//! a generic async fn, a future not started yet, and garbage where a future should be.

use super::*;
use crate::memory::{FakeMemory, ProcessMemory};
use asyncmon_protocol::host::FrameState;
use object::{Object, ObjectSegment};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// A leaf future that never completes.
struct Forever;

impl Future for Forever {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

async fn innermost(n: u32) -> u32 {
    Forever.await; // line: innermost
    n
}

async fn middle(n: u32) -> u32 {
    innermost(n).await + 1 // line: middle
}

async fn outer() -> u32 {
    let block = async {
        middle(2).await // line: block
    };
    block.await // line: outer
}

async fn generic<T: Clone>(value: T) -> T {
    Forever.await; // line: generic
    value
}

/// The type marker of `F`: a function generic over it, as the agent's poll function is.
fn marker<F: Future>(_: &F) -> u64 {
    fn typed<F: Future>(future: Pin<&mut F>, cx: &mut Context<'_>) -> bool {
        future.poll(cx).is_pending()
    }
    let f: fn(Pin<&mut F>, &mut Context<'_>) -> bool = typed::<F>;
    f as usize as u64
}

/// This test binary's load bias: where its first segment was mapped minus its link address.
fn own_bias() -> u64 {
    let exe = std::fs::read_link("/proc/self/exe").unwrap();
    let data = std::fs::read(&exe).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let first = file.segments().map(|s| s.address()).min().unwrap() & !0xfff;
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let base = maps
        .lines()
        .find(|line| {
            line.ends_with(exe.to_str().unwrap()) && line.split_whitespace().nth(2) == Some("00000000")
        })
        .and_then(|line| u64::from_str_radix(line.split('-').next()?, 16).ok())
        .unwrap();
    base - first
}

fn tracer() -> AwaitTracer {
    AwaitTracer::load(&std::fs::read_link("/proc/self/exe").unwrap(), own_bias()).unwrap()
}

fn poll_once<F: Future>(future: Pin<&mut F>) {
    assert!(future.poll(&mut Context::from_waker(Waker::noop())).is_pending());
}

/// The 1-based line of this file that carries `// line: tag`.
fn line_of(tag: &str) -> u32 {
    let source = include_str!("tests.rs");
    let marker = format!("// line: {tag}");
    source.lines().position(|l| l.ends_with(&marker)).unwrap() as u32 + 1
}

fn read<F: Future>(future: &F) -> Vec<AwaitFrame> {
    let mut mem = ProcessMemory::open(std::process::id()).unwrap();
    let location = FutureLocation { addr: future as *const F as usize as u64, type_marker: marker(future) };
    tracer().trace(&mut mem, &TaskSlots::default(), location)
}

fn summary(frames: &[AwaitFrame]) -> Vec<(u16, String, Option<u32>, String)> {
    frames
        .iter()
        .map(|f| {
            let state = match &f.state {
                FrameState::Waiting { .. } => "waiting".to_string(),
                other => format!("{other:?}"),
            };
            let path = f.function.split('<').next().unwrap();
            let short = &f.function[path.rfind("::").map_or(0, |i| i + 2)..];
            (f.depth, short.to_string(), f.location.as_ref().map(|l| l.line), state)
        })
        .collect()
}

#[test]
fn nested_async_fns_and_a_block_give_each_await_line_outermost_first() {
    let mut future = std::pin::pin!(outer());
    poll_once(future.as_mut());
    let frames = read(&*future);
    let awaiting = |name: &str, tag| (name.to_string(), Some(line_of(tag)), "Awaiting".to_string());
    let got: Vec<_> = summary(&frames).into_iter().map(|(d, n, l, s)| (d, (n, l, s))).collect();
    assert_eq!(
        got,
        vec![
            (0, awaiting("outer", "outer")),
            (1, awaiting("{async_block#0}", "block")),
            (2, awaiting("middle", "middle")),
            (3, awaiting("innermost", "innermost")),
            (4, ("Forever".to_string(), None, "waiting".to_string())),
        ]
    );
    assert!(
        frames[0].location.as_ref().unwrap().file.ends_with("daemon/src/await_trace/tests.rs"),
        "{frames:?}"
    );
    assert_eq!(frames[0].function, "asyncmon_daemon::await_trace::tests::outer");
}

#[test]
fn a_generic_async_fn_is_traced_with_its_type_argument() {
    let mut future = std::pin::pin!(generic(String::from("x")));
    poll_once(future.as_mut());
    let frames = read(&*future);
    assert_eq!(
        summary(&frames)[0],
        (0, "generic<alloc::string::String>".into(), Some(line_of("generic")), "Awaiting".into())
    );
}

#[test]
fn a_future_not_polled_yet_is_said_to_be_not_started() {
    let future = std::pin::pin!(middle(1));
    let frames = read(&*future);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0].state, FrameState::NotStarted);
    assert_eq!(frames[0].function, "asyncmon_daemon::await_trace::tests::middle");
}

#[test]
fn garbage_where_a_future_should_be_is_unknown_never_a_made_up_line() {
    let future = std::pin::pin!(outer());
    let type_marker = marker(&*future);
    let size = std::mem::size_of_val(&*future);
    let mut tracer = tracer();
    for fill in [0x00u8, 0x07, 0x5a, 0xff] {
        let mut mem = FakeMemory { base: 0x1000, bytes: vec![fill; size] };
        let frames =
            tracer.trace(&mut mem, &TaskSlots::default(), FutureLocation { addr: 0x1000, type_marker });
        // A state byte of 0 is "not started"; anything past the states is unknown.
        let last = frames.last().unwrap();
        assert!(
            matches!(
                last.state,
                FrameState::NotStarted | FrameState::Unknown { .. } | FrameState::Waiting { .. }
            ),
            "fill {fill:#x}: {frames:?}"
        );
        if fill >= 0x07 {
            assert!(matches!(frames[0].state, FrameState::Unknown { .. }), "fill {fill:#x}: {frames:?}");
            assert!(frames[0].location.is_none());
        }
    }
}

#[test]
fn memory_that_cannot_be_read_and_a_marker_that_is_no_function_are_said() {
    let future = std::pin::pin!(outer());
    let type_marker = marker(&*future);
    let mut tracer = tracer();
    let mut empty = FakeMemory { base: 0, bytes: Vec::new() };
    let frames =
        tracer.trace(&mut empty, &TaskSlots::default(), FutureLocation { addr: 0x1000, type_marker });
    assert!(
        matches!(&frames[0].state, FrameState::Unknown { reason } if reason.contains("cannot be read")),
        "{frames:?}"
    );
    let frames =
        tracer.trace(&mut empty, &TaskSlots::default(), FutureLocation { addr: 0x1000, type_marker: 3 });
    assert!(
        matches!(&frames[0].state, FrameState::Unknown { reason } if reason.contains("type marker")),
        "{frames:?}"
    );
}
