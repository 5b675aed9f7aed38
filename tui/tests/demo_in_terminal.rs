//! The real `asyncmon demo` in a real terminal (tmux): the monitor shows a failure from the
//! simulated board, `s` then `y` stops the firmware, and the screen shows KeyboardInterrupt, the
//! cancelled tasks and the firmware's exit; `q` quits. The same with `asyncmon qemu` and the demo
//! built for a Cortex-M4F, and with `asyncmon run` through the virtual probe. Needs tmux (`.ci/run` installs it) and, for QEMU, the firmware
//! toolchain (`.ci/build-firmware` installs it).

use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server of our own, killed when the test ends.
struct Tmux {
    server: String,
}

impl Tmux {
    fn start(command: &str) -> Tmux {
        static SERVERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = SERVERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let server = format!("asyncmon-test-{}-{n}", std::process::id());
        let tmux = Tmux { server };
        let ok = tmux
            .run(&["new-session", "-d", "-s", "demo", "-x", "80", "-y", "24", command])
            .unwrap_or_else(|e| panic!("this test needs tmux (apt-get install tmux): {e}"));
        assert!(ok.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&ok.stderr));
        tmux
    }

    fn run(&self, args: &[&str]) -> std::io::Result<std::process::Output> {
        Command::new("tmux").args(["-L", &self.server]).args(args).output()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "demo"])
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    fn keys(&self, keys: &str) {
        self.run(&["send-keys", "-t", "demo", keys]).unwrap();
    }

    fn wait_for(&self, what: &str, timeout: Duration, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; the screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn alive(&self) -> bool {
        self.run(&["has-session", "-t", "demo"]).is_ok_and(|o| o.status.success())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

#[test]
fn demo_shows_a_failure_and_stops_with_keyboard_interrupt() {
    a_failure_then_a_stop("demo");
}

#[test]
fn the_demo_on_qemu_shows_a_failure_and_stops_with_keyboard_interrupt() {
    a_failure_then_a_stop(&format!("qemu --machine mps2-an386 {}", demo_for_mps2()));
}

#[test]
fn the_demo_through_a_probe_shows_a_failure_and_stops_with_keyboard_interrupt() {
    // probe-rs's own Session, on asyncmon's virtual probe plugged into QEMU's mps2-an386: flashed,
    // reset and run as a board is, with a terminal, so the monitor opens.
    a_failure_then_a_stop(&format!("run {} --probe qemu:mps2-an386", demo_for_mps2()));
}

/// The demo built for mps2-an386 (`.ci/build-firmware`): its ELF's path.
fn demo_for_mps2() -> String {
    let build = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/build-firmware"))
        .arg("mps2-an386")
        .output()
        .unwrap();
    assert!(build.status.success(), "building the demo firmware: {}", String::from_utf8_lossy(&build.stderr));
    String::from_utf8(build.stdout).unwrap().trim().to_string()
}

/// Runs `asyncmon SUBCOMMAND` (the demo, wherever it runs) in a terminal and goes through a failure,
/// its detail, a stop, the logs, and quitting.
fn a_failure_then_a_stop(subcommand: &str) {
    let dir = tempfile::tempdir().unwrap();
    let command = format!(
        "{} {subcommand} --socket {} --log {}",
        env!("CARGO_BIN_EXE_asyncmon"),
        dir.path().join("demo.sock").display(),
        dir.path().join("demo.log").display()
    );
    let tmux = Tmux::start(&command);

    // Waited for whole: a capture can catch the monitor between two draws (CI once caught the
    // failure's first line before its detail).
    let screen = tmux.wait_for("a failure on screen with its detail", Duration::from_secs(30), |s| {
        s.contains("SensorError: sensor poll") && s.contains("spawn chain sensor_poll ← telemetry ← main")
    });
    assert!(screen.contains("ATTACHED"), "{screen}");

    // Enter opens the failure's detail over everything; Esc closes it.
    tmux.keys("Enter");
    let screen = tmux.wait_for("the failure detail", Duration::from_secs(5), |s| s.contains("Esc closes"));
    assert!(screen.contains("Failure #") && screen.contains("raised at"), "{screen}");
    tmux.keys("Escape");
    tmux.wait_for("the detail closed", Duration::from_secs(5), |s| !s.contains("Esc closes"));

    tmux.keys("s");
    tmux.wait_for("the stop confirmation", Duration::from_secs(5), |s| s.contains("[y]es / [n]o"));
    tmux.keys("y");
    let screen = tmux.wait_for("the interrupt and the exit", Duration::from_secs(15), |s| {
        s.contains("EXITED: KeyboardInterrupt (exit code 130)") && s.contains("KeyboardInterrupt: cancelled")
    });
    let summary = screen.lines().find(|l| l.contains("KeyboardInterrupt: cancelled")).unwrap();
    for task in ["main", "blinky", "telemetry", "flash_log", "uart_rx"] {
        assert!(summary.contains(task), "{summary}");
    }
    // The logs, full screen: the firmware's cleanup output and its defmt lines with level and source.
    tmux.keys("l");
    tmux.wait_for("the logs view with the cleanup output", Duration::from_secs(10), |s| {
        s.contains("Logs and problems") && s.contains("cleanup: blinky turned the LED off")
    });
    // The defmt lines come once the daemon has read the table of this (debug, 100+ MB) binary,
    // even though the firmware has exited by then.
    let screen =
        tmux.wait_for("the defmt lines", Duration::from_secs(60), |s| s.contains("INFO  sensor_poll:"));
    assert!(screen.contains("demo.rs:"), "a defmt line shows its source line:\n{screen}");

    tmux.keys("q");
    let deadline = Instant::now() + Duration::from_secs(5);
    while tmux.alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!tmux.alive(), "q quits the monitor");
    let log = std::fs::read_to_string(dir.path().join("demo.log")).unwrap();
    assert!(log.contains("RTT attached"), "the daemon logged the attach:\n{log}");
}
