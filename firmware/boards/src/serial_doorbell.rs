//! The board's first serial port as a doorbell: every byte that arrives raises the UART's receive
//! interrupt, whose handler takes the byte and runs the handler the firmware gave
//! ([`crate::doorbell_serial`]). On QEMU the port is a chardev of the QEMU process (`-serial
//! stdio`), which the host that runs the board writes from outside the guest.

use core::cell::Cell;
use critical_section::Mutex;

/// A handler, once one is given.
type Handler = Cell<Option<fn()>>;

/// What a byte on the port runs, once the firmware gave it.
static HANDLER: Mutex<Handler> = Mutex::new(Cell::new(None));

/// Makes a byte on the port run `handler`.
pub(crate) fn set(handler: fn()) {
    critical_section::with(|cs| HANDLER.borrow(cs).set(Some(handler)));
}

/// A byte came (and the board's UART has let it go): rings.
pub(crate) fn rang() {
    if let Some(handler) = critical_section::with(|cs| HANDLER.borrow(cs).get()) {
        handler();
    }
}
