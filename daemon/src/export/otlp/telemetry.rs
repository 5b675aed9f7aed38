//! The OpenTelemetry SDK's three providers (traces, logs, metrics) for one resource, each with a
//! batching exporter to the collector: HTTP/protobuf through reqwest's blocking client (the SDK's
//! processors run on threads of their own), or gRPC through tonic, on a small runtime of the
//! destination's own so that no caller needs to be inside one.

use opentelemetry::metrics::{Meter, MeterProvider};
use opentelemetry::InstrumentationScope;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use std::time::Duration;

/// How long one export may take before it is given up (a slow collector): well under the SDK's
/// default of 10 s, so that a session's end is not held up for long.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// How often metrics are sent.
pub const METRIC_INTERVAL: Duration = Duration::from_secs(10);

/// The wire protocol to the collector (`--otlp-protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Protocol {
    /// OTLP over HTTP with protobuf bodies (a collector's port 4318), OpenTelemetry's default.
    #[default]
    #[value(name = "http")]
    HttpProtobuf,
    /// OTLP over gRPC (a collector's port 4317).
    Grpc,
}

/// Whether what is sent is compressed (`--otlp-compression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Compression {
    /// gzip, which every OTLP receiver takes.
    #[default]
    Gzip,
    /// Sent as encoded.
    None,
}

/// Where to export, as the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpConfig {
    /// The collector's base URL (`http://collector:4318`); over HTTP each signal goes to its
    /// standard path under it (`/v1/traces`, `/v1/logs`, `/v1/metrics`).
    pub endpoint: String,
    /// The protocol.
    pub protocol: Protocol,
    /// How often metrics are sent.
    pub metric_interval: Duration,
    /// Compressed or not.
    pub compression: Compression,
}

impl OtlpConfig {
    /// A config for `endpoint`, checked: a plain `http://` URL with a host.
    pub fn new(endpoint: &str, protocol: Protocol) -> Result<Self, TelemetryError> {
        let endpoint = endpoint.trim_end_matches('/').to_string();
        let Some(rest) = endpoint.strip_prefix("http://") else {
            let hint = if endpoint.starts_with("https://") {
                "https is not built in: point --otlp at a collector's plain http endpoint (a collector beside \
                 the daemon can forward over TLS)"
            } else {
                "give the collector's URL, e.g. http://localhost:4318 (HTTP) or http://localhost:4317 with \
                 --otlp-protocol grpc"
            };
            return Err(TelemetryError::Endpoint { endpoint, hint });
        };
        if rest.is_empty() || rest.starts_with(':') {
            return Err(TelemetryError::Endpoint { endpoint, hint: "the URL names no host" });
        }
        Ok(OtlpConfig {
            endpoint,
            protocol,
            metric_interval: METRIC_INTERVAL,
            compression: Compression::Gzip,
        })
    }
}

/// Why an exporter could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The URL is not one the exporter can use.
    #[error("cannot export to {endpoint}: {hint}")]
    Endpoint {
        /// The URL given.
        endpoint: String,
        /// What to do instead.
        hint: &'static str,
    },
    /// A recording's export ended before it was sent whole.
    #[error("the export thread ended early")]
    Ended,
    /// The SDK refused to build an exporter.
    #[error("cannot build the OTLP {signal} exporter: {source}")]
    Build {
        /// Traces, logs or metrics.
        signal: &'static str,
        /// The SDK's reason.
        source: opentelemetry_otlp::ExporterBuildError,
    },
    /// The gRPC client's runtime could not start.
    #[error("cannot start the gRPC exporter's runtime: {0}")]
    Runtime(std::io::Error),
}

/// Where the providers send what they collect.
pub enum Destination {
    /// A collector.
    Otlp {
        /// Its address and protocol.
        config: OtlpConfig,
        /// gRPC's runtime (tonic's connection task lives there).
        runtime: Option<tokio::runtime::Runtime>,
    },
    /// The SDK's in-memory exporters, for tests.
    #[cfg(test)]
    Memory(memory::Memory),
}

impl Destination {
    /// The collector `config` names.
    pub fn otlp(config: OtlpConfig) -> Result<Self, TelemetryError> {
        let runtime = match config.protocol {
            Protocol::HttpProtobuf => None,
            Protocol::Grpc => Some(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("asyncmon-otlp-grpc")
                    .enable_all()
                    .build()
                    .map_err(TelemetryError::Runtime)?,
            ),
        };
        Ok(Destination::Otlp { config, runtime })
    }
}

