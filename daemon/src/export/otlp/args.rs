//! The OTLP export's command-line options, shared by `asyncmond` (live sessions) and
//! `asyncmon export` (recordings).

use super::telemetry::{Compression, OtlpConfig, Protocol, TelemetryError};

/// `--otlp URL [--otlp-protocol P] [--otlp-compression C]`.
#[derive(Debug, Clone, clap::Args)]
pub struct OtlpArgs {
    /// Export failures (log records), task lives (spans whose parent is the spawner's span) and
    /// poll figures (metrics) to this OpenTelemetry collector, e.g. http://localhost:4318.
    #[arg(long, global = true, value_name = "URL")]
    pub otlp: Option<String>,
    /// The OTLP protocol: http (protobuf, a collector's port 4318) or grpc (its port 4317).
    #[arg(long, global = true, value_enum, default_value_t = Protocol::HttpProtobuf, requires = "otlp")]
    pub otlp_protocol: Protocol,
    /// Compress what is sent (gzip, which every OTLP collector takes: about a sixth of the bytes),
    /// or not (none).
    #[arg(long, global = true, value_enum, default_value_t = Compression::Gzip, requires = "otlp")]
    pub otlp_compression: Compression,
}

impl OtlpArgs {
    /// The export asked for, checked; `None` without `--otlp`.
    pub fn config(&self) -> Result<Option<OtlpConfig>, TelemetryError> {
        let Some(url) = &self.otlp else { return Ok(None) };
        let mut config = OtlpConfig::new(url, self.otlp_protocol)?;
        config.compression = self.otlp_compression;
        Ok(Some(config))
    }
}
