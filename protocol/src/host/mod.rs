//! Host-link messages: the daemon and its clients (the monitor, the language server, scripts).
//!
//! MessagePack with named fields (rmp-serde), one message per length-delimited frame (a 4-byte
//! big-endian length, as `tokio_util::codec::LengthDelimitedCodec` writes it by default). Every
//! string here is already resolved: clients never see a device-link reference.

mod fit;
mod messages;
pub mod recording;
mod session;
pub mod wording;

pub use messages::*;
pub use session::{SessionState, MAX_FAILURES, MAX_FINISHED_TASKS, MAX_LOG_LINES, MAX_RUNNING_TASKS};

use serde::{de::DeserializeOwned, Serialize};
use std::string::{String, ToString};
use std::vec::Vec;

/// The host-link protocol version; a client and daemon exchange it in `Hello` / `Welcome`.
pub const HOST_PROTOCOL_VERSION: u16 = 2;

/// The largest host-link frame either side accepts, in bytes.
pub const MAX_HOST_FRAME: usize = 16 * 1024 * 1024;

/// A host-link message could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostLinkError(pub String);

impl core::fmt::Display for HostLinkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "host-link message: {}", self.0)
    }
}

impl std::error::Error for HostLinkError {}

/// Encodes one host-link message (without the length prefix).
pub fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, HostLinkError> {
    rmp_serde::to_vec_named(msg).map_err(|e| HostLinkError(e.to_string()))
}

/// Decodes one host-link message (without the length prefix).
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, HostLinkError> {
    rmp_serde::from_slice(bytes).map_err(|e| HostLinkError(e.to_string()))
}
