//! [`TaskGroup`]: asyncio 3.11's `TaskGroup` without a heap — tasks started into a group, awaited
//! together, the first failure cancelling the rest (the seed's gather rule, in structured form),
//! and no task outliving the group.

use crate::exception::{Cancelled, Exception};
use crate::gather::{gather_vec, GatherVec};
use crate::join::JoinHandle;
use crate::spawner::{SpawnError, Spawner};
use crate::task_ref::TaskRef;
use core::future::Future;

/// Up to `N` tasks started together and awaited together (asyncio's `async with TaskGroup() as
/// tg: tg.create_task(..)`):
///
/// * [`spawn`](Self::spawn) starts a task in the group and gives its [`TaskRef`] (cancel it, ask
///   whether it is done);
/// * [`wait`](Self::wait) awaits them all: their values in the order they were started, or the
///   first failure — the other tasks cancelled and their cleanup awaited, as [`crate::gather`];
///   if the waiting task is cancelled, every task in the group is, and `wait` gives `Cancelled`;
/// * a group dropped without `wait` cancels its tasks (their failures, nobody's to retrieve then,
///   go to the exception handler): no task outlives its group.
///
/// Unlike asyncio's, a failure does not cancel the code that starts the tasks before it reaches
/// `wait`; it comes out of `wait`.
pub struct TaskGroup<T, E, const N: usize> {
    spawner: Spawner,
    handles: heapless::Vec<JoinHandle<T, E>, N>,
}

impl<T: 'static, E: Exception + From<Cancelled>, const N: usize> TaskGroup<T, E, N> {
    /// An empty group whose tasks `spawner` starts.
    pub fn new(spawner: Spawner) -> Self {
        TaskGroup { spawner, handles: heapless::Vec::new() }
    }

    /// Starts `future` as a task named `name` in the group ([`Spawner::spawn`]'s errors, and
    /// [`SpawnError::GroupFull`] once the group holds `N` tasks).
    #[track_caller]
    pub fn spawn<F>(&mut self, name: &'static str, future: F) -> Result<TaskRef, SpawnError>
    where
        F: Future<Output = Result<T, E>> + 'static,
    {
        if self.handles.is_full() {
            return Err(SpawnError::GroupFull { capacity: N });
        }
        let handle = self.spawner.spawn(name, future)?;
        let task = handle.task_ref();
        if self.handles.push(handle).is_err() {
            unreachable!("room was checked before spawning");
        }
        Ok(task)
    }

    /// How many tasks the group holds.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Whether the group holds no task.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// Awaits every task in the group (the end of asyncio's `async with` block).
    pub fn wait(mut self) -> GatherVec<T, E, N> {
        gather_vec(core::mem::take(&mut self.handles))
    }
}

impl<T, E, const N: usize> Drop for TaskGroup<T, E, N> {
    fn drop(&mut self) {
        for handle in &self.handles {
            handle.cancel();
        }
    }
}
