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

impl TargetError {
    /// A file of the target's that could not be opened (its memory, its maps): out of file
    /// descriptors or memory is this machine's passing state, tried again with backoff; anything
    /// else (no permission) is the firmware's to fix, said once.
    pub fn opening(what: String, error: &std::io::Error) -> TargetError {
        let transient = matches!(
            error.raw_os_error(),
            Some(nix::libc::EMFILE | nix::libc::ENFILE | nix::libc::ENOMEM | nix::libc::EAGAIN)
        );
        let words = format!("{what}: {error}");
        if transient {
            TargetError::Unavailable(format!("{words} (trying again)"))
        } else {
            TargetError::Firmware(words)
        }
    }
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

    #[test]
    fn running_out_of_file_descriptors_is_tried_again_and_no_permission_is_said_once() {
        let emfile = std::io::Error::from_raw_os_error(nix::libc::EMFILE);
        let error = TargetError::opening("cannot open the memory of process 7".into(), &emfile);
        assert!(
            matches!(&error, TargetError::Unavailable(words) if words.contains("trying again")),
            "{error}"
        );
        let denied = std::io::Error::from_raw_os_error(nix::libc::EACCES);
        let error = TargetError::opening("cannot open the memory of process 7".into(), &denied);
        assert!(matches!(error, TargetError::Firmware(_)));
    }
}
