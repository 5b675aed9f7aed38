//! `asyncmon export FILE --perfetto OUT`: a recording (made with `--record`) as a timeline that
//! ui.perfetto.dev and chrome://tracing open (`asyncmon_daemon::export::perfetto`).

use anyhow::Context;
use asyncmon_protocol::host::recording::RecordingReader;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Exports `file` to `perfetto` (a path, or `-` for standard output); returns what it says of it.
pub fn run(file: &Path, perfetto: Option<PathBuf>) -> anyhow::Result<String> {
    let Some(out) = perfetto else {
        anyhow::bail!(
            "nothing to export to: name the format, e.g. `asyncmon export {} --perfetto trace.json`",
            file.display()
        );
    };
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot open the recording {}", file.display()))?;
    let mut reader = RecordingReader::new(std::io::BufReader::new(input))
        .with_context(|| format!("{} is not a recording asyncmon can read", file.display()))?;
    let mut events = Vec::new();
    while let Some(event) = reader.next_event().with_context(|| format!("{}", file.display()))? {
        events.push(event);
    }
    let target = format!("{} ({})", reader.header.target.name, reader.header.target.backend);
    let trace = asyncmon_daemon::export::perfetto::trace(&target, &events);
    let json = serde_json::to_vec(&trace)?;
    if out == Path::new("-") {
        std::io::stdout().write_all(&json)?;
        return Ok(String::new());
    }
    std::fs::write(&out, &json).with_context(|| format!("cannot write {}", out.display()))?;
    let slices = trace["traceEvents"].as_array().map_or(0, |e| e.len());
    Ok(format!(
        "wrote {} ({} events from {} recorded): open it in ui.perfetto.dev or chrome://tracing",
        out.display(),
        slices,
        events.len()
    ))
}
