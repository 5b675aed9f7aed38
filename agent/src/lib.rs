//! The device side of asyncmon: an async executor with asyncio's exception model, on static memory.
//!
//! * [`Executor::run`] runs `main` (asyncio's `asyncio.run`); [`Spawner::spawn`] starts a task and
//!   returns a [`JoinHandle`] that keeps the task's `Result` until it is awaited.
//! * [`gather`] awaits several tasks, cancelling the rest when one fails; [`gather_all`] returns
//!   every result; [`wait_for`] and [`JoinHandle::wait_for`] put a timeout around a future or a task.
//! * A task that fails with nobody to retrieve its failure goes to the exception handler exactly
//!   once. The rule is deterministic: the handler runs when the task has failed **and** its handle
//!   is gone (dropped before or after the failure) without the failure having been retrieved.
//!   The default handler ([`default_exception_handler`]) streams the failure context to the host;
//!   [`set_exception_handler`] installs your own, which may still call the default.
//! * [`JoinHandle::cancel`] asks a task to stop: its next agent awaitable ([`sleep`], a handle,
//!   [`gather`], [`wait_for`], anything wrapped in [`cancellable`]) returns [`Cancelled`], once, so
//!   `?` carries it out and async cleanup can still await. A task still running at the executor's
//!   cancel deadline is dropped (its `Drop` runs).
//! * A stop request from the host (RTT down channel) cancels main, then every task, waits for their
//!   cleanup, and makes `run` return [`KeyboardInterrupt`]; the host is told how each task ended.
//!
//! No heap: tasks live in `TASKS` fixed slots of `SLOT_BYTES` bytes each, declared with the
//! executor as a `static`. The RTT link ([`link`]) never blocks: a full up buffer drops the frame,
//! counts it, and the next frame that fits is preceded by the count.
//!
//! Platforms: `std` (a host process, used by asyncmon's simulated target) and `cortex-m` (WFE/SEV,
//! PRIMASK critical sections). Timers come from `embassy-time` with a generic timer queue
//! (`generic-queue-N` feature).
#![no_std]

#[cfg(feature = "std")]
extern crate std;

mod cancel;
mod entry;
mod event;
mod exception;
mod executor;
mod gather;
mod handler;
mod join;
pub mod link;
pub mod observer;
mod panic;
mod platform;
mod poll_trace;
mod raw;
mod spawner;
mod stats;
mod task_group;
mod task_ref;
mod time;

/// `#[asyncmon_agent::main]`, the firmware's entry point: see [`asyncmon_agent_macros::main`].
pub use asyncmon_agent_macros::main;
/// `#[derive(Exception)]`: see [`asyncmon_agent_macros`].
pub use asyncmon_agent_macros::Exception;
pub use asyncmon_protocol::device::{FailurePath, TaskId};
pub use cancel::{cancellable, Cancellable};
pub use entry::{end_of_run, halt};
pub use event::{Event, EventWait};
pub use exception::{Cancelled, Context, Exception, KeyboardInterrupt, Outcome, TaskMeta};
pub use executor::{Config, Executor, DEFAULT_CANCEL_DEADLINE, DEFAULT_FALLBACK_POLL};
pub use gather::{
    gather, gather_all, gather_tuple, gather_vec, Gather, GatherAll, GatherTuple, GatherVec, HandleTuple,
    Member, Slot, SlotTuple,
};
pub use handler::{
    default_exception_handler, get_exception_handler, set_exception_handler, ExceptionHandler,
};
pub use join::JoinHandle;
#[cfg(feature = "std")]
pub use panic::install_panic_hook;
pub use spawner::{task_memory_bytes, SpawnError, Spawner};
pub use stats::STATS_INTERVAL;
pub use task_group::TaskGroup;
pub use task_ref::{current_task, CurrentTask, TaskRef};
pub use time::{sleep, wait_for, yield_now, Sleep, TaskWaitFor, Timeout, WaitFor, YieldNow};

/// Prints a line on the firmware's RTT text channel (`log`, beside the tasks in the monitor), with
/// `format!`'s syntax — inline arguments included:
///
/// ```
/// let reading = 21;
/// asyncmon_agent::println!("sensor: {reading} C");
/// ```
///
/// (`rtt_target::rprintln!` builds its format string with `concat!`, so `rprintln!("{reading}")`
/// prints the braces, and with further arguments does not compile.) Never blocks: a full buffer
/// drops the line. Nothing is printed before `link::init`.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {
        $crate::link::print_line(::core::format_args!($($arg)*))
    };
}

/// The exit code a host process uses when `run` returned [`KeyboardInterrupt`] (128 + SIGINT, as a
/// shell reports an interrupted program).
pub const KEYBOARD_INTERRUPT_EXIT_CODE: i32 = 130;
