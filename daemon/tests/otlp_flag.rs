//! `asyncmond --otlp`: a collector URL the exporter cannot use is refused before any target
//! starts, saying what to give instead, with the exit code a script can test.

use std::process::Command;

#[test]
fn a_collector_url_it_cannot_use_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_asyncmond"))
        .arg("--socket")
        .arg(dir.path().join("d.sock"))
        .args(["--otlp", "collector:4317", "sim", "/bin/true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot export to collector:4317"), "{stderr}");
    assert!(stderr.contains("--otlp-protocol grpc"), "{stderr}");
    assert!(!dir.path().join("d.sock").exists(), "nothing was served");
}

#[test]
fn a_protocol_without_a_collector_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_asyncmond"))
        .args(["--otlp-protocol", "grpc", "sim", "/bin/true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "clap's usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--otlp <URL>"));
}
