//! `asyncmon-demo-firmware [NAME]`: runs the demo (default) or a fault firmware as a host process,
//! the simulated board's firmware.

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "demo".to_string());
    match asyncmon_demo::run_firmware(&name) {
        Some(code) => std::process::exit(code),
        None => {
            eprintln!(
                "unknown firmware {name:?}: expected demo, shapes or one of {:?}",
                asyncmon_demo::faults::FAULTS
            );
            std::process::exit(2);
        }
    }
}
