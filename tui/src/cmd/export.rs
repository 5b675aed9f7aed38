//! `asyncmon export FILE --perfetto OUT | --otlp URL`: a recording (made with `--record`) as a
//! timeline that ui.perfetto.dev and Chrome DevTools open (`asyncmon_daemon::export::perfetto`),
//! or sent to an OpenTelemetry collector after the fact (`asyncmon_daemon::export::otlp`).

use anyhow::Context;
use asyncmon_daemon::export::otlp::OtlpConfig;
use asyncmon_protocol::host::recording::{RecordedEvent, RecordingHeader};
use std::path::{Path, PathBuf};

/// Where to export to.
pub struct Formats {
    /// A Perfetto / Chrome trace to this path (`-`: standard output).
    pub perfetto: Option<PathBuf>,
    /// A collector.
    pub otlp: Option<OtlpConfig>,
}

/// Exports `file` to each of `formats`; returns what it says of it.
pub fn run(file: &Path, formats: Formats) -> anyhow::Result<String> {
    if formats.perfetto.is_none() && formats.otlp.is_none() {
        anyhow::bail!(
            "nothing to export to: name the format, e.g. `asyncmon export {0} --perfetto trace.json` or \
             `asyncmon export {0} --otlp http://localhost:4318`",
            file.display()
        );
    }
    let (header, events) = asyncmon_daemon::export::perfetto::read_recording(file)?;
    let mut said = Vec::new();
    if let Some(out) = formats.perfetto {
        said.push(perfetto(&header, &events, &out)?);
    }
    if let Some(config) = formats.otlp {
        let count = events.len();
        asyncmon_daemon::export::otlp::recording::send(&config, &header, events)
            .with_context(|| format!("exporting {} to {}", file.display(), config.endpoint))?;
        said.push(format!("sent {count} recorded events to {}", config.endpoint));
    }
    Ok(said.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join("\n"))
}

fn perfetto(header: &RecordingHeader, events: &[RecordedEvent], out: &Path) -> anyhow::Result<String> {
    let count = asyncmon_daemon::export::perfetto::write(header, events, out)?;
    if out == Path::new("-") {
        return Ok(String::new());
    }
    Ok(format!(
        "wrote {} ({count} events from {} recorded): open it in ui.perfetto.dev or Chrome DevTools' Performance panel (Load profile)",
        out.display(),
        events.len()
    ))
}
