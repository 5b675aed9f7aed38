//! The executor: static task slots and `run`, asyncio's `asyncio.run`.

use crate::exception::{Exception, KeyboardInterrupt, TaskMeta};
use crate::raw::header::TaskHeader;
use crate::raw::{hooks, Endings, ExecutorCore, RawExecutor, SlotStorage};
use crate::spawner::Spawner;
use asyncmon_protocol::device::MAIN_TASK_ID;
use core::cell::UnsafeCell;
use core::future::Future;
use core::panic::Location;
use core::sync::atomic::Ordering;
use embassy_time::Duration;

/// How long a cancelled task may take to finish its cleanup before it is dropped, unless
/// [`Config::cancel_deadline`] says otherwise.
pub const DEFAULT_CANCEL_DEADLINE: Duration = Duration::from_secs(2);

/// How an executor runs; given to [`Executor::run_with`]. Kept out of the executor itself so that
/// an executor's initial value is all zeros: its task storage then lives in `.bss` (no flash, no
/// copy at boot), whatever the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// How long a cancelled task may take to finish its cleanup before it is dropped (its `Drop`
    /// still runs). The same deadline bounds a whole stop.
    pub cancel_deadline: Duration,
    /// How often the executor looks at the down channel for stop requests when the firmware has no
    /// doorbell (`link::doorbell`): the core wakes this often even with nothing to do. With a
    /// doorbell it is not used, and an idle executor sleeps until its next timer or interrupt.
    pub fallback_poll: Duration,
}

/// How often an executor without a doorbell looks for stop requests, unless
/// [`Config::fallback_poll`] says otherwise.
pub const DEFAULT_FALLBACK_POLL: Duration = Duration::from_millis(20);

impl Default for Config {
    fn default() -> Self {
        Config { cancel_deadline: DEFAULT_CANCEL_DEADLINE, fallback_poll: DEFAULT_FALLBACK_POLL }
    }
}

/// An executor with `TASKS` task slots of `SLOT_BYTES` bytes each, meant to live in a `static`:
///
/// ```no_run
/// use asyncmon_agent::{Cancelled, Executor, Spawner};
///
/// static EXECUTOR: Executor<8, 2048> = Executor::new();
///
/// async fn app(spawner: Spawner) -> Result<(), Cancelled> {
///     let worker = spawner.spawn("worker", async { Ok::<u32, Cancelled>(42) }).unwrap();
///     assert_eq!(worker.await?, 42);
///     Ok(())
/// }
///
/// let outcome = EXECUTOR.run(|spawner| app(spawner));
/// ```
///
/// A slot holds a task's future, then its output until the handle collects it. A task whose
/// future is larger than `SLOT_BYTES` is refused with [`crate::SpawnError::TooLarge`]; when every
/// slot is taken, spawn returns [`crate::SpawnError::NoFreeSlot`].
pub struct Executor<const TASKS: usize, const SLOT_BYTES: usize> {
    core: ExecutorCore,
    headers: [TaskHeader; TASKS],
    storage: UnsafeCell<[SlotStorage<SLOT_BYTES>; TASKS]>,
}

// SAFETY: the `Cell`s, `RefCell`s and slot storage are only touched by the thread that called
// `run` (which refuses to run twice at once): `Spawner` and `JoinHandle`, the only other ways in,
// are `!Send` and only exist on that thread. Other threads and interrupts reach the executor only
// through wakers, which touch nothing but the atomic `TaskSignal`s.
unsafe impl<const TASKS: usize, const SLOT_BYTES: usize> Sync for Executor<TASKS, SLOT_BYTES> {}

impl<const TASKS: usize, const SLOT_BYTES: usize> Default for Executor<TASKS, SLOT_BYTES> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const TASKS: usize, const SLOT_BYTES: usize> Executor<TASKS, SLOT_BYTES> {
    /// An executor with every slot free. Its initial value is all zeros, so a `static` executor
    /// and its task storage live in `.bss`.
    pub const fn new() -> Self {
        Executor {
            core: ExecutorCore::new(),
            headers: [const { TaskHeader::new() }; TASKS],
            storage: UnsafeCell::new([SlotStorage::EMPTY; TASKS]),
        }
    }

    /// Runs `main` until it finishes or a stop request arrives (asyncio's `asyncio.run`).
    ///
    /// When main finishes, the tasks still running are cancelled and awaited, then main's result
    /// is returned. When the host asks to stop, main is cancelled first (its awaits return
    /// `Cancelled`, so its async cleanup runs); when main has finished, every task still running is
    /// cancelled and awaited the same way; failures raised during that shutdown go to the exception
    /// handler as such; then `Err(KeyboardInterrupt)` is returned and the host gets an
    /// acknowledgement listing each task and how it ended. A second stop request drops whatever is
    /// still running (`hard_stop`); at the cancel deadline, whatever is still running is dropped
    /// and reported as dropped at the deadline.
    ///
    /// # Panics
    /// If the executor is already running.
    #[track_caller]
    pub fn run<M, F, T, E>(&'static self, main: M) -> Result<Result<T, E>, KeyboardInterrupt>
    where
        M: FnOnce(Spawner) -> F,
        F: Future<Output = Result<T, E>>,
        E: Exception,
    {
        self.run_with(Config::default(), main)
    }

    /// [`Executor::run`] with a [`Config`] other than the default.
    ///
    /// # Panics
    /// If the executor is already running.
    #[track_caller]
    pub fn run_with<M, F, T, E>(
        &'static self,
        config: Config,
        main: M,
    ) -> Result<Result<T, E>, KeyboardInterrupt>
    where
        M: FnOnce(Spawner) -> F,
        F: Future<Output = Result<T, E>>,
        E: Exception,
    {
        assert!(!self.core.running.replace(true), "Executor::run called while it is running");
        self.core.cancel_deadline.set(config.cancel_deadline);
        self.core.fallback_poll.set(config.fallback_poll);
        self.core.passes.store(0, Ordering::Relaxed);
        self.core.shutting_down.set(false);
        *self.core.endings.borrow_mut() = Endings::new();
        self.core.main.reset();
        let exec = self.raw();
        let main_meta =
            TaskMeta { id: MAIN_TASK_ID, name: "main", spawned_at: Location::caller(), parent: None };
        hooks::executor_started(&self.core);
        let outcome = crate::raw::run_loop::run(exec, main_meta, main(Spawner::new(exec)));
        self.core.running.set(false);
        outcome
    }
}

impl<const TASKS: usize, const SLOT_BYTES: usize> Executor<TASKS, SLOT_BYTES> {
    /// How many times the run loop has gone round since the last `run` started — on a board, each
    /// one is the core awake. An executor with nothing to do sleeps, and this stays still.
    pub fn loop_passes(&self) -> u32 {
        self.core.passes.load(Ordering::Relaxed)
    }

    fn raw(&'static self) -> RawExecutor {
        RawExecutor::new(
            &self.core,
            &self.headers,
            self.storage.get() as *mut u8,
            core::mem::size_of::<SlotStorage<SLOT_BYTES>>(),
            SLOT_BYTES,
        )
    }
}
