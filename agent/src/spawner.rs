//! Spawning tasks into the executor's static slots, and the type-erased operations on a slot.

use crate::exception::{Cancelled, Exception, TaskMeta};
use crate::join::JoinHandle;
use crate::raw::header::{SlotState, TaskHeader};
use crate::raw::vtable::VTableFor;
use crate::raw::{hooks, RawExecutor, SLOT_ALIGN};
use core::future::Future;
use core::marker::PhantomData;
use core::panic::Location;

/// Why a task could not be spawned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnError {
    /// Every slot holds a task (or an output nobody has collected yet).
    NoFreeSlot {
        /// How many slots the executor has.
        slots: usize,
    },
    /// The future (or its output) is larger than a slot.
    TooLarge {
        /// Bytes the task needs.
        needed: usize,
        /// Bytes a slot has (the executor's `SLOT_BYTES`).
        available: usize,
    },
    /// The future needs a stricter alignment than a slot's 16 bytes.
    Misaligned {
        /// The alignment the future needs.
        align: usize,
    },
    /// A [`crate::TaskGroup`] holds as many tasks as it has room for.
    GroupFull {
        /// How many tasks the group holds.
        capacity: usize,
    },
}

impl core::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SpawnError::NoFreeSlot { slots } => {
                write!(f, "all {slots} task slots are in use: raise the executor's TASKS")
            }
            SpawnError::TooLarge { needed, available } => write!(
                f,
                "task needs {needed} bytes but a slot has {available}: raise the executor's SLOT_BYTES"
            ),
            SpawnError::Misaligned { align } => {
                write!(f, "task needs {align}-byte alignment; slots are 16-byte aligned")
            }
            SpawnError::GroupFull { capacity } => {
                write!(f, "the task group holds {capacity} tasks: raise its N")
            }
        }
    }
}

impl Exception for SpawnError {
    fn is_cancellation(&self) -> bool {
        false
    }
}

/// The static memory one task costs: the slot's header (state, wake and cancel flags, handle
/// bookkeeping) plus the bytes `future` needs in a slot (the larger of the future and its output).
/// Use it to size an executor's `SLOT_BYTES`.
pub fn task_memory_bytes<F: Future>(_future: &F) -> (usize, usize) {
    let needed = core::mem::size_of::<F>().max(core::mem::size_of::<F::Output>());
    (core::mem::size_of::<TaskHeader>(), needed)
}

/// Starts tasks. Handed to `main` by [`crate::Executor::run`]; copy it into tasks that spawn.
///
/// A `Spawner` stays on the executor's thread (it is neither `Send` nor `Sync`).
#[derive(Clone, Copy)]
pub struct Spawner {
    exec: RawExecutor,
    _not_send: PhantomData<*const ()>,
}

impl Spawner {
    pub(crate) fn new(exec: RawExecutor) -> Self {
        Spawner { exec, _not_send: PhantomData }
    }

    /// Starts `future` as a task named `name` and returns its handle.
    ///
    /// The task's failure stays on the handle until the handle is awaited. Dropping the handle
    /// detaches the task: if it fails (or had failed) with its failure never retrieved, the exception
    /// handler is called once. The spawn location is the caller's.
    #[track_caller]
    pub fn spawn<F, T, E>(&self, name: &'static str, future: F) -> Result<JoinHandle<T, E>, SpawnError>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
        E: Exception + From<Cancelled>,
    {
        let spawned_at = Location::caller();
        let needed = core::mem::size_of::<F>().max(core::mem::size_of::<F::Output>());
        let align = core::mem::align_of::<F>().max(core::mem::align_of::<F::Output>());
        if needed > self.exec.slot_bytes() {
            return Err(SpawnError::TooLarge { needed, available: self.exec.slot_bytes() });
        }
        if align > SLOT_ALIGN {
            return Err(SpawnError::Misaligned { align });
        }
        let headers = self.exec.headers();
        let Some(index) = self.exec.claim_slot() else {
            return Err(SpawnError::NoFreeSlot { slots: headers.len() });
        };
        let header = &headers[index];
        let core = self.exec.core();
        let meta = TaskMeta { id: core.next_task_id(), name, spawned_at, parent: Some(core.spawning_task()) };
        // SAFETY: the slot is free (nothing lives in its storage), the storage is SLOT_ALIGN-aligned
        // and `needed` bytes fit, as checked above.
        unsafe { core::ptr::write(self.exec.storage(index) as *mut F, future) };
        header.vtable.set(Some(&VTableFor::<F>::VTABLE));
        header.id.set(meta.id);
        header.meta.set(Some(meta));
        header.handle_alive.set(true);
        header.orphaned.set(false);
        header.state.set(SlotState::Running);
        let future = hooks::future_location(self.exec.storage(index) as *const F);
        hooks::task_spawned(&meta, self.exec.slot_bytes(), needed, future);
        header.signal.set();
        if core.shutting_down.get() {
            // Spawned during a shutdown (by cleanup code): it is cancelled like everything else.
            crate::raw::slots::request_cancel(self.exec.core(), header);
        }
        Ok(JoinHandle::new(self.exec, index, header.generation.get()))
    }
}
