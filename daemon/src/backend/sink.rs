//! Where a backend's events go: an [`EventSink`]. The daemon's [`Hub`](crate::hub::Hub) is one;
//! the pump's tests use a checking sink of their own (`scripted::play`), without a daemon.

use asyncmon_protocol::host::SessionEvent;
use std::sync::Arc;

/// Receives session events from a target's thread (and from threads it starts).
pub trait EventSink: Send + Sync {
    /// Applies and forwards one event.
    fn publish(&self, event: SessionEvent);
}

/// A shared sink, as backends hold it.
pub type Sink = Arc<dyn EventSink>;
