//! A firmware whose tasks wait in every shape an await trace must read right: async fns nested
//! three deep, an `async` block, a generic async fn, a future awaited in a loop, a combinator
//! holding a future (`wait_for`), a task awaiting another task's handle, a gather, embassy-sync's
//! primitives (a channel, a PubSub subscriber, a watch, a pipe, a signal, a mutex's lock), a
//! `select` (embassy-futures), and a task in its async cleanup after it was cancelled. Each `.await` a trace
//! should name carries a `// await: TAG` comment; the end-to-end tests check every task's trace
//! against those lines, on the simulated board and on QEMU's boards. It runs until stopped.

use asyncmon_agent::{
    cancellable, gather, link, sleep, wait_for, Cancelled, Config, Executor, JoinHandle, Spawner,
    KEYBOARD_INTERRUPT_EXIT_CODE,
};
use embassy_futures::select::select;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::channel::Channel;
use embassy_sync::mutex::Mutex;
use embassy_sync::pipe::Pipe;
use embassy_sync::pubsub::PubSubChannel;
use embassy_sync::signal::Signal;
use embassy_sync::watch::Watch;
use embassy_time::Duration;

/// Long enough to be forever for a test, short enough to wake now and then.
const FOREVER: Duration = Duration::from_secs(3600);

/// Bytes per task slot: the gatherer's future, the largest, holds two join handles (which hold
/// pointers); 64 words leaves room on every target and fits a micro:bit's 16 KiB.
const SLOT_BYTES: usize = 64 * core::mem::size_of::<usize>();

static EXECUTOR: Executor<18, SLOT_BYTES> = Executor::new();

/// Nobody ever sends on it: its receiver waits.
static CHANNEL: Channel<CriticalSectionRawMutex, u32, 2> = Channel::new();
/// Nobody publishes: its subscriber waits.
static NEWS: PubSubChannel<CriticalSectionRawMutex, u32, 2, 2, 1> = PubSubChannel::new();
/// Never set: its receiver waits for a change.
static SETTING: Watch<CriticalSectionRawMutex, u32, 2> = Watch::new();
/// Nobody writes: its reader waits.
static BYTES: Pipe<CriticalSectionRawMutex, 8> = Pipe::new();
/// Never signalled, never sent on: `selector`'s two branches (a waker each: one primitive per
/// waiting task, or two tasks would wake each other for ever).
static DOORBELL: Signal<CriticalSectionRawMutex, u32> = Signal::new();
static LETTERS: Channel<CriticalSectionRawMutex, u32, 2> = Channel::new();
/// Held by `main` for ever: `locker` waits for it.
static LOCK: Mutex<CriticalSectionRawMutex, u32> = Mutex::new(0);

async fn level3() -> Result<(), Cancelled> {
    sleep(FOREVER).await // await: level3
}

async fn level2() -> Result<(), Cancelled> {
    level3().await // await: level2
}

async fn three_deep() -> Result<(), Cancelled> {
    level2().await // await: three_deep
}

async fn in_a_block() -> Result<(), Cancelled> {
    let block = async {
        sleep(FOREVER).await // await: block_inner
    };
    block.await // await: block_outer
}

async fn generic<T: Clone>(value: T) -> Result<T, Cancelled> {
    sleep(FOREVER).await?; // await: generic
    Ok(value)
}

async fn looping() -> Result<(), Cancelled> {
    loop {
        sleep(Duration::from_millis(5)).await?; // await: looping
    }
}

async fn deadline() -> Result<(), Cancelled> {
    let outcome = wait_for(FOREVER, level3()).await; // await: deadline
    outcome.unwrap_or(Ok(()))
}

async fn joiner(handle: JoinHandle<(), Cancelled>) -> Result<(), Cancelled> {
    handle.await // await: joiner
}

async fn gatherer(handles: [JoinHandle<(), Cancelled>; 2]) -> Result<(), Cancelled> {
    gather(handles).await.map(|_| ()) // await: gatherer
}

