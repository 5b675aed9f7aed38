//! `asyncmon run` as cargo's runner, the way `cargo run` (or a CI script) meets it: no terminal, so
//! plain lines; an exit code that says how the firmware ended; a session `asyncmon ps` and `asyncmon
//! stop` find from another terminal; what cannot work refused before anything is flashed. The
//! boards are QEMU's, behind asyncmon's virtual probe (`--probe qemu:NAME`), so probe-rs's own
//! `Session` flashes and runs them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const ASYNCMON: &str = env!("CARGO_BIN_EXE_asyncmon");

/// Builds the firmware for `board` (`.ci/build-firmware`) and returns the ELF called `name`.
fn firmware(board: &str, name: &str) -> PathBuf {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/build-firmware");
    let out = Command::new("bash").arg(script).arg(board).output().expect("bash runs");
    assert!(out.status.success(), "building for {board} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let demo = PathBuf::from(String::from_utf8(out.stdout).unwrap().lines().last().unwrap());
    demo.with_file_name(name)
}

/// A private runtime directory: this test's sessions are the only ones its clients find.
fn runtime_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

fn asyncmon(runtime: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(ASYNCMON);
    command.args(args).env("XDG_RUNTIME_DIR", runtime).stdin(Stdio::null());
    command
}

/// Runs `asyncmon run ELF --probe qemu:MACHINE ARGS` to its end (at most a minute).
fn run(runtime: &Path, elf: &Path, machine: &str, args: &[&str]) -> Output {
    let probe = format!("qemu:{machine}");
    let mut all = vec!["run", elf.to_str().unwrap(), "--probe", &probe];
    all.extend(args);
    let child = asyncmon(runtime, &all).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    wait_output(child, Duration::from_secs(60))
}

fn wait_output(mut child: Child, timeout: Duration) -> Output {
    let deadline = Instant::now() + timeout;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the run did not end within {timeout:?}: {:?}", child.wait_with_output().unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// `asyncmon run` of the demo on the mps2-an386 through the virtual probe, once `asyncmon ps` (no
/// --socket) shows its tasks waiting: the runner's session found, RTT up, traces read.
fn demo_running(runtime: &Path) -> Child {
    let elf = firmware("mps2-an386", "asyncmon-demo-board");
    let runner = asyncmon(runtime, &["run", elf.to_str().unwrap(), "--probe", "qemu:mps2-an386"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut runner = runner;
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let ps = asyncmon(runtime, &["ps"]).output().unwrap();
        if ps.status.success() && text(&ps.stdout).contains("telemetry at") {
            return runner;
        }
        if Instant::now() > deadline {
            let _ = runner.kill();
            let out = runner.wait_with_output().unwrap();
            panic!("ps never found the session: {}\nthe run: {}", text(&ps.stderr), text(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_firmware_that_finishes_gives_cargo_run_its_exit_code_0() {
    let runtime = runtime_dir();
    let out = run(runtime.path(), &firmware("mps2-an386", "countdown"), "mps2-an386", &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    // defmt lines on stdout, with their level and source line, as probe-rs run prints them.
    assert!(stdout.contains("INFO  countdown: 3 (") && stdout.contains("countdown: done"), "{stdout}");
    assert!(stderr.contains("flashed ") && stderr.contains("the firmware exited: finished"), "{stderr}");
}

#[test]
fn a_stop_from_another_terminal_ends_the_run_in_keyboard_interrupt_with_130() {
    let runtime = runtime_dir();
    let runner = demo_running(runtime.path());
    // `asyncmon ps` and `pstree` with no --socket find the run's session: each task where it waits.
    let ps = asyncmon(runtime.path(), &["ps"]).output().unwrap();
    assert!(text(&ps.stdout).contains("asyncmon_demo::demo::telemetry at"), "{}", text(&ps.stdout));
    let pstree = asyncmon(runtime.path(), &["pstree"]).output().unwrap();
    assert!(text(&pstree.stdout).contains("├─ telemetry #2"), "{}", text(&pstree.stdout));
    let stop = asyncmon(runtime.path(), &["stop"]).output().unwrap();
    assert!(stop.status.success(), "{}", text(&stop.stderr));
    assert!(text(&stop.stdout).starts_with("KeyboardInterrupt: cancelled main"), "{}", text(&stop.stdout));
    let out = wait_output(runner, Duration::from_secs(20));
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("cleanup: main released its resources"), "{stdout}");
    assert!(stdout.contains("KeyboardInterrupt: cancelled main"), "{stdout}");
}

#[test]
fn ctrl_c_stops_the_firmware_and_the_run_ends_with_130() {
    let runtime = runtime_dir();
    let runner = demo_running(runtime.path());
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(runner.id() as i32), nix::sys::signal::Signal::SIGINT)
        .unwrap();
    let out = wait_output(runner, Duration::from_secs(20));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(stderr.contains("stopping the firmware (KeyboardInterrupt)"), "{stderr}");
    assert!(stdout.contains("cleanup: blinky turned the LED off"), "{stdout}");
}

#[test]
fn a_panic_ends_the_run_with_101_naming_the_task() {
    let runtime = runtime_dir();
    let out = run(runtime.path(), &firmware("mps2-an386", "asyncmon-embassy-example"), "mps2-an386", &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("failure: panic: unwrap failed: gyro_reading(tick)"), "{stdout}");
    assert!(stdout.contains("in task faulty"), "{stdout}");
}

#[test]
fn fail_on_unretrieved_ends_the_run_at_the_first_with_its_context() {
    let runtime = runtime_dir();
    let elf = firmware("microbit", "asyncmon-demo-board");
    let out = run(runtime.path(), &elf, "microbit", &["--fail-on-unretrieved"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("failure: asyncmon_demo::demo::SensorError: sensor poll #3 timed out"),
        "{stdout}"
    );
    assert!(stdout.contains("spawn chain: sensor_poll ← telemetry ← main"), "{stdout}");
    assert!(
        stderr.contains("a failure was never retrieved (--fail-on-unretrieved; exit code 1)"),
        "{stderr}"
    );
}

#[test]
fn a_defmt_only_firmware_is_run_with_its_defmt_logs_and_told_what_to_add() {
    let runtime = runtime_dir();
    let elf = firmware("mps2-an386", "asyncmon-embassy-example-defmt-only");
    let out = run(runtime.path(), &elf, "mps2-an386", &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stdout.contains("INFO  embassy example: started"), "{stdout}\n{stderr}");
    assert!(stderr.contains("logs with defmt but has no asyncmon channel"), "{stderr}");
    // Its own panic handler ends QEMU with 101: the run's exit code.
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");
}

#[test]
fn what_cannot_work_is_refused_before_anything_is_flashed() {
    let runtime = runtime_dir();
    // Built for RISC-V's memory map, given to a Cortex-M4F board.
    let out = run(runtime.path(), &firmware("riscv-virt", "asyncmon-demo-board"), "mps2-an386", &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("loads 0x80000000..") && stderr.contains("outside the qemu-mps2-an386's memory"),
        "{stderr}"
    );
    assert!(!stderr.contains("flashed"), "{stderr}");
    // No probe plugged in (none is, on these machines): the probes there are, and what to do.
    let elf = firmware("microbit", "asyncmon-demo-board");
    let out = asyncmon(runtime.path(), &["run", elf.to_str().unwrap(), "--chip", "nRF51822_xxAA"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no debug probe found") || stderr.contains("--probe "), "{stderr}");
    assert!(stderr.contains("--wait-for-probe") && stderr.contains("--probe qemu:mps2-an386"), "{stderr}");
}
