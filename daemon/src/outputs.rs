//! What a session writes besides what it serves to clients — a recording (`--record`), a
//! Perfetto trace when it ends (`--perfetto`), an OpenTelemetry export (`--otlp`) — as the options
//! of every command line that starts a daemon (`asyncmond`, `asyncmon demo`, `run`, `qemu`,
//! `attach`).

use crate::daemon::DaemonConfig;
use crate::export::otlp::OtlpArgs;
use std::path::PathBuf;

/// `--record FILE`, `--perfetto OUT.json`, `--otlp URL ...`.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Record the session (events with their times, resolved strings, the firmware's build id) to
    /// this file; `asyncmon replay FILE` plays it back, `asyncmon export FILE` converts it. With
    /// several targets, the first one's.
    #[arg(long, global = true, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// When the session ends (the firmware exits or is stopped, the daemon ends), write it as a
    /// Perfetto / Chrome trace (JSON) to this file: a timeline for ui.perfetto.dev and Chrome
    /// DevTools' Performance panel, as `asyncmon export --perfetto` writes (a track per task; each
    /// poll a slice when the firmware has the `poll-trace` feature). With several targets, the
    /// first one's.
    #[arg(long, global = true, value_name = "OUT")]
    pub perfetto: Option<PathBuf>,
    /// The OTLP export.
    #[command(flatten)]
    pub otlp: OtlpArgs,
}

impl OutputArgs {
    /// Sets `config`'s outputs from these options, checked.
    pub fn apply(&self, config: &mut DaemonConfig) -> anyhow::Result<()> {
        config.record.clone_from(&self.record);
        config.perfetto.clone_from(&self.perfetto);
        config.otlp = self.otlp.config()?;
        Ok(())
    }
}
