//! Targets: what the daemon reads frames from and sends stop requests to.
//!
//! The simulator (a firmware built for the host, run as a child process whose RTT control block is
//! read out of its memory) and the replay of a recording.

mod elf;
pub mod probe;
pub mod process;
pub mod replay;
pub mod sim;
pub mod spec;
pub mod tcp;

pub use elf::{find_rtt_symbol, locate_in_process, runtime_address, LocateError, RttSymbol};

use asyncmon_protocol::frame::{self, MAX_FRAME, MAX_PAYLOAD};
use asyncmon_protocol::HostCommand;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The wait before trying again: doubles after each failure, up to a limit, and starts over after
/// a success.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff { initial, max, next: initial }
    }

    /// The wait before the next attempt; the one after is twice as long (up to the limit).
    pub fn next(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(self.max);
        wait
    }

    /// The last attempt worked: the next failure waits the initial time again.
    pub fn reset(&mut self) {
        self.next = self.initial;
    }
}

/// A host command as one device-link frame, for the RTT down channel.
pub(crate) fn control_frame(command: &HostCommand) -> Vec<u8> {
    let (mut scratch, mut out) = ([0; MAX_PAYLOAD + 4], [0; MAX_FRAME]);
    frame::encode(command, &mut scratch, &mut out).expect("a control frame fits").to_vec()
}

/// Waits `time` while no target is attached, answering commands: a stop or reset cannot be carried
/// out, so `refuse` is called; returns `false` when the daemon shuts down.
pub(crate) fn wait_detached(commands: &Receiver<TargetCommand>, time: Duration, refuse: impl Fn()) -> bool {
    let until = Instant::now() + time;
    loop {
        match commands.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok(TargetCommand::Shutdown) | Err(RecvTimeoutError::Disconnected) => return false,
            Ok(TargetCommand::Stop { .. } | TargetCommand::Reset) => refuse(),
            Err(RecvTimeoutError::Timeout) => return true,
        }
    }
}

/// A request to the target's thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetCommand {
    /// Write a stop request to the firmware (surfaces as `KeyboardInterrupt`).
    Stop {
        /// Echoed in the acknowledgement.
        request_id: u32,
        /// Drop every task now instead of waiting for their cleanup.
        hard: bool,
    },
    /// Reset the target: the simulator kills its firmware process and starts it again.
    Reset,
    /// The daemon is exiting: end the target (the simulator kills its process).
    Shutdown,
}
