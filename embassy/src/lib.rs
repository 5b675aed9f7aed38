//! asyncmon for firmware that runs **embassy-executor**, with no change to its tasks.
//!
//! Add this crate and embassy-executor's `trace` feature; call [`init`] first thing in `main` (it
//! creates the RTT control block — with the `defmt` feature, defmt's channel too, so the firmware
//! needs no `rtt_init!` of its own). This crate implements embassy's trace hooks
//! (`_embassy_trace_task_new`, `_task_end`, `_task_exec_begin`, `_task_exec_end`,
//! `_task_ready_begin`, `_poll_start`, `_executor_idle`) and streams through the agent's link, in
//! the agent's frames:
//!
//! * each task spawned (an id of its own, and its header's address, from which the host names it
//!   with the firmware's symbols: no string on the device) and ended;
//! * poll statistics (polls, busy time, the longest poll, self-wakes), sampled at most every
//!   [`STATS_INTERVAL`] per task, as the agent's `task-stats` feature does;
//! * the executor's idle time (asleep between its last poll and its next round), sampled as often;
//! * with `panic-handler`, a panic frame naming the task that was running;
//! * how many tasks run unseen, spawned when its table (32 tasks; `max-tasks-64`, `max-tasks-128`)
//!   was full.
//!
//! What does not map: embassy tasks return `()`, so there are no task failures to route (panics are
//! the failures), and a stop from the host cannot cancel embassy tasks. A stop calls the firmware's
//! [`set_stop_hook`] (it decides what stopping means), or, with none, is refused in words; it is
//! never called `KeyboardInterrupt`.
//!
//! The hooks of every poll only record (the polled task's place, a clock read at each end of the
//! poll, a flag), with no critical section; the idle hook sends what is due. They run in
//! interrupts too (`_embassy_trace_task_ready_begin` when an interrupt wakes a task, every hook of
//! an interrupt executor): each executor has its own cell, and a task's counters are written by
//! its executor only. They never block and never allocate; a frame that does not fit the RTT
//! buffer is dropped and counted, as the agent's are.

#![cfg_attr(not(test), no_std)]

mod clock;
mod executors;
mod hooks;
mod table;

#[doc(hidden)]
pub use asyncmon_agent::link::read_everything_as_a_host_would;
pub use embassy_time::Duration;
use portable_atomic::{AtomicBool, AtomicPtr, Ordering};

/// How often a task's poll statistics are sent, at most.
pub const STATS_INTERVAL: Duration = asyncmon_agent::STATS_INTERVAL;

static STARTED: AtomicBool = AtomicBool::new(false);

/// Creates asyncmon's RTT control block (its own: the firmware's `_SEGGER_RTT`, defmt-rtt's, stays
/// the firmware's) and says hello (`firmware`, `build_id` name the build in the monitor). Call it
/// once, before the executor runs; hooks that run before it send nothing. On the simulated board
/// (`std`) it also installs the panic hook that sends a panic, naming the running task.
pub fn init(firmware: &'static str, build_id: &'static str) {
    if !STARTED.swap(true, Ordering::AcqRel) {
        asyncmon_agent::link::init(firmware, build_id);
        #[cfg(feature = "std")]
        asyncmon_agent::install_panic_hook();
        // The tasks spawned before (`main`, at least) were not announced: no link yet.
        hooks::announce_all();
    }
}

/// What the firmware does when the host asks it to stop (the monitor's `s`, `asyncmon stop`, the
/// editor's Stop): embassy tasks cannot be cancelled from outside, so stopping is the firmware's
/// call — end its work, power down, reset. Runs in the executor's thread, between polls.
pub fn set_stop_hook(hook: fn(hard: bool)) {
    STOP_HOOK.store(hook as *mut (), Ordering::Release);
}

static STOP_HOOK: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

fn stop_hook() -> Option<fn(bool)> {
    let hook = STOP_HOOK.load(Ordering::Acquire);
    // SAFETY: the only non-null value ever stored is a `fn(bool)` (see `set_stop_hook`).
    (!hook.is_null()).then(|| unsafe { core::mem::transmute::<*mut (), fn(bool)>(hook) })
}
