//! A real OpenTelemetry collector for the export tests: rotel (`bash .ci/install-otel-collector`),
//! on free ports, with its debug log — every log record, span and metric it receives, in the
//! collector's own words — read back as [`Record`]s.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The collector's binary: `ASYNCMON_OTEL_COLLECTOR`, or where `.ci/install-otel-collector` puts it.
fn agent() -> PathBuf {
    let path = std::env::var_os("ASYNCMON_OTEL_COLLECTOR")
        .map(PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/.tools/rotel/rotel-agent").into());
    assert!(
        path.exists(),
        "no OpenTelemetry collector at {}: install it with `bash .ci/install-otel-collector`",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// What the collector printed of one thing it received.
#[derive(Debug, Clone)]
pub struct Record {
    /// `LogRecord`, `Span` or `Metric`.
    pub kind: String,
    /// Its fields and attributes, in order (`Str(x)` and `Int(n)` unwrapped).
    pub fields: Vec<(String, String)>,
    /// The resource it came with.
    pub resource: Vec<(String, String)>,
}

impl Record {
    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The resource's `key`.
    pub fn resource(&self, key: &str) -> Option<&str> {
        self.resource.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

fn unwrap_value(value: &str) -> String {
    for wrapper in ["Str(", "Int(", "Double(", "Bool("] {
        if let Some(inner) = value.strip_prefix(wrapper).and_then(|v| v.strip_suffix(')')) {
            return inner.to_string();
        }
    }
    value.to_string()
}

/// The records in rotel's debug log.
pub fn parse(text: &str) -> Vec<Record> {
    let mut records: Vec<Record> = Vec::new();
    let mut resource: Vec<(String, String)> = Vec::new();
    let mut in_resource = false;
    for line in text.lines() {
        let line = line.trim();
        if line == "Resource attributes:" {
            resource.clear();
            in_resource = true;
            continue;
        }
        let attribute = line.strip_prefix("-> ");
        if in_resource {
            if let Some((key, value)) = attribute.and_then(|a| a.split_once(": ")) {
                resource.push((key.to_string(), unwrap_value(value)));
                continue;
            }
            in_resource = false;
        }
        if let Some((kind, number)) = line.split_once(" #") {
            if ["LogRecord", "Span", "Metric"].contains(&kind) && number.parse::<u32>().is_ok() {
                records.push(Record { kind: kind.into(), fields: Vec::new(), resource: resource.clone() });
                continue;
            }
        }
        let Some(record) = records.last_mut() else { continue };
        if let Some((key, value)) = attribute.unwrap_or(line).split_once(':') {
            record.fields.push((key.trim().to_string(), unwrap_value(value.trim())));
        }
    }
    records
}

/// A running collector.
pub struct Collector {
    child: Child,
    log: PathBuf,
    /// Its OTLP/HTTP endpoint, `http://127.0.0.1:PORT`.
    pub http: String,
    /// Its OTLP/gRPC endpoint.
    pub grpc: String,
    _dir: tempfile::TempDir,
}

impl Collector {
    /// Starts rotel with its debug log on, and waits until it listens.
    pub fn start() -> Collector {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("received.log");
        let (http, grpc) = (free_port(), free_port());
        let child = Command::new(agent())
            .args(["start", "--exporter", "blackhole", "--debug-log-verbosity", "detailed"])
            .args(["--debug-log", "logs", "--debug-log", "traces", "--debug-log", "metrics"])
            .args(["--otlp-http-endpoint", &format!("127.0.0.1:{http}")])
            .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{grpc}")])
            .arg("--pid-file")
            .arg(dir.path().join("rotel.pid"))
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("the collector starts");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        for port in [http, grpc] {
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(std::time::Instant::now() < deadline, "the collector did not listen on {port}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Collector {
            child,
            log,
            http: format!("http://127.0.0.1:{http}"),
            grpc: format!("http://127.0.0.1:{grpc}"),
            _dir: dir,
        }
    }

    /// Everything received so far.
    pub fn records(&self) -> Vec<Record> {
        parse(&std::fs::read_to_string(&self.log).unwrap_or_default())
    }

    /// Waits until what was received satisfies `done`; panics, with what arrived, after `timeout`.
    pub async fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&[Record]) -> bool,
    ) -> Vec<Record> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let records = self.records();
            if done(&records) {
                return records;
            }
            if tokio::time::Instant::now() > deadline {
                let kinds: Vec<String> = records
                    .iter()
                    .map(|r| format!("{} {:?}", r.kind, r.get("Name").or(r.get("EventName"))))
                    .collect();
                panic!("the collector did not receive {what} in {timeout:?}; it received: {kinds:#?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Kills the collector, as a collector that crashed or was taken down.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.kill();
    }
}
