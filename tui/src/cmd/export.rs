//! `asyncmon export FILE --perfetto OUT | --otlp URL`: a recording (made with `--record`) as a
//! timeline that ui.perfetto.dev and chrome://tracing open (`asyncmon_daemon::export::perfetto`),
//! or sent to an OpenTelemetry collector after the fact (`asyncmon_daemon::export::otlp`).

use anyhow::Context;
use asyncmon_daemon::export::otlp::OtlpConfig;
use asyncmon_protocol::host::recording::{RecordedEvent, RecordingHeader, RecordingReader};
use std::io::Write;
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
    let (header, events) = read(file)?;
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

fn read(file: &Path) -> anyhow::Result<(RecordingHeader, Vec<RecordedEvent>)> {
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot open the recording {}", file.display()))?;
    let mut reader = RecordingReader::new(std::io::BufReader::new(input))
        .with_context(|| format!("{} is not a recording asyncmon can read", file.display()))?;
    let mut events = Vec::new();
    while let Some(event) = reader.next_event().with_context(|| format!("{}", file.display()))? {
        events.push(event);
    }
    Ok((reader.header, events))
}

fn perfetto(header: &RecordingHeader, events: &[RecordedEvent], out: &Path) -> anyhow::Result<String> {
    let target = format!("{} ({})", header.target.name, header.target.backend);
    let trace = asyncmon_daemon::export::perfetto::trace(&target, events);
    let json = serde_json::to_vec(&trace)?;
    if out == Path::new("-") {
        std::io::stdout().write_all(&json)?;
        return Ok(String::new());
    }
    std::fs::write(out, &json).with_context(|| format!("cannot write {}", out.display()))?;
    let slices = trace["traceEvents"].as_array().map_or(0, |e| e.len());
    Ok(format!(
        "wrote {} ({} events from {} recorded): open it in ui.perfetto.dev or chrome://tracing",
        out.display(),
        slices,
        events.len()
    ))
}
