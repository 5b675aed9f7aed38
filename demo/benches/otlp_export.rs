//! What the OTLP export (`asyncmond --otlp`) costs, measured against a real collector (rotel,
//! `bash .ci/install-otel-collector`) with the export off and on in the same run:
//!
//! * **the daemon at 1,000 failures/s**: a hub is published 1,000 task spawns, failures and task
//!   ends a second; the process's CPU time and resident memory with the export and without, the
//!   bytes it sent (HTTP/protobuf, counted by a proxy in front of the collector) and what it
//!   dropped;
//! * **the target side**: the latency firmware's failure → client latency (a task fails every
//!   20 ms), export off and on: the export must not slow the pump;
//! * **a board's traffic**: the demo firmware, exported for a while, in bytes a minute — what a
//!   farm's collector receives per board.
//!
//! `cargo bench -p asyncmon-demo --bench otlp_export` (`-- quick` for shorter runs)

#![allow(missing_docs)]

#[path = "common/percentiles.rs"]
mod percentiles;

use asyncmon_daemon::backend::sim::SimConfig;
use asyncmon_daemon::client::Client;
use asyncmon_daemon::daemon::{self, DaemonConfig, TargetConfig};
use asyncmon_daemon::export::otlp::{Compression, OtlpConfig, OtlpFeed, Protocol};
use asyncmon_daemon::hub::Hub;
use asyncmon_demo::latency::raised_at_ns;
use asyncmon_protocol::host::{
    ClientRequest, Exception, Failure, FailurePath, FirmwareInfo, Location, ServerMessage, SessionEvent,
    TargetDescription, Task, TaskOutcome, TaskState,
};
use percentiles::percentiles;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// rotel, quiet: it receives and drops (a collector that keeps up).
fn collector() -> (Child, u16) {
    let agent = std::env::var_os("ASYNCMON_OTEL_COLLECTOR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/.tools/rotel/rotel-agent").into());
    assert!(agent.exists(), "no collector at {}: bash .ci/install-otel-collector", agent.display());
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let grpc = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = std::env::temp_dir().join(format!("asyncmon-otlp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let child = Command::new(agent)
        .args(["start", "--exporter", "blackhole"])
        .args(["--otlp-http-endpoint", &format!("127.0.0.1:{port}")])
        .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{grpc}")])
        .arg("--pid-file")
        .arg(dir.join("rotel.pid"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, port)
}

/// A TCP proxy in front of `port` that counts the bytes sent to it; returns its own port.
fn counting_proxy(port: u16, sent: Arc<AtomicU64>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let own = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(("127.0.0.1", port)) else { continue };
            let (mut up_from, mut up_to) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut down_from, mut down_to) = (server, client);
            let sent = sent.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 16384];
                while let Ok(n @ 1..) = up_from.read(&mut buf) {
                    sent.fetch_add(n as u64, Ordering::Relaxed);
                    if up_to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = up_to.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let mut buf = [0u8; 16384];
                while let Ok(n @ 1..) = down_from.read(&mut buf) {
                    if down_to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    own
}

/// The process's CPU time so far (user + system, all threads, exited ones included).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (USER_HZ, 100 on Linux).
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

/// Resident memory now, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn task(id: u32) -> Task {
    Task {
        epoch: 1,
        id,
        name: "sensor_poll".into(),
        spawned_at: Location { file: "src/demo.rs".into(), line: 189, column: 22 },
        parent: Some(0),
        state: TaskState::Running,
        storage_bytes: None,
        future_bytes: None,
        stats: None,
    }
}

fn failure(seq: u64, task: Task) -> Failure {
    Failure {
        seq,
        epoch: 1,
        at_ms: seq,
        message: "Task exception was never retrieved".into(),
        exception: Some(Exception {
            type_name: "asyncmon_demo::demo::SensorError".into(),
            message: format!("sensor poll #{seq} timed out after 50 ms"),
            raised_at: Some(Location { file: "demo/src/demo.rs".into(), line: 120, column: 9 }),
        }),
        task: Some(task),
        path: FailurePath::Unretrieved,
    }
}

struct Load {
    cpu: Duration,
    publish_ns: f64,
    rss_kib: i64,
}

/// Publishes 1,000 failures a second (each with its task's spawn and end) for `seconds`, exporting
/// to `otlp` if given.
fn failures_per_second(seconds: u64, otlp: Option<&OtlpConfig>) -> (Load, u64) {
    let description = TargetDescription { backend: "bench".into(), name: "1,000 failures/s".into() };
    let hub = Hub::new(description.clone(), std::sync::mpsc::channel().0);
    if let Some(config) = otlp {
        hub.export_to(OtlpFeed::start(config, description).unwrap());
    }
    let firmware = FirmwareInfo { name: "bench".into(), build_id: "1".into(), protocol_version: 1 };
    hub.publish(SessionEvent::SessionStarted { epoch: 1, firmware });
    let mut main = task(0);
    main.name = "main".into();
    main.parent = None;
    hub.publish(SessionEvent::TaskSpawned(main));
    let (rss, cpu, start) = (rss_kib(), cpu_time(), Instant::now());
    let mut publishing = Duration::ZERO;
    let mut seq = 0u64;
    for tick in 0..seconds * 100 {
        // Ten a tick, a hundred ticks a second.
        let publish = Instant::now();
        for _ in 0..10 {
            seq += 1;
            let id = 1 + (seq % 16) as u32;
            hub.publish(SessionEvent::TaskSpawned(task(id)));
            hub.publish(SessionEvent::TaskFinished { id, outcome: TaskOutcome::Failed });
            hub.publish(SessionEvent::Failure(failure(seq, task(id))));
        }
        publishing += publish.elapsed();
        let next = start + Duration::from_millis((tick + 1) * 10);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let load = Load {
        cpu: cpu_time() - cpu,
        publish_ns: publishing.as_nanos() as f64 / (seq * 3) as f64,
        rss_kib: rss_kib() as i64 - rss as i64,
    };
    hub.finish_export();
    (load, seq)
}

async fn failure_latency(samples: usize, otlp: Option<OtlpConfig>) -> Vec<f64> {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimConfig::new(env!("CARGO_BIN_EXE_asyncmon-demo-firmware"), vec!["latency".into()]);
    let running = daemon::start(DaemonConfig {
        socket: dir.path().join("d.sock"),
        targets: vec![TargetConfig::Sim(sim)],
        record: None,
        otlp,
        perfetto: None,
    })
    .unwrap();
    let mut client = Client::connect(&running.socket, "otlp bench").await.unwrap();
    client.request(&ClientRequest::Subscribe).await.unwrap();
    let mut latencies = Vec::new();
    while latencies.len() < samples {
        if let Some(ServerMessage::Event(SessionEvent::Failure(f))) = client.recv().await.unwrap() {
            let raised = f.exception.as_ref().and_then(|e| raised_at_ns(&e.message)).unwrap();
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
            latencies.push((now.saturating_sub(raised)) as f64 / 1e6);
        }
    }
    tokio::task::block_in_place(|| running.shutdown());
    latencies
}

/// The demo on the simulated board for `seconds`, exported through the proxy; bytes sent.
async fn demo_traffic(seconds: u64, otlp: OtlpConfig, sent: &AtomicU64) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimConfig::new(env!("CARGO_BIN_EXE_asyncmon-demo-firmware"), vec!["demo".into()]);
    let before = sent.load(Ordering::Relaxed);
    let running = daemon::start(DaemonConfig {
        socket: dir.path().join("d.sock"),
        targets: vec![TargetConfig::Sim(sim)],
        record: None,
        otlp: Some(otlp),
        perfetto: None,
    })
    .unwrap();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    tokio::task::block_in_place(|| running.shutdown());
    sent.load(Ordering::Relaxed) - before
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let quick = std::env::args().any(|a| a == "quick" || a == "--test" || a == "--list");
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let (mut rotel, port) = collector();
    let sent = Arc::new(AtomicU64::new(0));
    let proxy = counting_proxy(port, sent.clone());
    let otlp = OtlpConfig::new(&format!("http://127.0.0.1:{proxy}"), Protocol::HttpProtobuf).unwrap();
    let seconds = if quick { 2 } else { 10 };

    let (off, _) = tokio::task::block_in_place(|| failures_per_second(seconds, None));
    let per_second = |cpu: Duration| cpu.as_secs_f64() * 1e3 / seconds as f64;
    println!(
        "1,000 failures/s for {seconds} s, no export: CPU {:.1} ms/s, publishing an event {:.0} ns, resident memory {:+} KiB",
        per_second(off.cpu),
        off.publish_ns,
        off.rss_kib
    );
    for compression in [Compression::None, Compression::Gzip] {
        let mut otlp = otlp.clone();
        otlp.compression = compression;
        let before = sent.load(Ordering::Relaxed);
        let (on, count) = tokio::task::block_in_place(|| failures_per_second(seconds, Some(&otlp)));
        let bytes = sent.load(Ordering::Relaxed) - before;
        let export_ms = per_second(on.cpu) - per_second(off.cpu);
        println!(
            "  exported ({compression:?}): CPU {:.1} ms/s (the export: {export_ms:.1} ms per 1,000 failures, {:.1}% of a core), \
             publishing an event {:.0} ns, resident memory {:+} KiB; sent {:.0} bytes a failure (its spawn, span and log record)",
            per_second(on.cpu),
            export_ms / 10.0,
            on.publish_ns,
            on.rss_kib,
            bytes as f64 / count as f64
        );
    }

    let samples = if quick { 10 } else { 200 };
    let without = failure_latency(samples, None).await;
    let with = failure_latency(samples, Some(otlp.clone())).await;
    println!("failure -> client, export off: {}", percentiles(without));
    println!("failure -> client, export on:  {}", percentiles(with));

    let demo_seconds = if quick { 3 } else { 30 };
    for compression in [Compression::None, Compression::Gzip] {
        let mut otlp = otlp.clone();
        otlp.compression = compression;
        let demo = demo_traffic(demo_seconds, otlp, &sent).await;
        let per_minute = demo as f64 * 60.0 / demo_seconds as f64;
        println!(
            "the demo board, exported for {demo_seconds} s ({compression:?}): {:.1} KiB a minute (100 such boards: {:.1} MiB a minute)",
            per_minute / 1024.0,
            per_minute * 100.0 / (1024.0 * 1024.0)
        );
    }
    let _ = rotel.kill();
    let _ = rotel.wait();
}
