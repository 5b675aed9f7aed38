//! The executor: static task slots, the run loop, and what happens at the end of `run`
//! (main finished, or a stop request turned into [`KeyboardInterrupt`]).

use crate::exception::{call_exception_handler, Context, KeyboardInterrupt};
use crate::spawner::{Spawner, SLOT_ALIGN};
use crate::task::{SlotState, TaskHeader, TaskMeta};
use crate::waker::WakeFlag;
use asyncmon_protocol::device::{FailurePath, HostCommand, TaskId, TaskOutcome, MAIN_TASK_ID};
use core::cell::{Cell, UnsafeCell};
use core::future::Future;
use core::mem::MaybeUninit;
use core::panic::Location;
use core::pin::{pin, Pin};
use core::task::Poll;
use embassy_time::{Duration, Timer};

/// How often the executor looks at the RTT down channel for a stop request.
pub const CONTROL_POLL_INTERVAL: Duration = Duration::from_millis(20);

/// The handler message for a failure nobody retrieved (asyncio's wording).
const UNRETRIEVED: &str = "Task exception was never retrieved";

/// The executor's state that does not depend on its sizes.
pub(crate) struct ExecutorCore {
    running: Cell<bool>,
    main_wake: WakeFlag,
    control_wake: WakeFlag,
    next_id: Cell<TaskId>,
    /// The task being polled (main while main is polled).
    pub current: Cell<TaskId>,
}

impl ExecutorCore {
    const fn new() -> Self {
        ExecutorCore {
            running: Cell::new(false),
            main_wake: WakeFlag::new(),
            control_wake: WakeFlag::new(),
            next_id: Cell::new(MAIN_TASK_ID + 1),
            current: Cell::new(MAIN_TASK_ID),
        }
    }

    pub fn next_task_id(&self) -> TaskId {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1).max(MAIN_TASK_ID + 1));
        id
    }
}

/// The storage of one slot: a task's future, then its output.
#[repr(C, align(16))]
pub(crate) struct SlotStorage<const B: usize>(UnsafeCell<MaybeUninit<[u8; B]>>);

const _: () = assert!(core::mem::align_of::<SlotStorage<1>>() == SLOT_ALIGN);

/// The executor as the rest of the crate sees it, whatever its sizes.
pub(crate) trait RawExecutor {
    fn core(&self) -> &ExecutorCore;
    fn headers(&self) -> &[TaskHeader];
    fn storage(&self, index: usize) -> *mut u8;
    fn slot_bytes(&self) -> usize;
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
/// future is larger than `SLOT_BYTES` is refused with [`crate::SpawnError::TooLarge`].
pub struct Executor<const TASKS: usize, const SLOT_BYTES: usize> {
    core: ExecutorCore,
    headers: [TaskHeader; TASKS],
    storage: [SlotStorage<SLOT_BYTES>; TASKS],
}

// SAFETY: the `Cell`s and slot storage are only touched by the thread that called `run` (which
// refuses to run twice at once): `Spawner` and `JoinHandle`, the only other ways in, are `!Send`
// and only exist on that thread. Other threads and interrupts reach the executor only through
// wakers, which touch nothing but the atomic `WakeFlag`s.
unsafe impl<const TASKS: usize, const SLOT_BYTES: usize> Sync for Executor<TASKS, SLOT_BYTES> {}

impl<const TASKS: usize, const SLOT_BYTES: usize> Default for Executor<TASKS, SLOT_BYTES> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const TASKS: usize, const SLOT_BYTES: usize> Executor<TASKS, SLOT_BYTES> {
    /// An executor with every slot free.
    pub const fn new() -> Self {
        Executor {
            core: ExecutorCore::new(),
            headers: [const { TaskHeader::new() }; TASKS],
            storage: [const { SlotStorage(UnsafeCell::new(MaybeUninit::uninit())) }; TASKS],
        }
    }