/// The three providers for one resource, and the tracer, logger and meter asyncmon uses.
pub struct Telemetry {
    tracers: SdkTracerProvider,
    loggers: SdkLoggerProvider,
    meters: SdkMeterProvider,
    /// Task spans.
    pub tracer: SdkTracer,
    /// Failure records.
    pub logger: SdkLogger,
    /// Poll figures, link counters, executor load.
    pub meter: Meter,
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("asyncmon").with_version(env!("CARGO_PKG_VERSION")).build()
}

fn build<T>(
    signal: &'static str,
    result: Result<T, opentelemetry_otlp::ExporterBuildError>,
) -> Result<T, TelemetryError> {
    result.map_err(|source| TelemetryError::Build { signal, source })
}

/// An HTTP exporter's builder, pointed at `url`, gzipped or not.
fn http<B: WithExportConfig + WithHttpConfig>(builder: B, url: String, gzip: bool) -> B {
    let builder = builder.with_endpoint(url).with_timeout(EXPORT_TIMEOUT);
    if gzip {
        builder.with_compression(opentelemetry_otlp::Compression::Gzip)
    } else {
        builder
    }
}

/// A gRPC exporter's builder, pointed at `endpoint`, gzipped or not.
fn grpc<B: WithExportConfig + WithTonicConfig>(builder: B, endpoint: &str, gzip: bool) -> B {
    let builder = builder.with_endpoint(endpoint).with_timeout(EXPORT_TIMEOUT);
    if gzip {
        builder.with_compression(opentelemetry_otlp::Compression::Gzip)
    } else {
        builder
    }
}

impl Telemetry {
    /// Providers that export `resource`'s telemetry to `destination`.
    pub fn start(destination: &Destination, resource: Resource) -> Result<Self, TelemetryError> {
        let (tracers, loggers, meters) = match destination {
            Destination::Otlp { config, runtime } => {
                // tonic spawns its connection onto the runtime current while it is built.
                let _entered = runtime.as_ref().map(|r| r.enter());
                let (endpoint, gzip) = (config.endpoint.as_str(), config.compression == Compression::Gzip);
                let (spans, logs, metrics) = match config.protocol {
                    Protocol::HttpProtobuf => {
                        let url = |path: &str| format!("{endpoint}{path}");
                        let span = opentelemetry_otlp::SpanExporter::builder().with_http();
                        let log = opentelemetry_otlp::LogExporter::builder().with_http();
                        let metric = opentelemetry_otlp::MetricExporter::builder().with_http();
                        (
                            build("trace", http(span, url("/v1/traces"), gzip).build())?,
                            build("log", http(log, url("/v1/logs"), gzip).build())?,
                            build("metric", http(metric, url("/v1/metrics"), gzip).build())?,
                        )
                    }
                    Protocol::Grpc => {
                        let span = opentelemetry_otlp::SpanExporter::builder().with_tonic();
                        let log = opentelemetry_otlp::LogExporter::builder().with_tonic();
                        let metric = opentelemetry_otlp::MetricExporter::builder().with_tonic();
                        (
                            build("trace", grpc(span, endpoint, gzip).build())?,
                            build("log", grpc(log, endpoint, gzip).build())?,
                            build("metric", grpc(metric, endpoint, gzip).build())?,
                        )
                    }
                };
                let reader = PeriodicReader::builder(metrics).with_interval(config.metric_interval).build();
                (
                    SdkTracerProvider::builder()
                        .with_resource(resource.clone())
                        .with_batch_exporter(spans)
                        .build(),
                    SdkLoggerProvider::builder()
                        .with_resource(resource.clone())
                        .with_batch_exporter(logs)
                        .build(),
                    SdkMeterProvider::builder().with_resource(resource).with_reader(reader).build(),
                )
            }
            #[cfg(test)]
            Destination::Memory(memory) => memory.providers(resource),
        };
        Ok(Self::around(tracers, loggers, meters))
    }

    fn around(tracers: SdkTracerProvider, loggers: SdkLoggerProvider, meters: SdkMeterProvider) -> Self {
        use opentelemetry::logs::LoggerProvider;
        use opentelemetry::trace::TracerProvider;
        let tracer = tracers.tracer_with_scope(scope());
        let logger = loggers.logger_with_scope(scope());
        let meter = meters.meter_with_scope(scope());
        Telemetry { tracers, loggers, meters, tracer, logger, meter }
    }

