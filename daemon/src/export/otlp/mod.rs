//! A session's failures, task spans and poll figures over OpenTelemetry (OTLP) to any collector:
//! `asyncmond --otlp URL` (every target, each with itself as the resource) and
//! `asyncmon export --otlp URL FILE` (a recording, after the fact).
//!
//! - [`translate`]: session events to OpenTelemetry's model — a failure is a log record with
//!   `exception.*` and `code.*` attributes, a task's life a span whose parent is its spawner's, the
//!   poll figures, link counters and executor idle time metrics (pure apart from the SDK's calls).
//! - [`telemetry`]: the SDK's three providers for one resource, exporting to the collector.
//! - [`args`]: `--otlp URL` and its options, for both command lines.
//! - [`recording`]: a recording, sent after the fact.
//! - [`feed`]: the daemon's side: a bounded queue in front of a thread of its own, so a collector
//!   that is down or slow never holds up the target's pump; what does not fit is counted.

pub mod args;
pub mod feed;
pub mod recording;
pub mod telemetry;
pub mod translate;

pub use args::OtlpArgs;
pub use feed::OtlpFeed;
pub use telemetry::{Compression, OtlpConfig, Protocol};
