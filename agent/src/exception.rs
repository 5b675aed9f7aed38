//! Exceptions and what the exception handler is told about them: the error trait, cancellation,
//! `KeyboardInterrupt`, and the context (which task, by which path). Plain types, below everything
//! else in the agent; the handler itself is in `handler`.

use asyncmon_protocol::device::{FailurePath, TaskId};
use core::any::TypeId;
use core::panic::Location;

mod sealed {
    /// Names no one outside this module can write: [`super::Exception::exception_type_id`] cannot
    /// be overridden, so a downcast can trust it (as `std::error::Error::type_id` does).
    #[derive(Debug)]
    pub struct Private;
}

/// An error a task can fail with. `Display` renders the message the host shows.
pub trait Exception: core::fmt::Display + 'static {
    /// The type's name as the host shows it.
    fn type_name(&self) -> &'static str {
        core::any::type_name::<Self>()
    }

    /// Where the error was raised, for error types that record it (`#[track_caller]` constructors
    /// and `Location::caller()`).
    fn raised_at(&self) -> Option<&'static Location<'static>> {
        None
    }

    /// The message, when it is a fixed string: it is then sent to the host as a short reference
    /// instead of rendered text (a failure frame of about 20 bytes).
    fn static_message(&self) -> Option<&'static str> {
        None
    }

    /// Whether this error is the cancellation of the task (the value your `From<Cancelled>`
    /// makes), not a failure. A task that ends with a cancellation is reported as cancelled and
    /// never reaches the exception handler, as asyncio treats `CancelledError`.
    ///
    /// Required, with no default: an error type whose cancellation is not recognised would turn
    /// every cancellation into a failure (gather siblings failing, a stop reporting every task as
    /// "failed in cleanup", the handler called for each). Forgetting it does not compile:
    ///
    /// ```compile_fail
    /// struct MyError;
    /// impl core::fmt::Display for MyError {
    ///     fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    ///         f.write_str("my error")
    ///     }
    /// }
    /// impl asyncmon_agent::Exception for MyError {}
    /// ```
    ///
    /// An error type that cannot be a cancellation returns `false`.
    fn is_cancellation(&self) -> bool;

    /// The concrete type's id, for [`downcast_ref`](trait.Exception.html#method.downcast_ref).
    /// Cannot be overridden.
    #[doc(hidden)]
    fn exception_type_id(&self, _: sealed::Private) -> TypeId {
        TypeId::of::<Self>()
    }
}

impl dyn Exception + '_ {
    /// Whether the exception is an `E` (asyncio's `isinstance(exc, E)`).
    pub fn is<E: Exception>(&self) -> bool {
        self.exception_type_id(sealed::Private) == TypeId::of::<E>()
    }

    /// The exception as an `E`, if it is one: an exception handler can tell error types apart and
    /// read their fields.
    pub fn downcast_ref<E: Exception>(&self) -> Option<&E> {
        // SAFETY: the type id, which no implementation can override, says the value is an `E`;
        // the cast keeps the address and drops the vtable.
        self.is::<E>().then(|| unsafe { &*(self as *const dyn Exception).cast::<E>() })
    }
}

/// What a future's output says about cancellation, for [`crate::wait_for`]: whether the future
/// ended by letting a cancellation through. Every `Result` whose error is an [`Exception`] has one.
pub trait Outcome {
    /// Whether this output is a cancellation.
    fn is_cancelled(&self) -> bool;
}

impl<T, E: Exception> Outcome for Result<T, E> {
    fn is_cancelled(&self) -> bool {
        matches!(self, Err(e) if e.is_cancellation())
    }
}

/// A task was cancelled before it finished (asyncio's `CancelledError`). Awaiting the handle of a
/// cancelled task gives this error, converted into the task's error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

impl core::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("task was cancelled")
    }
}

impl Exception for Cancelled {
    fn static_message(&self) -> Option<&'static str> {
        Some("task was cancelled")
    }

    fn is_cancellation(&self) -> bool {
        true
    }
}

/// `run` was stopped from the outside (the host's stop request): main and every task were cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyboardInterrupt {
    /// The id of the stop request that caused it.
    pub request_id: u32,
    /// A second stop request (or a hard stop) cut the cleanup short: the tasks still running then
    /// were dropped. A task that merely outlived the cancel deadline is dropped on its own (the
    /// acknowledgement says "dropped at deadline" for it), and the stop is not a hard one.
    pub hard_stop: bool,
}

impl core::fmt::Display for KeyboardInterrupt {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "KeyboardInterrupt (stop request {})", self.request_id)?;
        if self.hard_stop {
            f.write_str(", hard stop")?;
        }
        Ok(())
    }
}

impl Exception for KeyboardInterrupt {
    fn is_cancellation(&self) -> bool {
        false
    }
}

/// What the exception handler is told (asyncio's context dict).
pub struct Context<'a> {
    /// What happened, in words (a fixed string, sent to the host as a short reference).
    pub message: &'static str,
    /// The exception, when there is one.
    pub exception: Option<&'a dyn Exception>,
    /// The task the failure belongs to.
    pub task: Option<TaskMeta>,
    /// How the failure reached the handler.
    pub path: FailurePath,
}

impl Context<'_> {
    /// The exception as an `E`, if there is one and it is an `E`.
    pub fn exception_as<E: Exception>(&self) -> Option<&E> {
        self.exception.and_then(|e| e.downcast_ref::<E>())
    }
}

/// Who a task is: what the exception handler and the host are told about it.
#[derive(Debug, Clone, Copy)]
pub struct TaskMeta {
    /// Unique within one run of the program; main is 0.
    pub id: TaskId,
    /// The name given at spawn.
    pub name: &'static str,
    /// Where `spawn` was called.
    pub spawned_at: &'static Location<'static>,
    /// The task that spawned it; `None` for main.
    pub parent: Option<TaskId>,
}
