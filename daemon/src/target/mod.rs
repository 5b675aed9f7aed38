//! Targets: what the daemon reads frames from and sends stop requests to.
//!
//! The simulator (a firmware built for the host, run as a child process whose RTT control block is
//! read out of its memory) and the replay of a recording.

mod elf;
pub mod probe;
pub mod replay;
pub mod sim;
pub mod spec;
pub mod tcp;

pub use elf::{find_rtt_symbol, locate_in_process, runtime_address, RttSymbol};

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
