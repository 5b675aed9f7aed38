//! The RTT link to the host: asyncmon frames up, control frames down.
//!
//! [`init`] creates asyncmon's RTT control block ([`CONTROL_BLOCK_SYMBOL`], its own: the firmware's
//! `_SEGGER_RTT`, defmt-rtt's say, stays the firmware's; `control_block`) with one up
//! channel named [`UP_CHANNEL_NAME`] in non-blocking skip mode and one down channel named
//! [`DOWN_CHANNEL_NAME`], then sends the `Hello`. Nothing here ever waits for a host: a frame that
//! does not fit the up buffer is dropped whole and counted, and the count is sent (as
//! `FramesLost`) ahead of the next frame that fits. Before `init`, sends do nothing.
//!
//! A second up channel, [`LOG_CHANNEL_NAME`] (the `log-channel` feature, on by default), carries the
//! firmware's own text logs: `rtt_target::rprintln!` prints there.
//!
//! Static strings are interned: the first time a task name, file path or type name is sent, a
//! `DefineText` frame gives it a short id, and later frames carry only the id.

mod channel;
mod control_block;
pub mod doorbell;
mod interned;
mod reports;

use asyncmon_protocol::decoder::Decoded;
use asyncmon_protocol::device::{DeviceMessage, Hello, HostCommand, Text, PROTOCOL_VERSION};
use channel::Link;
use core::cell::RefCell;
use core::sync::atomic::{AtomicBool, Ordering};
use critical_section::Mutex;

pub(crate) use reports::*;

pub use asyncmon_protocol::rtt::{DOWN_CHANNEL as DOWN_CHANNEL_NAME, LOG_CHANNEL as LOG_CHANNEL_NAME};
pub use asyncmon_protocol::rtt::{SYMBOL as CONTROL_BLOCK_SYMBOL, UP_CHANNEL as UP_CHANNEL_NAME};
pub use control_block::{read_everything_as_a_host_would, DOWN_BUFFER_BYTES, UP_BUFFER_BYTES};

static LINK: Mutex<RefCell<Option<Link>>> = Mutex::new(RefCell::new(None));

/// Set once the link exists, so that a firmware without a link (and the hot paths of the
/// executor) skip the critical section entirely.
static LINK_READY: AtomicBool = AtomicBool::new(false);

/// Creates the RTT control block and sends the `Hello` (protocol version, firmware, build id).
///
/// # Panics
/// If called twice (the control block is a single static).
pub fn init(firmware: &'static str, build_id: &'static str) {
    init_without_hello();
    with_link(|link| {
        link.hello = Some((firmware, build_id));
        send_hello(link);
    });
}

fn send_hello(link: &mut Link) {
    if let Some((firmware, build_id)) = link.hello {
        link.send(&DeviceMessage::Hello(Hello {
            version: PROTOCOL_VERSION,
            firmware: Text::from_static(firmware),
            build_id: Text::from_static(build_id),
        }));
    }
}

/// Starts over with a host that knows nothing: forget the interned strings and say hello again.
/// The executor then announces its running tasks.
pub(crate) fn resync() {
    interned::forget();
    say_hello_again();
}

/// Says hello again (the interned strings are the caller's to forget).
pub(crate) fn say_hello_again() {
    with_link(send_hello);
}

/// Answers a roll call in the same session: forget the interned strings (their definitions may be
/// among the lost frames) and open the list of running tasks the caller then sends.
pub(crate) fn start_roll_call() {
    interned::forget();
    send(&DeviceMessage::RollCallStarted);
}

/// Closes a roll call that named `announced` tasks.
pub(crate) fn end_roll_call(announced: u32) {
    send(&DeviceMessage::RollCallDone { announced });
}

/// Creates the RTT control block without sending a `Hello`. For fault-injection firmware only.
#[doc(hidden)]
pub fn init_without_hello() {
    #[cfg(feature = "std")]
    doorbell::start_pipe();
    // portable-atomic: thumbv6m has no atomic swap of its own.
    static MADE: portable_atomic::AtomicBool = portable_atomic::AtomicBool::new(false);
    assert!(!MADE.swap(true, Ordering::AcqRel), "asyncmon_agent::link::init called twice");
    // SAFETY: once only (the swap above).
    let channels = unsafe { control_block::init() };
    // The firmware's defmt logs go to the "defmt" channel of asyncmon's control block.
    #[cfg(feature = "defmt")]
    rtt_target::set_defmt_channel(channels.defmt);
    // The firmware's own text logs (`println!`) go to the "log" channel, which the daemon shows
    // beside the tasks; like the asyncmon channel, it never blocks.
    #[cfg(feature = "log-channel")]
    rtt_target::set_print_channel(channels.log);
    let link = Link::new(channels.up, channels.down);
    critical_section::with(|cs| *LINK.borrow_ref_mut(cs) = Some(link));
    LINK_READY.store(true, Ordering::Release);
}

