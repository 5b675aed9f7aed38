//! The host side of SEGGER RTT, over any [`TargetMemory`].
//!
//! Follows the ring-buffer rules exactly: on an up channel the host reads data and writes only the
//! read offset; on a down channel it writes data and then the write offset. Every value read from
//! the target is checked before it is used, so a corrupted or re-initialised control block is
//! reported instead of followed.

mod channel;
mod control_block;

pub use channel::{DownChannel, UpChannel};

#[cfg(test)]
pub(crate) use channel::tests as channel_tests_support;
pub use control_block::{is_rtt_id, ChannelDescriptor, ControlBlock, PointerWidth, ASYNCMON_RTT_ID, RTT_ID};

/// What went wrong reading RTT.
#[derive(Debug, thiserror::Error)]
pub enum RttError {
    /// Target memory could not be read or written.
    #[error("target memory at {addr:#x}: {source}")]
    Memory {
        /// The address.
        addr: u64,
        /// The error.
        source: std::io::Error,
    },
    /// The control block is not there (yet): the id does not match.
    #[error("no RTT control block at {0:#x} (the firmware has not initialised RTT yet)")]
    NotInitialised(u64),
    /// A value in the control block makes no sense.
    #[error("RTT control block corrupted: {0}")]
    Corrupted(String),
    /// The target reset or re-initialised RTT under the host.
    #[error("the target re-initialised RTT (reset or restart): re-attaching")]
    Reinitialised,
    /// The channel the host looks for does not exist.
    #[error("no RTT {direction} channel named {name:?}; the firmware has {available:?}")]
    NoSuchChannel {
        /// `up` or `down`.
        direction: &'static str,
        /// The name looked for.
        name: String,
        /// The names it has.
        available: Vec<String>,
    },
}
