//! The benchmark workloads, the same work on three executors: the agent, embassy-executor 0.10 on
//! its spin platform (its pender is a no-op flag, so the figure is the executor's own cost), and
//! tokio's current-thread runtime with a `LocalSet`. Shared by the criterion benchmarks and the
//! callgrind driver (`examples/instructions.rs`).
//!
//! Signals are embassy-sync `Signal`s with a `NoopRawMutex` for all three, so the executors, not
//! the synchronisation, are measured. The agent runs on its `std` platform, which, while the
//! executor is awake (always, in these loops), costs a wake no more than two atomic operations:
//! no lock, no syscall, the same kind of cost as embassy's spin pender.

#![allow(dead_code)]

use asyncmon_agent::{cancellable, Cancelled, Executor, Spawner};
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_sync::signal::Signal;
use std::sync::atomic::{AtomicBool, Ordering};

type Flag = Signal<NoopRawMutex, u64>;

fn leak_flag() -> &'static Flag {
    Box::leak(Box::new(Signal::new()))
}

// ---------------------------------------------------------------------------------------------
// The agent.

static AGENT_ONE_SLOT: Executor<1, 128> = Executor::new();

/// (1) Spawn a task, run it to completion, reclaim the slot: `n` times, with one slot. The parent
/// awaits the handle (a join, which embassy does not have).
pub fn agent_spawn_join(n: u64) {
    let result = AGENT_ONE_SLOT.run(|spawner| async move {
        for i in 0..n {
            let value = spawner.spawn("child", async move { Ok::<u64, Cancelled>(i) }).unwrap().await?;
            std::hint::black_box(value);
        }
        Ok::<(), Cancelled>(())
    });
    assert!(matches!(result, Ok(Ok(()))));
}

/// (2) Wake-and-poll ping-pong between two tasks through signals, `n` round trips: (3) with no
/// idle tasks.
pub fn agent_ping_pong(n: u64) {
    agent_ping_pong_idle(0, n);
}

/// The numbers of idle tasks the scaling case (3) is measured with.
pub const IDLE_TASKS: [usize; 4] = [0, 16, 64, 256];

static AGENT_IDLE_0: Executor<2, 256> = Executor::new();
static AGENT_IDLE_16: Executor<18, 256> = Executor::new();
static AGENT_IDLE_64: Executor<66, 256> = Executor::new();
static AGENT_IDLE_256: Executor<258, 256> = Executor::new();

/// (3) The ping-pong of (2) while `k` other tasks sit idle, each awaiting its own signal: the cost
/// of a wake should not grow with the number of tasks. The idle tasks are cancelled at the end
/// (their waits are wrapped in `cancellable`, so they see it). Each `k` has an executor of exactly
/// `k + 2` slots.
pub fn agent_ping_pong_idle(k: usize, n: u64) {
    let executor: &'static dyn RunPingPong = match k {
        0 => &AGENT_IDLE_0,
        16 => &AGENT_IDLE_16,
        64 => &AGENT_IDLE_64,
        256 => &AGENT_IDLE_256,
        _ => panic!("no executor for {k} idle tasks: {IDLE_TASKS:?}"),
    };
    assert_eq!(executor.run_ping_pong(k, n), n);
}