async fn receiver() -> Result<(), Cancelled> {
    let value = cancellable(CHANNEL.receive()).await?; // await: receiver
    let _ = value;
    Ok(())
}

async fn subscriber() -> Result<(), Cancelled> {
    let Ok(mut news) = NEWS.subscriber() else { return Ok(()) };
    cancellable(news.next_message()).await?; // await: subscriber
    Ok(())
}

async fn watcher() -> Result<(), Cancelled> {
    let Some(mut setting) = SETTING.receiver() else { return Ok(()) };
    cancellable(setting.changed()).await?; // await: watcher
    Ok(())
}

async fn pipe_reader() -> Result<(), Cancelled> {
    let mut buffer = [0u8; 4];
    cancellable(BYTES.read(&mut buffer)).await?; // await: pipe_reader
    Ok(())
}

async fn locker() -> Result<(), Cancelled> {
    let _held = cancellable(LOCK.lock()).await?; // await: locker
    Ok(())
}

async fn selector() -> Result<(), Cancelled> {
    cancellable(select(DOORBELL.wait(), LETTERS.receive())).await?; // await: selector
    Ok(())
}

async fn cleaning_up() -> Result<(), Cancelled> {
    if let Err(cancelled) = sleep(FOREVER).await {
        // Async cleanup, after its cancellation, until the next one (the stop).
        sleep(FOREVER).await?; // await: cleanup
        return Err(cancelled);
    }
    Ok(())
}

async fn main_task(spawner: Spawner) -> Result<(), Cancelled> {
    let spawn = |name, result: Result<JoinHandle<(), Cancelled>, _>| match result {
        Ok(handle) => handle,
        Err(e) => panic!("spawning {name}: {e:?}"),
    };
    let _three = spawn("three_deep", spawner.spawn("three_deep", three_deep()));
    let _block = spawn("in_a_block", spawner.spawn("in_a_block", in_a_block()));
    let _generic = spawner.spawn("generic", generic(7u16));
    let _looping = spawn("looping", spawner.spawn("looping", looping()));
    let _deadline = spawn("deadline", spawner.spawn("deadline", deadline()));
    let joined = spawn("joined", spawner.spawn("joined", level3()));
    let _joiner = spawner.spawn("joiner", joiner(joined));
    let gathered = [
        spawn("gathered_a", spawner.spawn("gathered_a", level3())),
        spawn("gathered_b", spawner.spawn("gathered_b", level3())),
    ];
    let _gatherer = spawner.spawn("gatherer", gatherer(gathered));
    let _receiver = spawn("receiver", spawner.spawn("receiver", receiver()));
    let _subscriber = spawn("subscriber", spawner.spawn("subscriber", subscriber()));
    let _watcher = spawn("watcher", spawner.spawn("watcher", watcher()));
    let _pipe_reader = spawn("pipe_reader", spawner.spawn("pipe_reader", pipe_reader()));
    // main holds the lock while it waits: `locker` waits for it.
    let _held = LOCK.lock().await;
    let _locker = spawn("locker", spawner.spawn("locker", locker()));
    let _selector = spawn("selector", spawner.spawn("selector", selector()));
    let cleaning = spawn("cleaning_up", spawner.spawn("cleaning_up", cleaning_up()));
    // Once it has started (a task cancelled before it starts never runs), it is cancelled: it
    // waits in its cleanup.
    sleep(Duration::from_millis(1)).await?;
    cleaning.cancel();
    sleep(FOREVER).await // await: main
}

/// Runs the shapes firmware until a stop; returns the exit code (130 after it).
pub fn run() -> i32 {
    link::init("asyncmon-shapes", env!("CARGO_PKG_VERSION"));
    // A long cancel deadline: `cleaning_up` stays in its cleanup until the stop.
    let config = Config { cancel_deadline: Duration::from_secs(3600), ..Config::default() };
    let code = match EXECUTOR.run_with(config, main_task) {
        Ok(_) => 0,
        Err(_) => KEYBOARD_INTERRUPT_EXIT_CODE,
    };
    link::drain(Duration::from_millis(500));
    code
}
