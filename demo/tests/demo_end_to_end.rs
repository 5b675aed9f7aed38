//! The whole slice on the simulated board: the demo firmware fails a task, the failure crosses a
//! real RTT control block in the firmware process's memory, the daemon decodes it, a client sees it;
//! a stop request makes the firmware's `run` return KeyboardInterrupt, with cleanup output.

mod support;

use std::time::Duration;
use support::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_reaches_the_client_and_stop_ends_in_keyboard_interrupt() {
    let mut h = Harness::start(&["demo"], Duration::from_secs(10)).await;

    support::demo_session::failure_paths_then_stop(&mut h).await;
}
