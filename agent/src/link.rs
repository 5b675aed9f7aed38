//! The RTT link to the host: asyncmon frames up, control frames down.
//!
//! [`init`] creates the SEGGER RTT control block (`_SEGGER_RTT`, through `rtt-target`) with one up
//! channel named [`UP_CHANNEL_NAME`] in non-blocking skip mode and one down channel named
//! [`DOWN_CHANNEL_NAME`], then sends the `Hello`. Nothing here ever waits for a host: a frame that
//! does not fit the up buffer is dropped whole and counted, and the count is sent (as
//! `FramesLost`) ahead of the next frame that fits. Before `init`, sends do nothing.

use crate::exception::{Context, Exception};
use crate::task::TaskMeta;
use asyncmon_protocol::decoder::{Decoded, FrameDecoder};
use asyncmon_protocol::device::*;
use asyncmon_protocol::frame::{self, EncodeScratch, MAX_FRAME, MAX_PAYLOAD};
use core::cell::RefCell;
use core::fmt::Write as _;
use core::sync::atomic::{AtomicBool, Ordering};
use critical_section::Mutex;
use rtt_target::{DownChannel, UpChannel};

/// The name of the up channel the host looks for.
pub const UP_CHANNEL_NAME: &str = "asyncmon";
/// The name of the down channel the host writes control frames to.
pub const DOWN_CHANNEL_NAME: &str = "asyncmon-control";
/// The up buffer size: a failure frame (at most ~320 bytes) always fits an empty buffer.
pub const UP_BUFFER_BYTES: usize = 1024;
/// The down buffer size: several stop frames (about 12 bytes each).
pub const DOWN_BUFFER_BYTES: usize = 64;

/// The largest control frame the agent accepts.
const MAX_CONTROL_FRAME: usize = 32;

struct Link {
    up: UpChannel,
    down: DownChannel,
    /// Frames dropped since the last `FramesLost` that reached the host.
    lost: u32,
    control: FrameDecoder<MAX_CONTROL_FRAME>,
    scratch: EncodeScratch,
    out: [u8; MAX_FRAME],
}

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
    send(&DeviceMessage::Hello(Hello {
        version: PROTOCOL_VERSION,
        firmware: Text::from_static(firmware),
        build_id: Text::from_static(build_id),
    }));
}

/// Creates the RTT control block without sending a `Hello`. For fault-injection firmware only.
#[doc(hidden)]
pub fn init_without_hello() {
    let channels = rtt_target::rtt_init! {
        up: {
            0: { size: 1024, mode: rtt_target::ChannelMode::NoBlockSkip, name: "asyncmon" }
        }
        down: {
            0: { size: 64, name: "asyncmon-control" }
        }
    };
    let link = Link {
        up: channels.up.0,
        down: channels.down.0,
        lost: 0,
        control: FrameDecoder::new(),
        scratch: [0; MAX_PAYLOAD + 4],
        out: [0; MAX_FRAME],
    };
    critical_section::with(|cs| *LINK.borrow_ref_mut(cs) = Some(link));
    LINK_READY.store(true, Ordering::Release);
}

/// Writes raw bytes to the up channel, all or nothing; returns whether they were written. For
/// fault-injection firmware only.
#[doc(hidden)]
pub fn write_raw(bytes: &[u8]) -> bool {
    critical_section::with(|cs| {
        LINK.borrow_ref_mut(cs).as_mut().is_some_and(|link| link.up.write(bytes) == bytes.len())
    })
}

/// Encodes and writes one message as one frame; a frame that does not fit is dropped and counted.
pub(crate) fn send(msg: &DeviceMessage<'_>) {
    if !LINK_READY.load(Ordering::Acquire) {
        return;
    }
    critical_section::with(|cs| {
        let mut link = LINK.borrow_ref_mut(cs);
        let Some(link) = link.as_mut() else { return };
        if link.lost > 0 {
            let report = DeviceMessage::FramesLost { count: link.lost };
            if link.write(&report) {
                link.lost = 0;
            }
        }
        if !link.write(msg) {
            link.lost = link.lost.saturating_add(1);
        }
    });
}

impl Link {
    fn write(&mut self, msg: &DeviceMessage<'_>) -> bool {
        match frame::encode(msg, &mut self.scratch, &mut self.out) {
            Ok(bytes) => self.up.write(bytes) == bytes.len(),
            Err(_) => false,
        }
    }
}

