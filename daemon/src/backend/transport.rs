//! A transport: what one kind of target does for the pump — bring the target up, open the RTT
//! link, read the up channels, write the down channel, reset, end. Everything else (commands,
//! frames, recovery, publishing) is the pump's, so a new backend is one short file.

use super::error::TargetError;
use super::process::Exit;
use super::sink::Sink;
use crate::memory::TargetMemory;
use asyncmon_protocol::host::{SessionEvent, TargetDescription};
use std::time::{Duration, Instant};

/// How often and how long the pump waits, per kind of target.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// The sleep between reads when nothing came (zero when `read` itself waits).
    pub poll_interval: Duration,
    /// How long the firmware has to create its control block before the pump says it did not.
    pub attach_timeout: Duration,
    /// The first wait before connecting again after the target was lost.
    pub reconnect_backoff: Duration,
    /// The first wait before looking again at a control block that made no sense.
    pub relink_backoff: Duration,
}

impl Timing {
    /// The first wait before re-opening a link whose control block made no sense: short, so that
    /// the link is back within a second of the block being sane.
    pub const RELINK_BACKOFF: Duration = Duration::from_millis(25);

    /// The timings of a target whose memory the daemon reads (a process, a board): it polls every
    /// `poll_interval` and gives the firmware `attach_timeout` to create its control block.
    pub fn polled(poll_interval: Duration, attach_timeout: Duration) -> Self {
        Timing {
            poll_interval,
            attach_timeout,
            reconnect_backoff: Duration::from_millis(200),
            relink_backoff: Self::RELINK_BACKOFF,
        }
    }
}

/// What a reset left to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterReset {
    /// The target restarted in place (a board's core): re-open the link.
    Relink,
    /// The target was ended (a firmware process): connect again, which starts it anew.
    Reconnect,
}

/// One kind of target, as the pump drives it.
pub trait Transport: Send {
    /// What this target is, for clients.
    fn describe(&self) -> TargetDescription;
    /// The pump's timings for this target.
    fn timing(&self) -> Timing;
    /// The instant event times (`at_ms`) count from: the pump's and the transport's events share it.
    fn clock(&self) -> Instant;
    /// Brings the target up: starts the firmware, opens the probe (flashing it the first time), or
    /// connects to the server. `sink` takes what the target says outside RTT (a process's output).
    fn connect(&mut self, sink: &Sink) -> Result<(), TargetError>;
    /// Looks for the RTT link: `Ok(true)` when frames can flow, `Ok(false)` while the firmware has
    /// not created its control block yet.
    fn open_link(&mut self) -> Result<bool, TargetError>;
    /// Appends what the asyncmon up channel holds to `bytes`, and log lines (and problems) of the
    /// other up channels to `events`. A bad log channel never fails this.
    fn read(&mut self, bytes: &mut Vec<u8>, events: &mut Vec<SessionEvent>) -> Result<(), TargetError>;
    /// Writes as much of `data` as fits into the control channel; returns how much did.
    fn write(&mut self, data: &[u8]) -> Result<usize, TargetError>;
    /// Where the firmware's static strings are read; also where await traces read the tasks'
    /// futures (live memory first).
    fn strings(&mut self) -> &mut dyn TargetMemory;
    /// The ELF of the firmware the target runs now and its load bias, for await traces; `None`
    /// where the daemon cannot read the target's memory or has no ELF.
    fn debug_elf(&self) -> Option<super::traces::DebugElf> {
        None
    }
    /// How the firmware ended, once it has (a process); `None` for targets that do not end.
    fn exited(&mut self) -> Option<Exit>;
    /// Resets the target.
    fn reset(&mut self) -> Result<AfterReset, TargetError>;
    /// Lets the link and the connection go (a process started by the daemon is ended; a board is
    /// left running). Log lines still being decoded go to `sink`.
    fn disconnect(&mut self, sink: &Sink);
    /// Whether the firmware is started again, with backoff, when it ends by itself.
    fn restarts_on_exit(&self) -> bool {
        false
    }
    /// Whether the daemon can start this target again after it ended (a process it did not start
    /// cannot be).
    fn can_restart(&self) -> Result<(), TargetError> {
        Ok(())
    }
    /// Whether the firmware ran before the link first opened (attached to what runs): it is asked
    /// to say hello again and announce its tasks.
    fn ran_before_attach(&self) -> bool {
        false
    }
}
