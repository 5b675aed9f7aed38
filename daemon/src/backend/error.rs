//! Why a target operation failed, typed so that the pump can choose the recovery: a link that is
//! momentarily inconsistent is re-opened on the same connection, a target that is gone is
//! reconnected, a firmware that cannot be used is reported once and waited out.

use crate::rtt::RttError;

/// See the module documentation.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The RTT control block or a channel is not (or no longer) usable: re-open the link, keeping
    /// the connection to the target. Target memory that cannot be read is `Gone`, not this.
    #[error(transparent)]
    Link(RttError),
    /// The target cannot be reached any more (probe unplugged, server closed, process memory
    /// gone): reconnect with backoff.
    #[error("{0}")]
    Gone(String),
    /// The target cannot be started or reached now (no probe, no server, spawn failed): try again
    /// with backoff.
    #[error("{0}")]
    Unavailable(String),
    /// The firmware cannot be served as it is (no RTT symbol, no access to its memory): said once;
    /// the target keeps running until it ends or is reset.
    #[error("{0}")]
    Firmware(String),
    /// This target cannot do what was asked (a reset through an RTT server).
    #[error("{0}")]
    Unsupported(String),
}

impl From<RttError> for TargetError {
    fn from(error: RttError) -> Self {
        match error {
            RttError::Memory { .. } => TargetError::Gone(error.to_string()),
            other => TargetError::Link(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_memory_is_a_lost_target_and_a_bad_block_a_link_to_reopen() {
        let memory = RttError::Memory { addr: 0x10, source: std::io::Error::other("EIO") };
        assert!(matches!(TargetError::from(memory), TargetError::Gone(_)));
        assert!(matches!(TargetError::from(RttError::Reinitialised), TargetError::Link(_)));
        assert!(matches!(TargetError::from(RttError::Corrupted("x".into())), TargetError::Link(_)));
    }
}
