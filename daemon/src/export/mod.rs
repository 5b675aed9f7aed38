//! A session for other tools: [`perfetto`], a recording as a timeline for ui.perfetto.dev and
//! Chrome DevTools, and [`otlp`], failures, task spans and poll figures to an OpenTelemetry
//! collector, live or from a recording.

pub mod otlp;
pub mod perfetto;

#[cfg(test)]
mod fixtures;