/// Prints one line on the firmware's text channel (`log`); what [`println!`](crate::println) expands
/// to. Does nothing before [`init`], or without the `log-channel` feature; never blocks (a full
/// buffer drops the line).
pub fn print_line(line: core::fmt::Arguments<'_>) {
    if LINK_READY.load(Ordering::Acquire) {
        rtt_target::rprintln!("{}", line);
    }
}

/// Runs `f` on the link inside a critical section; does nothing before [`init`].
pub(crate) fn with_link(f: impl FnOnce(&mut Link)) {
    if !LINK_READY.load(Ordering::Acquire) {
        return;
    }
    critical_section::with(|cs| {
        if let Some(link) = LINK.borrow_ref_mut(cs).as_mut() {
            f(link);
        }
    });
}

/// Whether [`init`] has run (so reports are worth building).
#[inline]
pub(crate) fn enabled() -> bool {
    LINK_READY.load(Ordering::Relaxed)
}

/// Encodes and writes one message as one frame; a frame that does not fit is dropped and counted.
pub(crate) fn send(msg: &DeviceMessage<'_>) {
    with_link(|link| {
        link.send(msg);
    });
}

/// What the link has done since [`init`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Messages offered to the link (each one frame).
    pub produced: u64,
    /// How many of them were dropped because the up buffer was full (and reported to the host as
    /// lost, in `FramesLost` frames).
    pub dropped: u64,
}

/// What the link has done since [`init`].
pub fn stats() -> LinkStats {
    let mut stats = LinkStats::default();
    with_link(|link| stats = LinkStats { produced: link.produced, dropped: link.dropped });
    stats
}

/// Sends a pending count of lost frames as soon as it fits; the executor calls this on its control
/// tick, so a loss is reported even when nothing else is sent after it.
pub(crate) fn report_losses() {
    with_link(Link::report_losses);
}

/// Writes raw bytes to the up channel, all or nothing; returns whether they were written. For
/// fault-injection firmware only.
#[doc(hidden)]
pub fn write_raw(bytes: &[u8]) -> bool {
    let mut written = false;
    with_link(|link| written = link.write_raw(bytes));
    written
}

/// Reads the down channel; returns every complete command in it (the buffer holds at most eight).
pub(crate) fn poll_commands() -> heapless::Vec<HostCommand, 8> {
    let mut commands = heapless::Vec::new();
    with_link(|link| {
        link.read_control(|decoded| {
            if let Decoded::Frame(payload) = decoded {
                if let Some(cmd) = HostCommand::from_payload(payload) {
                    let _ = commands.push(cmd);
                }
            }
        })
    });
    commands
}

/// Waits until the host has read everything in the up buffers (asyncmon's and the text log
/// channel), or `timeout` passed; returns whether it was drained. Call it before a reset or a
/// power-down on a board, or before a host process exits (the host can no longer read the memory of
/// a process that has ended). It never waits longer than `timeout`, so a firmware with no host
/// attached is not held up.
pub fn drain(timeout: embassy_time::Duration) -> bool {
    let deadline = embassy_time::Instant::now() + timeout;
    loop {
        let mut empty = true;
        with_link(|link| {
            link.report_losses();
            empty = link.is_drained() && link.nothing_lost();
        });
        // The text log channel, too: a firmware's last log lines matter most.
        let logs_empty = core::cell::Cell::new(true);
        rtt_target::with_terminal_channel(|terminal| logs_empty.set(terminal.is_empty()));
        empty &= logs_empty.get();
        if empty {
            return true;
        }
        if embassy_time::Instant::now() >= deadline {
            return false;
        }
        // The host reads every few milliseconds; on a board, this is the last thing before a reset.
        #[cfg(feature = "std")]
        std::thread::sleep(std::time::Duration::from_millis(2));
        #[cfg(not(feature = "std"))]
        embassy_time::block_for(embassy_time::Duration::from_micros(500));
    }
}