/// Reads the down channel; returns the first complete command, if any.
pub(crate) fn poll_command() -> Option<HostCommand> {
    if !LINK_READY.load(Ordering::Acquire) {
        return None;
    }
    critical_section::with(|cs| {
        let mut link = LINK.borrow_ref_mut(cs);
        let link = link.as_mut()?;
        let mut bytes = [0u8; DOWN_BUFFER_BYTES];
        let n = link.down.read(&mut bytes);
        let mut command = None;
        link.control.feed(&bytes[..n], |decoded| {
            if let Decoded::Frame(payload) = decoded {
                if let Ok(cmd) = frame::decode::<HostCommand>(payload) {
                    command.get_or_insert(cmd);
                }
            }
        });
        command
    })
}

fn task_info(meta: &TaskMeta) -> TaskInfo<'static> {
    TaskInfo {
        id: meta.id,
        name: Text::from_static(meta.name),
        spawned_at: SourceLocation::from_core(meta.spawned_at),
        parent: meta.parent,
    }
}

pub(crate) fn send_task_spawned(meta: &TaskMeta, storage_bytes: usize) {
    if !LINK_READY.load(Ordering::Relaxed) {
        return;
    }
    send(&DeviceMessage::Spawned { task: task_info(meta), storage_bytes: storage_bytes as u32 });
}

pub(crate) fn send_task_finished(id: TaskId, outcome: TaskOutcome) {
    if !LINK_READY.load(Ordering::Relaxed) {
        return;
    }
    send(&DeviceMessage::TaskFinished { id, outcome });
}

pub(crate) fn send_shutdown_ack(
    request_id: u32,
    tasks: heapless::Vec<TaskEnding, MAX_ACK_TASKS>,
    total: u32,
    hard_stop: bool,
) {
    send(&DeviceMessage::ShutdownAck(ShutdownAck { request_id, tasks, total, hard_stop }));
}

/// Renders an exception's message into a bounded buffer, marking it when cut.
struct Bounded {
    text: heapless::String<{ MAX_INLINE_TEXT * 2 }>,
    cut: bool,
}

impl Bounded {
    /// Cuts the text to [`MAX_INLINE_TEXT`] bytes at a character boundary, with the marker, when it
    /// was longer.
    fn finish(&mut self) {
        if !self.cut && self.text.len() <= MAX_INLINE_TEXT {
            return;
        }
        while self.text.len() + TRUNCATION_MARKER.len() > MAX_INLINE_TEXT {
            self.text.pop();
        }
        let _ = self.text.push_str(TRUNCATION_MARKER);
    }
}

impl core::fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for c in s.chars() {
            if self.text.push(c).is_err() {
                self.cut = true;
                return Err(core::fmt::Error);
            }
        }
        Ok(())
    }
}

fn send_exception(
    message: Text<'_>,
    exception: Option<&dyn Exception>,
    task: Option<&TaskMeta>,
    path: FailurePath,
) {
    if !LINK_READY.load(Ordering::Acquire) {
        return;
    }
    let mut rendered = Bounded { text: heapless::String::new(), cut: false };
    let exception = exception.map(|e| {
        let _ = write!(rendered, "{e}");
        rendered.finish();
        ExceptionInfo {
            type_name: Text::from_static(e.type_name()),
            message: Text::Inline(rendered.text.as_str()),
            raised_at: e.raised_at().map(SourceLocation::from_core),
        }
    });
    send(&DeviceMessage::Failure(FailureContext { message, exception, task: task.map(task_info), path }));
}

/// The default exception handler's work: the failure context, to the host.
pub(crate) fn send_failure(context: &Context<'_>) {
    let mut message = heapless::String::new();
    let text = Text::inline_truncated(context.message, &mut message);
    send_exception(text, context.exception, context.task.as_ref(), context.path);
}

/// Tells the host that a failure was retrieved (awaited or gathered), so its path is on record.
pub(crate) fn send_retrieved_failure(meta: &TaskMeta, exception: &dyn Exception, path: FailurePath) {
    send_exception(Text::from_static("Task exception was retrieved"), Some(exception), Some(meta), path);
}

/// Waits until the host has read everything in the up buffer, or `timeout` passed; returns whether
/// it was drained. A host process calls this before it exits, because the host can no longer read
/// the memory of a process that has ended. It never waits longer than `timeout`, so a firmware with
/// no host attached is not held up.
#[cfg(feature = "std")]
pub fn drain(timeout: std::time::Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let empty = critical_section::with(|cs| LINK.borrow_ref(cs).as_ref().is_none_or(|l| l.up.is_empty()));
        if empty {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}
