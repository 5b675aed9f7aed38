//! The executor: static task slots and `run`, asyncio's `asyncio.run`.

use crate::exception::{Exception, KeyboardInterrupt};
use crate::ready_queue::ReadyQueue;
use crate::spawner::{Spawner, SLOT_ALIGN};
use crate::task::{TaskHeader, TaskMeta};
use crate::waker::TaskSignal;
use asyncmon_protocol::device::{TaskEnding, TaskId, TaskOutcome, MAIN_TASK_ID, MAX_ACK_TASKS};
use core::cell::{Cell, RefCell, UnsafeCell};
use core::future::Future;
use core::mem::MaybeUninit;
use core::panic::Location;
use core::sync::atomic::{AtomicU32, Ordering};
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
}

impl Default for Config {
    fn default() -> Self {
        Config { cancel_deadline: DEFAULT_CANCEL_DEADLINE }
    }
}

/// How each task ended during a stop, for the acknowledgement.
pub(crate) struct Endings {
    pub recording: bool,
    pub tasks: heapless::Vec<TaskEnding, MAX_ACK_TASKS>,
    pub total: u32,
}

impl Endings {
    pub(crate) const fn new() -> Self {
        Endings { recording: false, tasks: heapless::Vec::new(), total: 0 }
    }

    pub fn record(&mut self, id: TaskId, outcome: TaskOutcome) {
        if self.recording {
            self.total += 1;
            let _ = self.tasks.push(TaskEnding { id, outcome });
        }
    }
}

/// The executor's state that does not depend on its sizes.
pub(crate) struct ExecutorCore {
    running: Cell<bool>,
    /// The tasks woken since the run loop last looked.
    pub ready: ReadyQueue,
    /// Slots not free (running, or holding an output for a handle).
    pub live: Cell<usize>,
    /// Slots from this index on have never held a task (all free).
    fresh: Cell<usize>,
    /// The first slot freed after use, + 1 (0: none); the rest follow `TaskHeader::next_free`.
    free_head: Cell<usize>,
    pub main: TaskSignal,
    pub control: TaskSignal,
    /// The next task id, or 0 for the first (ids after main's); zero-initialised like all of it.
    next_id: Cell<TaskId>,
    /// The task being polled (main while main is polled).
    pub current: Cell<TaskId>,
    /// Main has ended (or a stop came): every task still running is being cancelled.
    pub shutting_down: Cell<bool>,
    /// From the [`Config`] of the running `run_with`.
    pub cancel_deadline: Cell<Duration>,
    pub endings: RefCell<Endings>,
    /// How many times the run loop went round since `run` started; written by the executor's
    /// thread only (a load and a store: thumbv6m has no atomic read-modify-write).
    pub passes: AtomicU32,
}

impl ExecutorCore {
    /// Every field starts at zero: see [`Config`].
    const fn new() -> Self {
        ExecutorCore {
            running: Cell::new(false),
            ready: ReadyQueue::new(),
            live: Cell::new(0),
            fresh: Cell::new(0),
            free_head: Cell::new(0),
            main: TaskSignal::new(),
            control: TaskSignal::new(),
            next_id: Cell::new(0),
            current: Cell::new(MAIN_TASK_ID),
            shutting_down: Cell::new(false),
            cancel_deadline: Cell::new(Duration::from_ticks(0)),
            endings: RefCell::new(Endings::new()),
            passes: AtomicU32::new(0),
        }
    }

    pub fn next_task_id(&self) -> TaskId {
        let id = self.next_id.get().max(MAIN_TASK_ID + 1);
        self.next_id.set(id.wrapping_add(1));
        id
    }

    pub fn record_ending(&self, id: TaskId, outcome: TaskOutcome) {
        if let Ok(mut endings) = self.endings.try_borrow_mut() {
            endings.record(id, outcome);
        }
    }
}

/// The storage of one slot: a task's future, then its output.
#[repr(C, align(16))]
pub(crate) struct SlotStorage<const B: usize>(MaybeUninit<[u8; B]>);