    /// Runs `main` until it finishes or a stop request arrives (asyncio's `asyncio.run`).
    ///
    /// When main finishes, the tasks still running are cancelled and its output is returned. When
    /// the host asks to stop, main is cancelled first, then every task; their `Drop` cleanup runs,
    /// the host is sent an acknowledgement listing them, and `Err(KeyboardInterrupt)` is returned.
    ///
    /// # Panics
    /// If the executor is already running.
    #[track_caller]
    pub fn run<M, F>(&'static self, main: M) -> Result<F::Output, KeyboardInterrupt>
    where
        M: FnOnce(Spawner) -> F,
        F: Future,
    {
        assert!(!self.core.running.replace(true), "Executor::run called while it is running");
        let exec: &'static dyn RawExecutor = self;
        let main_meta =
            TaskMeta { id: MAIN_TASK_ID, name: "main", spawned_at: Location::caller(), parent: None };
        crate::link::send_task_spawned(&main_meta);
        let mut main = pin!(Some(main(Spawner::new(exec))));
        let outcome = run_loop(exec, main.as_mut());
        let (cancelled, total) = cancel_everything(exec, main, outcome.is_err());
        if let Err(interrupt) = outcome {
            crate::link::send_interrupt_ack(interrupt.request_id, cancelled, total);
        }
        self.core.running.set(false);
        outcome
    }
}

impl<const TASKS: usize, const SLOT_BYTES: usize> RawExecutor for Executor<TASKS, SLOT_BYTES> {
    fn core(&self) -> &ExecutorCore {
        &self.core
    }

    fn headers(&self) -> &[TaskHeader] {
        &self.headers
    }

    fn storage(&self, index: usize) -> *mut u8 {
        self.storage[index].0.get() as *mut u8
    }

