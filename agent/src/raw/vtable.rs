//! The type-erased operations on a slot: what the executor does with a task's future and output
//! once it no longer knows their types.

use crate::exception::{Cancelled, Exception};
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::Poll;

/// What the executor needs to do with a slot whose types it no longer knows.
pub(crate) struct TaskVTable {
    /// Polls the future; on completion drops it and writes the output in its place.
    pub poll: unsafe fn(*mut u8, &mut core::task::Context<'_>) -> Poll<()>,
    /// Drops the future in place (cancellation).
    pub drop_future: unsafe fn(*mut u8),
    /// Drops the output in place.
    pub drop_output: unsafe fn(*mut u8),
    /// The failure in the output, if the task failed.
    pub failure: unsafe fn(*const u8) -> Option<*const dyn Exception>,
    /// Drops the future in place and writes `Err(Cancelled)` as the output: a task cancelled
    /// before it ever ran ends without running.
    pub cancel_future: unsafe fn(*mut u8),
    /// Turns an `Ok` output into `Err(Cancelled)`: a task asked to cancel that returned before
    /// any awaitable could tell it ends cancelled, as in asyncio. A failure is left as it is.
    pub cancel_output: unsafe fn(*mut u8),
    /// The bytes the task needs in its storage: the larger of its future and its output.
    pub bytes: usize,
}

/// The vtable of a task whose future is `F`.
pub(crate) struct VTableFor<F>(PhantomData<F>);

impl<F, T, E> VTableFor<F>
where
    F: Future<Output = Result<T, E>> + 'static,
    T: 'static,
    E: Exception + From<Cancelled>,
{
    pub(crate) const VTABLE: TaskVTable = TaskVTable {
        poll: poll_future::<F>,
        drop_future: drop_in_place::<F>,
        drop_output: drop_in_place::<Result<T, E>>,
        failure: failure_of::<T, E>,
        cancel_future: cancel_future::<F, T, E>,
        cancel_output: cancel_output::<T, E>,
        bytes: if core::mem::size_of::<F>() > core::mem::size_of::<Result<T, E>>() {
            core::mem::size_of::<F>()
        } else {
            core::mem::size_of::<Result<T, E>>()
        },
    };
}

/// # Safety
/// `ptr` points to a live, pinned `F` in slot storage.
///
/// Its address is also the type marker of `F` in spawn frames (see `hooks::future_location`): keep
/// it a generic function of `F`, so that its debug info names the future's type.
pub(crate) unsafe fn poll_future<F: Future>(ptr: *mut u8, cx: &mut core::task::Context<'_>) -> Poll<()> {
    // SAFETY: per the contract, `ptr` is a live `F` that never moves (static slot storage).
    let future = unsafe { Pin::new_unchecked(&mut *(ptr as *mut F)) };
    match future.poll(cx) {
        Poll::Pending => Poll::Pending,
        Poll::Ready(output) => {
            // SAFETY: the future is finished and dropped in place exactly once; the slot was
            // checked at spawn to hold `F::Output` as well, so writing it there is in bounds.
            unsafe {
                core::ptr::drop_in_place(ptr as *mut F);
                core::ptr::write(ptr as *mut F::Output, output);
            }
            Poll::Ready(())
        }
    }
}

/// # Safety
/// `ptr` points to a live `T` that is never used again.
unsafe fn drop_in_place<T>(ptr: *mut u8) {
    // SAFETY: per the contract.
    unsafe { core::ptr::drop_in_place(ptr as *mut T) }
}

/// # Safety
/// `ptr` points to a live `Result<T, E>`.
unsafe fn failure_of<T, E: Exception>(ptr: *const u8) -> Option<*const dyn Exception> {
    // SAFETY: per the contract.
    match unsafe { &*(ptr as *const Result<T, E>) } {
        Ok(_) => None,
        Err(e) => Some(e as &dyn Exception as *const dyn Exception),
    }
}

/// # Safety
/// `ptr` points to a live, pinned `F` in slot storage that can hold `Result<T, E>` as well; the
/// future is never used again.
unsafe fn cancel_future<F: Future<Output = Result<T, E>>, T, E: From<Cancelled>>(ptr: *mut u8) {
    // SAFETY: per the contract: the future is dropped in place once, and the slot holds its output.
    unsafe {
        core::ptr::drop_in_place(ptr as *mut F);
        core::ptr::write(ptr as *mut Result<T, E>, Err(E::from(Cancelled)));
    }
}

/// # Safety
/// `ptr` points to a live `Result<T, E>`.
unsafe fn cancel_output<T, E: From<Cancelled>>(ptr: *mut u8) {
    // SAFETY: per the contract; the `Ok` value is dropped once, replaced in place.
    let output = unsafe { &mut *(ptr as *mut Result<T, E>) };
    if output.is_ok() {
        *output = Err(E::from(Cancelled));
    }
}
