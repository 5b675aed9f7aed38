//! The per-task bookkeeping an executor keeps in each slot.

use super::signal::TaskSignal;
use super::vtable::TaskVTable;
use crate::exception::TaskMeta;
use asyncmon_protocol::device::TaskId;
use core::cell::Cell;
use core::panic::Location;
use core::task::Waker;
use embassy_time::Instant;

/// A slot's [`TaskMeta`], stored so that "none" is all zeros (a null `name` pointer). This keeps an
/// executor's initial value zero, and so its task storage in `.bss`: an `Option<TaskMeta>` would
/// use the niche of `parent` and store "none" as a 2 in every slot.
pub(crate) struct MetaCell(Cell<Option<StoredMeta>>);

#[derive(Clone, Copy)]
struct StoredMeta {
    name: &'static str,
    spawned_at: &'static Location<'static>,
    id: TaskId,
    parent: TaskId,
    /// 1 when `parent` is set (a `u8`, not a `bool`: a `bool`'s niche would be used for "none").
    has_parent: u8,
}

impl MetaCell {
    pub const fn new() -> Self {
        MetaCell(Cell::new(None))
    }

    pub fn get(&self) -> Option<TaskMeta> {
        self.0.get().map(|m| TaskMeta {
            id: m.id,
            name: m.name,
            spawned_at: m.spawned_at,
            parent: (m.has_parent == 1).then_some(m.parent),
        })
    }

    pub fn set(&self, meta: Option<TaskMeta>) {
        self.0.set(meta.map(|m| StoredMeta {
            name: m.name,
            spawned_at: m.spawned_at,
            id: m.id,
            parent: m.parent.unwrap_or(0),
            has_parent: u8::from(m.parent.is_some()),
        }));
    }
}

/// Where a slot's task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotState {
    /// No task: the slot can be reused.
    Free,
    /// The storage holds the task's future.
    Running,
    /// The storage holds the task's output, waiting for its handle.
    Finished,
}

/// A slot's header. Only `signal` is touched from other threads or interrupts; every `Cell` is
/// touched only by the thread that runs the executor. `signal` comes first: a signal taken off
/// the ready queue is its header's address (see `RawExecutor::index_of`).
#[repr(C)]
pub(crate) struct TaskHeader {
    pub signal: TaskSignal,
    /// While the slot is free: the next free slot's index + 1 (0: none), see `RawExecutor::claim_slot`.
    pub next_free: Cell<usize>,
    pub state: Cell<SlotState>,
    /// Bumped each time the slot is reused, so a stale handle can tell.
    pub generation: Cell<u32>,
    pub handle_alive: Cell<bool>,
    /// The task has been polled at least once (a task cancelled before that never runs).
    pub started: Cell<bool>,
    /// The handle was dropped while the output was waiting: the executor must look at the slot.
    pub orphaned: Cell<bool>,
    /// The task's id (also in `meta`; kept apart for the hot path).
    pub id: Cell<TaskId>,
    pub meta: MetaCell,
    pub awaiter: Cell<Option<Waker>>,
    pub vtable: Cell<Option<&'static TaskVTable>>,
    /// When a cancelled task that has not finished is dropped.
    pub cancel_deadline: Cell<Option<Instant>>,
    /// Its poll statistics (empty without the `task-stats` feature).
    pub stats: crate::stats::PollCounters,
}

impl TaskHeader {
    pub const fn new() -> Self {
        TaskHeader {
            signal: TaskSignal::new(),
            next_free: Cell::new(0),
            state: Cell::new(SlotState::Free),
            generation: Cell::new(0),
            handle_alive: Cell::new(false),
            started: Cell::new(false),
            orphaned: Cell::new(false),
            id: Cell::new(0),
            meta: MetaCell::new(),
            awaiter: Cell::new(None),
            vtable: Cell::new(None),
            cancel_deadline: Cell::new(None),
            stats: crate::stats::PollCounters::new(),
        }
    }

    /// Wakes whoever awaits this task's handle.
    pub fn wake_awaiter(&self) {
        if let Some(waker) = self.awaiter.take() {
            waker.wake();
        }
    }
}
