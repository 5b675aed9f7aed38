//! The device side of asyncmon: an async executor with asyncio's exception model, on static memory.
//!
//! * [`Executor::run`] runs `main`; [`Spawner::spawn`] starts a task and returns a [`JoinHandle`]
//!   that keeps the task's `Result` until it is awaited.
//! * A task that fails with nobody to retrieve its failure goes to the exception handler exactly
//!   once. The rule is deterministic: the handler runs when the task has failed **and** its handle
//!   is gone (dropped before or after the failure) without the failure having been retrieved.
//!   The default handler ([`default_exception_handler`]) streams the failure context to the host;
//!   [`set_exception_handler`] installs your own, which may still call the default.
//! * A stop request from the host (RTT down channel) makes `run` cancel main and every task, and
//!   return [`KeyboardInterrupt`]. Cancellation drops the task's future, so its `Drop` cleanup runs;
//!   the host receives an acknowledgement listing the cancelled tasks.
//!
//! No heap: tasks live in `TASKS` fixed slots of `SLOT_BYTES` bytes each, declared with the
//! executor as a `static`. The RTT link ([`link`]) never blocks: a full up buffer drops the frame,
//! counts it, and the next frame that fits is preceded by the count.
//!
//! Platforms: `std` (a host process, used by asyncmon's simulated target) and `cortex-m` (WFE/SEV).
//! Timers come from `embassy-time` with a generic timer queue (`generic-queue-N` feature).
#![no_std]

#[cfg(feature = "std")]
extern crate std;

mod cancel;
mod exception;
mod executor;
mod gather;
mod join;
pub mod link;
mod panic;
mod platform;
mod run_loop;
mod slots;
mod spawner;
mod task;
mod time;
mod waker;

pub use asyncmon_protocol::device::{FailurePath, TaskId};
pub use cancel::{cancellable, Cancellable};
pub use exception::{
    default_exception_handler, set_exception_handler, Cancelled, Context, Exception, ExceptionHandler,
    KeyboardInterrupt,
};
pub use executor::{Executor, DEFAULT_CANCEL_DEADLINE};
pub use gather::{gather, gather_all, Gather, GatherAll};
pub use join::JoinHandle;
#[cfg(feature = "std")]
pub use panic::install_panic_hook;
pub use run_loop::CONTROL_POLL_INTERVAL;
pub use spawner::{task_memory_bytes, SpawnError, Spawner};
pub use task::TaskMeta;
pub use time::{sleep, wait_for, Sleep, TaskWaitFor, Timeout, WaitFor};

/// The exit code a host process uses when `run` returned [`KeyboardInterrupt`] (128 + SIGINT, as a
/// shell reports an interrupted program).
pub const KEYBOARD_INTERRUPT_EXIT_CODE: i32 = 130;