    /// Sends what is batched now (a recording sent faster than the batches' queues drain).
    pub fn flush(&self) {
        let _ = self.tracers.force_flush();
        let _ = self.loggers.force_flush();
    }

    /// Sends what is still batched and stops the providers' threads; a collector that does not
    /// answer is given up after the export timeout.
    pub fn shutdown(self) {
        for (signal, result) in [
            ("spans", self.tracers.shutdown_with_timeout(EXPORT_TIMEOUT)),
            ("logs", self.loggers.shutdown_with_timeout(EXPORT_TIMEOUT)),
            ("metrics", self.meters.shutdown_with_timeout(EXPORT_TIMEOUT)),
        ] {
            if let Err(e) = result {
                tracing::warn!("OTLP export of the last {signal} failed: {e}");
            }
        }
    }
}

#[cfg(test)]
pub mod memory {
    //! Exporters that keep what they are given, behind [`Destination::Memory`], shared with the
    //! test. (The SDK's own in-memory span and log exporters forget on shutdown, and its log
    //! exporter keeps one resource for all its providers.)

    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLogRecord, SdkLoggerProvider};
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
    use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
    use opentelemetry_sdk::Resource;
    use std::sync::{Arc, Mutex};

    /// Ended spans.
    #[derive(Clone, Debug, Default)]
    pub struct Spans(Arc<Mutex<Vec<SpanData>>>);

    impl Spans {
        /// What was exported so far.
        pub fn finished(&self) -> Vec<SpanData> {
            self.0.lock().unwrap().clone()
        }
    }

    impl SpanExporter for Spans {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            self.0.lock().unwrap().extend(batch);
            Ok(())
        }
    }

    /// Emitted log records, each with its provider's resource.
    #[derive(Clone, Debug, Default)]
    pub struct Logs {
        records: Arc<Mutex<Vec<(SdkLogRecord, Resource)>>>,
        resource: Option<Resource>,
    }

    impl Logs {
        /// What was exported so far.
        pub fn emitted(&self) -> Vec<(SdkLogRecord, Resource)> {
            self.records.lock().unwrap().clone()
        }
    }

    impl LogExporter for Logs {
        async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
            let resource = self.resource.clone().unwrap_or_else(|| Resource::builder_empty().build());
            let mut records = self.records.lock().unwrap();
            records.extend(batch.iter().map(|(record, _)| (record.clone(), resource.clone())));
            Ok(())
        }

        fn set_resource(&mut self, resource: &Resource) {
            self.resource = Some(resource.clone());
        }
    }

    /// What every provider built for this destination exported, kept.
    #[derive(Clone, Default)]
    pub struct Memory {
        /// Ended spans.
        pub spans: Spans,
        /// Emitted log records.
        pub logs: Logs,
        /// Metrics, as of each provider's shutdown.
        pub metrics: InMemoryMetricExporter,
    }

    impl Memory {
        pub(super) fn providers(
            &self,
            resource: Resource,
        ) -> (SdkTracerProvider, SdkLoggerProvider, SdkMeterProvider) {
            (
                SdkTracerProvider::builder()
                    .with_resource(resource.clone())
                    .with_simple_exporter(self.spans.clone())
                    .build(),
                SdkLoggerProvider::builder()
                    .with_resource(resource.clone())
                    .with_simple_exporter(self.logs.clone())
                    .build(),
                SdkMeterProvider::builder()
                    .with_resource(resource)
                    .with_reader(PeriodicReader::builder(self.metrics.clone()).build())
                    .build(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_must_be_a_plain_http_url_and_says_what_to_give_instead() {
        let config = OtlpConfig::new("http://collector:4318/", Protocol::HttpProtobuf).unwrap();
        assert_eq!(config.endpoint, "http://collector:4318");
        let tls = OtlpConfig::new("https://collector:4318", Protocol::HttpProtobuf).unwrap_err().to_string();
        assert!(tls.contains("https is not built in"), "{tls}");
        let bare = OtlpConfig::new("collector:4317", Protocol::Grpc).unwrap_err().to_string();
        assert!(bare.contains("e.g. http://localhost:4318"), "{bare}");
        assert!(OtlpConfig::new("http://:4318", Protocol::Grpc).is_err());
    }
}
