//! Recordings turned into what other tools read: [`perfetto`], a timeline for ui.perfetto.dev and
//! chrome://tracing.

pub mod perfetto;
