//! The doorbell: how the host gets a sleeping executor to read the down channel at once, instead of
//! the executor waking every few milliseconds to look. The host writes its command into the down
//! channel, then rings; a ring sets a flag and wakes the executor, whose next pass reads the
//! commands. An executor with a doorbell and nothing due sleeps until its next timer or interrupt.
//!
//! The firmware says where its doorbell is in [`ASYNCMON_DOORBELL`], a static the host finds by
//! name in the ELF and reads from target memory, as it finds `_SEGGER_RTT`:
//! * on the `std` platform (the simulated board) `link::init` makes one: a pipe whose read end a
//!   thread of the agent's waits on; the host writes a byte into `/proc/PID/fd/N`;
//! * on a microcontroller the firmware names a spare interrupt ([`set_interrupt`]) and calls
//!   [`ring`] from its handler; the host pends that interrupt through the NVIC's set-pending
//!   register (`ISPR`), which a probe can write while the core runs;
//! * on a board whose host can write into its serial port (QEMU's machines: their UART is a
//!   chardev of the QEMU process) the firmware names the port ([`set_serial`]) and calls [`ring`]
//!   from its receive interrupt; the host writes a byte.
//!
//! Without one, the executor looks at the down channel every `Config::fallback_poll`.

use asyncmon_protocol::doorbell::{KIND_NONE, KIND_NVIC_INTERRUPT, KIND_SERIAL, MAGIC};
use portable_atomic::{AtomicBool, AtomicU32, Ordering};

/// Where the firmware's doorbell is, for the host (`asyncmon_protocol::doorbell`): three
/// little-endian `u32`s. All zeros (none) until one is published.
#[repr(C)]
pub struct Doorbell {
    /// `asyncmon_protocol::doorbell::MAGIC` once published.
    pub magic: AtomicU32,
    /// One of `asyncmon_protocol::doorbell`'s `KIND_*` constants.
    pub kind: AtomicU32,
    /// What the kind says.
    pub value: AtomicU32,
}

/// The firmware's doorbell, found by the host under this name.
#[no_mangle]
#[used]
pub static ASYNCMON_DOORBELL: Doorbell =
    Doorbell { magic: AtomicU32::new(0), kind: AtomicU32::new(KIND_NONE), value: AtomicU32::new(0) };

/// Rung and not yet answered.
static RUNG: AtomicBool = AtomicBool::new(false);

fn publish(kind: u32, value: u32) {
    ASYNCMON_DOORBELL.kind.store(kind, Ordering::Relaxed);
    ASYNCMON_DOORBELL.value.store(value, Ordering::Relaxed);
    ASYNCMON_DOORBELL.magic.store(MAGIC, Ordering::Release);
}

/// Whether the firmware has a doorbell the host can ring.
pub(crate) fn configured() -> bool {
    ASYNCMON_DOORBELL.magic.load(Ordering::Acquire) == MAGIC
        && ASYNCMON_DOORBELL.kind.load(Ordering::Relaxed) != KIND_NONE
}

/// The host rang: the executor reads the down channel on its next pass. Safe from an interrupt
/// handler or any thread.
pub fn ring() {
    RUNG.store(true, Ordering::SeqCst);
    crate::platform::signal();
}

/// Whether the doorbell rang since the last time; clears it. (Cleared before the commands are
/// read: a ring after that is kept for the next pass.)
#[inline]
pub(crate) fn take_ring() -> bool {
    if RUNG.load(Ordering::SeqCst) {
        RUNG.store(false, Ordering::SeqCst);
        true
    } else {
        false
    }
}

/// Whether the doorbell rang (without clearing it).
#[inline]
pub(crate) fn rung() -> bool {
    RUNG.load(Ordering::SeqCst)
}

/// Names interrupt `irq` as the doorbell: the host pends it after writing the down channel. Its
/// handler must call [`ring`], and it must be enabled (unmasked) in the NVIC.
pub fn set_interrupt(irq: u16) {
    publish(KIND_NVIC_INTERRUPT, u32::from(irq));
}

/// Names serial port `port` (0: the board's first) as the doorbell: the host writes a byte into
/// it after writing the down channel. The port's receive interrupt must take the byte and call
/// [`ring`].
pub fn set_serial(port: u32) {
    publish(KIND_SERIAL, port);
}

/// The simulated board's doorbell: a pipe; a thread waits on its read end and rings for each
/// byte the host writes into `/proc/PID/fd/N`. Made once, by `link::init`.
#[cfg(feature = "std")]
pub(crate) fn start_pipe() {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    let Ok((mut reader, writer)) = std::io::pipe() else {
        return; // no doorbell: the executor falls back to polling
    };
    let fd = reader.as_raw_fd();
    // The write end stays open for good (the host opens its own through /proc): the reader never
    // sees an end of file.
    core::mem::forget(writer);
    let spawned = std::thread::Builder::new().name("asyncmon-doorbell".into()).spawn(move || {
        let mut bytes = [0u8; 64];
        loop {
            match reader.read(&mut bytes) {
                Ok(0) => return,
                Ok(_) => ring(),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    });
    if spawned.is_ok() {
        publish(asyncmon_protocol::doorbell::KIND_PIPE_FD, fd as u32);
    }
}
