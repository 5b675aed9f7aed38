//! `#[asyncmon_agent::main]` writes a host program's entry point (`agent/examples/entry_main.rs`):
//! it runs main on the agent's executor and exits with the code `end_of_run` gives — what a script
//! or `cargo run` sees. (On a core, QEMU's boards run the `countdown` firmware, whose entry point
//! the macro writes too: `tui/tests/runner.rs`.)

use std::path::PathBuf;
use std::process::Command;

/// Builds the example (fast when it is up to date) and gives its path, beside this test's binary.
fn entry_main() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "-q", "-p", "asyncmon-agent", "--features", "std", "--example", "entry_main"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the example builds");
    let deps = std::env::current_exe().unwrap().parent().unwrap().to_path_buf();
    deps.parent().unwrap().join("examples").join("entry_main")
}

#[test]
fn a_main_that_returns_ok_exits_with_0_and_one_that_fails_with_1() {
    let program = entry_main();
    let ok = Command::new(&program).output().unwrap();
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    let failed = Command::new(&program).arg("fail").output().unwrap();
    assert_eq!(failed.status.code(), Some(1), "{failed:?}");
}