/// `Executor::run` for any slot count.
trait RunPingPong: Sync {
    fn run_ping_pong(&'static self, k: usize, n: u64) -> u64;
}

impl<const TASKS: usize, const SLOT_BYTES: usize> RunPingPong for Executor<TASKS, SLOT_BYTES> {
    fn run_ping_pong(&'static self, k: usize, n: u64) -> u64 {
        let (ping, pong) = (leak_flag(), leak_flag());
        let result = self.run(|spawner: Spawner| async move {
            let idle: Vec<_> = (0..k)
                .map(|_| {
                    let never = leak_flag();
                    spawner.spawn("idle", async move { cancellable(never.wait()).await.map(drop) }).unwrap()
                })
                .collect();
            let ponger = spawner
                .spawn("ponger", async move {
                    for _ in 0..n {
                        let v = ping.wait().await;
                        pong.signal(v + 1);
                    }
                    Ok::<(), Cancelled>(())
                })
                .unwrap();
            let mut v = 0;
            for _ in 0..n {
                ping.signal(v);
                v = pong.wait().await;
            }
            ponger.await?;
            for task in &idle {
                task.cancel();
            }
            for task in idle {
                let _ = task.await;
            }
            Ok::<u64, Cancelled>(v)
        });
        result.unwrap().unwrap()
    }
}

// ---------------------------------------------------------------------------------------------
// embassy-executor, spin platform, driven by its raw executor.

fn embassy_executor() -> &'static embassy_executor::raw::Executor {
    use std::sync::OnceLock;
    struct Shared(&'static embassy_executor::raw::Executor);
    // SAFETY: the benchmarks use the executor from one thread only; the wrapper exists to keep
    // the reference in a static.
    unsafe impl Send for Shared {}
    // SAFETY: as above.
    unsafe impl Sync for Shared {}
    static EXEC: OnceLock<Shared> = OnceLock::new();
    EXEC.get_or_init(|| {
        Shared(Box::leak(Box::new(embassy_executor::raw::Executor::new(core::ptr::null_mut()))))
    })
    .0
}

fn embassy_run_until(done: &AtomicBool) {
    let exec = embassy_executor();
    while !done.load(Ordering::Relaxed) {
        // SAFETY: polled from the one thread that owns the executor, never re-entrantly.
        unsafe { exec.poll() };
    }
}

#[embassy_executor::task(pool_size = 1)]
async fn embassy_child(i: u64, finished: &'static Flag) {
    finished.signal(std::hint::black_box(i));
}

#[embassy_executor::task]
async fn embassy_spawner_task(
    spawner: embassy_executor::Spawner,
    n: u64,
    finished: &'static Flag,
    done: &'static AtomicBool,
) {
    for i in 0..n {
        spawner.spawn(embassy_child(i, finished).unwrap());
        std::hint::black_box(finished.wait().await);
    }
    done.store(true, Ordering::Relaxed);
}

/// (1) on embassy: spawn into a pool of one, run to completion (the child signals the parent,
/// since embassy tasks cannot be joined), reclaim: `n` times.
pub fn embassy_spawn_join(n: u64) {
    let done: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let spawner = embassy_executor().spawner();
    spawner.spawn(embassy_spawner_task(spawner, n, leak_flag(), done).unwrap());
    embassy_run_until(done);
}

#[embassy_executor::task]
async fn embassy_ponger(n: u64, ping: &'static Flag, pong: &'static Flag) {
    for _ in 0..n {
        let v = ping.wait().await;
        pong.signal(v + 1);
    }
}

#[embassy_executor::task]
async fn embassy_pinger(n: u64, ping: &'static Flag, pong: &'static Flag, done: &'static AtomicBool) {
    let mut v = 0;
    for _ in 0..n {
        ping.signal(v);
        v = pong.wait().await;
    }
    assert_eq!(v, n);
    done.store(true, Ordering::Relaxed);
}

/// (2) on embassy.
pub fn embassy_ping_pong(n: u64) {
    let done: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let (ping, pong) = (leak_flag(), leak_flag());
    let spawner = embassy_executor().spawner();
    spawner.spawn(embassy_ponger(n, ping, pong).unwrap());
    spawner.spawn(embassy_pinger(n, ping, pong, done).unwrap());
    embassy_run_until(done);
}

#[embassy_executor::task(pool_size = 336)]
async fn embassy_idle(never: &'static Flag) {
    never.wait().await;
}

/// An embassy executor with `k` idle tasks, one per `k` (embassy tasks cannot be cancelled: they
/// stay, idle, for the next run).
fn embassy_executor_with_idle(k: usize) -> &'static embassy_executor::raw::Executor {
    use std::sync::{Mutex, OnceLock};
    struct Shared(&'static embassy_executor::raw::Executor);
    // SAFETY: as in `embassy_executor`: used from one thread only.
    unsafe impl Send for Shared {}
    static EXECUTORS: OnceLock<Mutex<Vec<(usize, Shared)>>> = OnceLock::new();
    let mut executors = EXECUTORS.get_or_init(Default::default).lock().unwrap();
    if let Some((_, exec)) = executors.iter().find(|(idle, _)| *idle == k) {
        return exec.0;
    }
    let exec: &'static embassy_executor::raw::Executor =
        Box::leak(Box::new(embassy_executor::raw::Executor::new(core::ptr::null_mut())));
    for _ in 0..k {
        exec.spawner().spawn(embassy_idle(leak_flag()).unwrap());
    }
    // SAFETY: polled from the one thread that owns the executor: the idle tasks start waiting.
    unsafe { exec.poll() };
    executors.push((k, Shared(exec)));
    exec
}

/// (3) on embassy.
pub fn embassy_ping_pong_idle(k: usize, n: u64) {
    let exec = embassy_executor_with_idle(k);
    let done: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let (ping, pong) = (leak_flag(), leak_flag());
    let spawner = exec.spawner();
    spawner.spawn(embassy_ponger(n, ping, pong).unwrap());
    spawner.spawn(embassy_pinger(n, ping, pong, done).unwrap());
    while !done.load(Ordering::Relaxed) {
        // SAFETY: polled from the one thread that owns the executor, never re-entrantly.
        unsafe { exec.poll() };
    }
}

// ---------------------------------------------------------------------------------------------
// tokio, current-thread runtime with a LocalSet.

thread_local! {
    static TOKIO: tokio::runtime::Runtime =
        tokio::runtime::Builder::new_current_thread().build().expect("a current-thread runtime");
}

/// (1) on tokio: `spawn_local` and await the `JoinHandle`, `n` times.
pub fn tokio_spawn_join(n: u64) {
    TOKIO.with(|rt| {
        tokio::task::LocalSet::new().block_on(rt, async move {
            for i in 0..n {
                std::hint::black_box(tokio::task::spawn_local(async move { i }).await.unwrap());
            }
        })
    });
}

/// (2) on tokio.
pub fn tokio_ping_pong(n: u64) {
    let (ping, pong) = (leak_flag(), leak_flag());
    TOKIO.with(|rt| {
        tokio::task::LocalSet::new().block_on(rt, async move {
            let ponger = tokio::task::spawn_local(async move {
                for _ in 0..n {
                    let v = ping.wait().await;
                    pong.signal(v + 1);
                }
            });
            let mut v = 0;
            for _ in 0..n {
                ping.signal(v);
                v = pong.wait().await;
            }
            ponger.await.unwrap();
            assert_eq!(v, n);
        })
    });
}
