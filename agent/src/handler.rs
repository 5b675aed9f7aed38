//! The exception handler (asyncio's `loop.set_exception_handler` and `default_exception_handler`):
//! where a failure nobody retrieved goes. The default streams it to the host.

use crate::exception::Context;
use core::cell::Cell;
use critical_section::Mutex;

/// An exception handler: a plain function, so it can live in static memory.
pub type ExceptionHandler = fn(&Context<'_>);

static HANDLER: Mutex<Cell<Option<ExceptionHandler>>> = Mutex::new(Cell::new(None));

/// Installs `handler` as the exception handler; `None` restores the default.
pub fn set_exception_handler(handler: Option<ExceptionHandler>) {
    critical_section::with(|cs| HANDLER.borrow(cs).set(handler));
}

/// The installed handler, `None` for the default (asyncio's `get_exception_handler`): a handler
/// of your own can pass on to the one it replaced.
pub fn get_exception_handler() -> Option<ExceptionHandler> {
    critical_section::with(|cs| HANDLER.borrow(cs).get())
}

/// The default handler: streams the failure context to the host and lets the program go on.
pub fn default_exception_handler(context: &Context<'_>) {
    crate::link::send_failure(context);
}

/// Calls the installed handler (or the default) with `context`.
pub(crate) fn call_exception_handler(context: &Context<'_>) {
    get_exception_handler().unwrap_or(default_exception_handler)(context);
}
