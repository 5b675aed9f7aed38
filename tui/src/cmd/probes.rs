//! `asyncmon probes`: the debug probes plugged in, each with the `--probe` selector that picks it.

use asyncmon_daemon::backend::probe::select::{describe, ProbeEntry};

/// The probes as text, or a sentence saying there are none.
pub fn run() -> String {
    let probes: Vec<ProbeEntry> =
        probe_rs::probe::list::Lister::new().list_all().iter().map(ProbeEntry::from).collect();
    if probes.is_empty() {
        "no debug probes found: is one plugged in, and may you use it (udev rules on Linux)?".to_string()
    } else {
        format!("{} debug probe(s):\n{}", probes.len(), describe(&probes))
    }
}
