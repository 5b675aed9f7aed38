//! `asyncmon __device NAME`: this binary as the simulated board's firmware (hidden; the daemon
//! starts it).

/// The hidden subcommand's name.
pub const DEVICE_COMMAND: &str = "__device";

/// Runs firmware `name` and returns its exit code.
pub fn run(name: &str) -> i32 {
    asyncmon_demo::run_firmware(name).unwrap_or_else(|| {
        eprintln!(
            "unknown firmware {name:?}: expected demo, shapes or one of {:?}",
            asyncmon_demo::faults::FAULTS
        );
        2
    })
}
