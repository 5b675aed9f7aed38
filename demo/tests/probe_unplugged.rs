//! A probe that goes away mid-session and comes back: the daemon says the link broke, tries again
//! with backoff while no probe is there, re-attaches when it is back — without flashing again, the
//! firmware having run on meanwhile — and the session goes on. Rehearsed with the virtual probe's
//! cable pulled (`qemu_probe::set_cables`), in a test binary of its own: the cable is every virtual
//! probe's in the process.

mod support;

use asyncmon_daemon::backend::probe::{qemu_probe, ProbeConfig};
use asyncmon_daemon::daemon::TargetConfig;
use asyncmon_protocol::host::{FailurePath, LogSource, SessionState, TargetState};
use std::time::Duration;
use support::boards::demo_firmware;
use support::Harness;

fn said(s: &SessionState, prefix: &str) -> usize {
    s.logs.iter().filter(|l| l.source == LogSource::Daemon && l.text.starts_with(prefix)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_pulled_out_and_plugged_back_in_is_re_attached_without_flashing_again() {
    let config = TargetConfig::Probe(ProbeConfig {
        chip: String::new(),
        probe: Some("qemu:mps2-an386".into()),
        elf: demo_firmware("mps2-an386"),
        flash: true,
        connect_under_reset: false,
        poll_interval: Duration::from_millis(10),
        attach_timeout: Duration::from_secs(10),
    });
    let mut h = Harness::serve(config, None).await;
    h.until("an unretrieved failure", Duration::from_secs(20), |s| {
        s.failures.iter().any(|f| f.path == FailurePath::Unretrieved)
    })
    .await;
    let epoch = h.session.epoch;

    qemu_probe::set_cables(false);
    h.until("the link said broken", Duration::from_secs(10), |s| s.target_state != TargetState::Attached)
        .await;
    h.until("no probe found, retried", Duration::from_secs(10), |s| {
        s.problems
            .iter()
            .any(|p| p.text.contains("no debug probe found") && p.text.contains("trying again in"))
    })
    .await;
    let failures_before = h.session.failures.len();

    qemu_probe::set_cables(true);
    h.until("re-attached, and the firmware failing on", Duration::from_secs(30), |s| {
        s.target_state == TargetState::Attached
            && s.failures.len() > failures_before
            && said(s, "attached to the ") == 2
    })
    .await;
    assert_eq!(said(&h.session, "flashed "), 1, "flashed again: {:#?}", h.session.logs);
    // The firmware ran on: the same boot, its tasks still there.
    assert_eq!(h.session.epoch, epoch, "{:#?}", h.session.problems);
    assert!(h.session.tasks.iter().any(|t| t.epoch == epoch && t.name == "telemetry"));
    // Its sensor polls counted on while the probe was away (a restart would count from 1 again).
    let last = h.session.failures.last().unwrap();
    let poll: u32 = last
        .exception
        .as_ref()
        .unwrap()
        .message
        .split('#')
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(poll > 3, "{}", last.exception.as_ref().unwrap().message);
}
