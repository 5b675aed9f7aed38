//! The executor's type-erased core, as embassy's `raw` module is: what the executor keeps whatever
//! its sizes ([`ExecutorCore`]), the view of one executor the rest of the agent works with
//! ([`RawExecutor`]), and below them the slot headers, signals and wakers, the ready queue, the
//! type-erased task operations, what happens to a slot, the run loop, and one module of hooks
//! where the executor tells the rest of the agent what its tasks do.
//!
//! Nothing here imports the public API above it (`Executor`, `Spawner`, `JoinHandle`, the
//! awaitables); they import this.

pub(crate) mod header;
pub(crate) mod hooks;
pub(crate) mod ready_queue;
pub(crate) mod run_loop;
pub(crate) mod signal;
pub(crate) mod slots;
pub(crate) mod vtable;

use asyncmon_protocol::device::{TaskEnding, TaskId, TaskOutcome, MAIN_TASK_ID, MAX_ACK_TASKS};
use core::cell::{Cell, RefCell};
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU32, Ordering};
use embassy_time::Duration;
use header::TaskHeader;
use ready_queue::ReadyQueue;
use signal::TaskSignal;

/// No task is being polled (in `ExecutorCore::current`).
pub(crate) const NO_TASK: TaskId = u32::MAX;

/// Slot alignment: the storage of every slot is aligned to this many bytes.
pub(crate) const SLOT_ALIGN: usize = 16;

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

    /// Records how task `id` ended; main goes first, however late it ended (it awaited a task, say).
    pub fn record(&mut self, id: TaskId, outcome: TaskOutcome) {
        if !self.recording {
            return;
        }
        self.total += 1;
        let ending = TaskEnding { id, outcome };
        if id == MAIN_TASK_ID {
            if self.tasks.is_full() {
                self.tasks.pop();
            }
            let _ = self.tasks.insert(0, ending);
        } else {
            let _ = self.tasks.push(ending);
        }
    }
}

/// The executor's state that does not depend on its sizes.
pub(crate) struct ExecutorCore {
    pub running: Cell<bool>,
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
    /// The task being polled, plus one (0: none, so that it starts at zero like everything here);
    /// see [`ExecutorCore::current_task`]. An atomic of plain loads and stores: a panic hook may
    /// look from another thread.
    current: AtomicU32,
    /// Main has ended (or a stop came): every task still running is being cancelled.
    pub shutting_down: Cell<bool>,
    /// From the `Config` of the running `run_with`.
    pub cancel_deadline: Cell<Duration>,
    /// From the `Config` of the running `run_with`.
    pub fallback_poll: Cell<Duration>,
    /// A task was polled since the last statistics sample (with `task-stats`): a sample is due.
    pub polled_since_sample: Cell<bool>,
    pub endings: RefCell<Endings>,
    /// How many times the run loop went round since `run` started; written by the executor's
    /// thread only (a load and a store: thumbv6m has no atomic read-modify-write).
    pub passes: AtomicU32,
}

impl ExecutorCore {
    /// Every field starts at zero: see `Config`.
    pub const fn new() -> Self {
        ExecutorCore {
            running: Cell::new(false),
            ready: ReadyQueue::new(),
            live: Cell::new(0),
            fresh: Cell::new(0),
            free_head: Cell::new(0),
            main: TaskSignal::new(),
            control: TaskSignal::new(),
            next_id: Cell::new(0),
            current: AtomicU32::new(0),
            shutting_down: Cell::new(false),
            cancel_deadline: Cell::new(Duration::from_ticks(0)),
            fallback_poll: Cell::new(Duration::from_ticks(0)),
            polled_since_sample: Cell::new(false),
            endings: RefCell::new(Endings::new()),
            passes: AtomicU32::new(0),
        }
    }

    /// The task being polled, or [`NO_TASK`].
    #[inline]
    pub fn current_task(&self) -> TaskId {
        self.current.load(Ordering::Relaxed).wrapping_sub(1)
    }

    /// Marks task `id` ([`NO_TASK`]: none) as the one being polled.
    #[inline]
    pub fn set_current_task(&self, id: TaskId) {
        self.current.store(id.wrapping_add(1), Ordering::Relaxed);
    }

    /// The task spawning now: the one being polled (main, outside any poll).
    pub fn spawning_task(&self) -> TaskId {
        match self.current_task() {
            NO_TASK => MAIN_TASK_ID,
            id => id,
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

impl<const B: usize> SlotStorage<B> {
    pub const EMPTY: Self = SlotStorage(MaybeUninit::uninit());
}

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
    /// The view of an executor whose slots are `storage` (`headers.len()` of them, `stride` bytes
    /// apart, `slot_bytes` usable in each).
    pub fn new(
        core: &'static ExecutorCore,
        headers: &'static [TaskHeader],
        storage: *mut u8,
        stride: usize,
        slot_bytes: usize,
    ) -> Self {
        RawExecutor { core, headers, storage, stride, slot_bytes }
    }

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
