//! Where a backend's events go: an [`EventSink`]. The daemon's [`Hub`](crate::hub::Hub) is one;
//! tests use [`Collected`], so a transport and the pump can be tested without a daemon.

use asyncmon_protocol::host::SessionEvent;
use std::sync::{Arc, Mutex};

/// Receives session events from a target's thread (and from threads it starts).
pub trait EventSink: Send + Sync {
    /// Applies and forwards one event.
    fn publish(&self, event: SessionEvent);
}

/// A shared sink, as backends hold it.
pub type Sink = Arc<dyn EventSink>;

/// A sink that keeps every event, for tests.
#[derive(Default)]
pub struct Collected {
    events: Mutex<Vec<SessionEvent>>,
}

impl Collected {
    /// Every event so far.
    pub fn events(&self) -> Vec<SessionEvent> {
        self.events.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl EventSink for Collected {
    fn publish(&self, event: SessionEvent) {
        self.events.lock().unwrap_or_else(|e| e.into_inner()).push(event);
    }
}
