//! The demo as firmware on QEMU's boards, from the same source as the simulated board's: the
//! daemon starts QEMU, reads the RTT control block in the guest RAM (a shared file) while the guest
//! runs, and the session must come to what it comes to on the simulated board.

mod support;

use asyncmon_daemon::daemon::TargetConfig;
use support::boards::demo_on;
use support::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_on_a_cortex_m4f() {
    let mut h = Harness::serve(TargetConfig::Qemu(demo_on("mps2-an386", "mps2-an386")), None).await;
    assert_eq!(h.session.target.backend, "qemu");
    support::demo_session::failure_paths_then_stop(&mut h).await;
}
