//! What the daemon asks of a target's thread.

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
    /// Reset the target: the simulator kills its firmware process and starts it again; a board's
    /// core is reset.
    Reset,
    /// The daemon is exiting: end the target (the simulator kills its process).
    Shutdown,
    /// Read every running task's await trace now and publish them, changed or not.
    RefreshTraces,
}