    fn slot_bytes(&self) -> usize {
        SLOT_BYTES
    }
}

/// Polls until main finishes (`Ok`) or a stop request arrives (`Err`).
fn run_loop<F: Future>(
    exec: &'static dyn RawExecutor,
    mut main: Pin<&mut Option<F>>,
) -> Result<F::Output, KeyboardInterrupt> {
    let core = exec.core();
    let headers: &'static [TaskHeader] = exec.headers();
    // SAFETY (of 'static): `exec` is 'static, so are its fields.
    let main_waker = static_flag(&core.main_wake).waker();
    let control_waker = static_flag(&core.control_wake).waker();
    let mut control_timer: Option<Timer> = None;
    core.main_wake.set();
    core.control_wake.set();
    loop {
        let seen = crate::platform::epoch();
        if core.control_wake.take() {
            let mut cx = core::task::Context::from_waker(&control_waker);
            let due = match control_timer.as_mut() {
                None => true,
                Some(timer) => Pin::new(timer).poll(&mut cx).is_ready(),
            };
            if due {
                if let Some(HostCommand::Stop { request_id }) = crate::link::poll_command() {
                    return Err(KeyboardInterrupt { request_id });
                }
                let mut timer = Timer::after(CONTROL_POLL_INTERVAL);
                let _ = Pin::new(&mut timer).poll(&mut cx);
                control_timer = Some(timer);
            }
        }
        if core.main_wake.take() {
            core.current.set(MAIN_TASK_ID);
            let mut cx = core::task::Context::from_waker(&main_waker);
            if let Some(future) = main.as_mut().as_pin_mut() {
                if let Poll::Ready(output) = future.poll(&mut cx) {
                    return Ok(output);
                }
            }
        }
        for (index, header) in headers.iter().enumerate() {
            if header.state.get() == SlotState::Running && header.wake.take() {
                poll_slot(exec, index);
            }
            if header.orphaned.replace(false) {
                settle(exec, index);
            }
        }
        let anything_ready = core.main_wake.is_set()
            || core.control_wake.is_set()
            || headers.iter().any(|h| h.wake.is_set() || h.orphaned.get());
        if !anything_ready {
            crate::platform::wait(seen);
        }
    }
}

fn static_flag(flag: &WakeFlag) -> &'static WakeFlag {
    // SAFETY: only called with flags inside a `&'static dyn RawExecutor`, which live forever.
    unsafe { &*(flag as *const WakeFlag) }
}

/// Polls the task in slot `index` once; on completion reports it and settles the slot.
fn poll_slot(exec: &'static dyn RawExecutor, index: usize) {
    let header = &exec.headers()[index];
    let (Some(vtable), Some(meta)) = (header.vtable.get(), header.meta.get()) else {
        return;
    };
    let waker = static_flag(&header.wake).waker();
    let mut cx = core::task::Context::from_waker(&waker);
    exec.core().current.set(meta.id);
    // SAFETY: the slot is Running, so its storage holds the pinned future `vtable` was made for.
    let poll = unsafe { (vtable.poll)(exec.storage(index), &mut cx) };
    exec.core().current.set(MAIN_TASK_ID);
    if poll.is_pending() {
        return;
    }
    header.state.set(SlotState::Finished);
    // SAFETY: the slot is Finished: its storage holds the output `vtable` was made for.
    let failed = unsafe { (vtable.failure)(exec.storage(index)) }.is_some();
    let outcome = if failed { TaskOutcome::Failed } else { TaskOutcome::Completed };
    crate::link::send_task_finished(meta.id, outcome);
    header.wake_awaiter();
    settle(exec, index);
}

/// A finished task whose handle is gone: report an unretrieved failure, then free the slot.
fn settle(exec: &'static dyn RawExecutor, index: usize) {
    let header = &exec.headers()[index];
    if header.state.get() != SlotState::Finished || header.handle_alive.get() {
        return;
    }
    let (Some(vtable), meta) = (header.vtable.get(), header.meta.get()) else {
        return;
    };
    let storage = exec.storage(index);
    // SAFETY: the slot is Finished: its storage holds the output `vtable` was made for, and the
    // exception reference does not outlive this block (the output is dropped after the handler).
    unsafe {
        if let Some(exception) = (vtable.failure)(storage) {
            call_exception_handler(&Context {
                message: UNRETRIEVED,
                exception: Some(&*exception),
                task: meta,
                path: FailurePath::Unretrieved,
            });
        }
        (vtable.drop_output)(storage);
    }
    free_slot(header);
}

/// Marks a slot free for reuse; its storage must already be dropped or moved out.
pub(crate) fn free_slot(header: &TaskHeader) {
    header.state.set(SlotState::Free);
    header.generation.set(header.generation.get().wrapping_add(1));
    header.vtable.set(None);
    header.meta.set(None);
    header.handle_alive.set(false);
    header.orphaned.set(false);
    header.awaiter.set(None);
}

/// Ends `run`: drops main (if `main_cancelled`), then every running task, so that their `Drop`
/// cleanup runs; reports failures left unretrieved. Returns the ids of the cancelled tasks (at most
/// `MAX_ACK_TASKS`) and how many were cancelled in all.
fn cancel_everything<F: Future>(
    exec: &'static dyn RawExecutor,
    mut main: Pin<&mut Option<F>>,
    main_cancelled: bool,
) -> (heapless::Vec<TaskId, { asyncmon_protocol::device::MAX_ACK_TASKS }>, u32) {
    let mut cancelled = heapless::Vec::new();
    let mut total = 0u32;
    main.set(None);
    if main_cancelled {
        crate::link::send_task_finished(MAIN_TASK_ID, TaskOutcome::Cancelled);
        let _ = cancelled.push(MAIN_TASK_ID);
        total += 1;
    } else {
        crate::link::send_task_finished(MAIN_TASK_ID, TaskOutcome::Completed);
    }
    // Dropping one task can drop handles of others (and, rarely, start new ones): sweep until
    // nothing is left, at most once per slot.
    let headers = exec.headers();
    for _ in 0..=headers.len() {
        let mut busy = false;
        for (index, header) in headers.iter().enumerate() {
            match header.state.get() {
                SlotState::Free => {}
                SlotState::Running => {
                    busy = true;
                    if let (Some(vtable), Some(meta)) = (header.vtable.get(), header.meta.get()) {
                        // SAFETY: Running: the storage holds the future; it is dropped once and the
                        // slot is freed right after.
                        unsafe { (vtable.drop_future)(exec.storage(index)) };
                        crate::link::send_task_finished(meta.id, TaskOutcome::Cancelled);
                        let _ = cancelled.push(meta.id);
                        total += 1;
                    }
                    free_slot(header);
                }
                SlotState::Finished => {
                    busy = true;
                    header.handle_alive.set(false);
                    settle(exec, index);
                }
            }
        }
        if !busy {
            break;
        }
    }
    (cancelled, total)
}
