//! How many probe transactions the daemon's work costs, summed over every board in this process:
//! what the README's figures for a real probe's round-trip time come from (`cargo bench -p
//! asyncmon-demo --bench await_traces`). One transaction is one block read or write through
//! probe-rs (`Core::read_8` of a range, one word written): a probe may split a long block into
//! several USB packets of its own size.

use std::sync::atomic::{AtomicU64, Ordering};

/// The counters.
#[derive(Debug, Default)]
pub struct ProbeCounters {
    /// RTT polls (reads of the up channels, whether data came or not).
    pub polls: AtomicU64,
    /// Transactions those polls and the down channel's writes took.
    pub link_transactions: AtomicU64,
    /// Transactions of reads beside the link: await traces (each task's future) and strings.
    pub memory_transactions: AtomicU64,
    /// Bytes those reads brought.
    pub memory_bytes: AtomicU64,
}

/// Every board's, in this process.
pub static COUNTERS: ProbeCounters = ProbeCounters {
    polls: AtomicU64::new(0),
    link_transactions: AtomicU64::new(0),
    memory_transactions: AtomicU64::new(0),
    memory_bytes: AtomicU64::new(0),
};

impl ProbeCounters {
    /// The counts now: polls, link transactions, memory transactions, memory bytes.
    pub fn snapshot(&self) -> [u64; 4] {
        [&self.polls, &self.link_transactions, &self.memory_transactions, &self.memory_bytes]
            .map(|c| c.load(Ordering::Relaxed))
    }

    pub(super) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}