const _: () = assert!(core::mem::align_of::<SlotStorage<1>>() == SLOT_ALIGN);

/// The executor as the rest of the crate sees it, whatever its sizes: plain references and a
/// pointer, so the hot paths make no dynamic calls.
#[derive(Clone, Copy)]
pub(crate) struct RawExecutor {
    core: &'static ExecutorCore,
    headers: &'static [TaskHeader],
    storage: *mut u8,
    stride: usize,
    slot_bytes: usize,
}

impl RawExecutor {
    #[inline]
    pub fn core(&self) -> &'static ExecutorCore {
        self.core
    }

    #[inline]
    pub fn headers(&self) -> &'static [TaskHeader] {
        self.headers
    }

    /// The storage of slot `index` (in bounds: `index < headers().len()`).
    #[inline]
    pub fn storage(&self, index: usize) -> *mut u8 {
        self.storage.wrapping_add(index * self.stride)
    }

    #[inline]
    pub fn slot_bytes(&self) -> usize {
        self.slot_bytes
    }

    /// The slot whose header holds `signal` (taken off this executor's ready queue).
    #[inline]
    pub fn index_of(&self, signal: &TaskSignal) -> usize {
        let offset = (signal as *const TaskSignal as usize).wrapping_sub(self.headers.as_ptr() as usize);
        let index = offset / core::mem::size_of::<TaskHeader>();
        debug_assert!(index < self.headers.len(), "a signal from another executor's queue");
        index
    }

    /// A free slot, marked live, in constant time; `None` when every slot is taken.
    pub fn claim_slot(&self) -> Option<usize> {
        let core = self.core;
        let index = match core.free_head.get() {
            0 => {
                let fresh = core.fresh.get();
                if fresh == self.headers.len() {
                    return None;
                }
                core.fresh.set(fresh + 1);
                self.headers[fresh].signal.bind(&core.ready);
                fresh
            }
            head => {
                let index = head - 1;
                core.free_head.set(self.headers[index].next_free.get());
                index
            }
        };
        core.live.set(core.live.get() + 1);
        Some(index)
    }

    /// Gives slot `index` back (its storage already dropped or moved out).
    pub fn release_slot(&self, index: usize) {
        let core = self.core;
        self.headers[index].next_free.set(core.free_head.get());
        core.free_head.set(index + 1);
        core.live.set(core.live.get() - 1);
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
            storage: UnsafeCell::new([const { SlotStorage(MaybeUninit::uninit()) }; TASKS]),
        }
    }

    /// Runs `main` until it finishes or a stop request arrives (asyncio's `asyncio.run`).
    ///
    /// When main finishes, the tasks still running are cancelled and awaited, then main's result
    /// is returned. When the host asks to stop, main is cancelled first (its awaits return
    /// `Cancelled`, so its async cleanup runs); when main has finished, every task still running is
    /// cancelled and awaited the same way; failures raised during that shutdown go to the exception
    /// handler as such; then `Err(KeyboardInterrupt)` is returned and the host gets an
    /// acknowledgement listing each task and how it ended. A second stop request, or the cancel
    /// deadline, drops whatever is still running (`hard_stop`).
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
        self.core.passes.store(0, Ordering::Relaxed);
        self.core.shutting_down.set(false);
        *self.core.endings.borrow_mut() = Endings::new();
        self.core.main.reset();
        let exec = self.raw();
        let main_meta =
            TaskMeta { id: MAIN_TASK_ID, name: "main", spawned_at: Location::caller(), parent: None };
        crate::link::send_task_spawned(&main_meta, core::mem::size_of::<F>());
        let outcome = crate::run_loop::run(exec, main_meta, main(Spawner::new(exec)));
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
        RawExecutor {
            core: &self.core,
            headers: &self.headers,
            storage: self.storage.get() as *mut u8,
            stride: core::mem::size_of::<SlotStorage<SLOT_BYTES>>(),
            slot_bytes: SLOT_BYTES,
        }
    }
}
