//! An executor with nothing to do sleeps — also after a task was cancelled while its timer was
//! pending. That timer still fires later and wakes the slot the task had; the slot is free by
//! then, and its stale wake must not keep the executor from sleeping (on a board: a core that never
//! sleeps again drains the battery; first seen on an emulated Cortex-M).

mod support;

use asyncmon_agent::{sleep, Executor};
use embassy_time::Duration;
use support::AppError;

#[test]
fn a_cancelled_tasks_late_timer_does_not_keep_the_executor_awake() {
    static EXEC: Executor<2, 512> = Executor::new();
    let _turn = support::turn();
    let result = EXEC.run(|spawner| async move {
        let task = spawner.spawn("napper", async {
            sleep(Duration::from_millis(30)).await?;
            Ok::<(), AppError>(())
        })?;
        sleep(Duration::from_millis(1)).await?;
        task.cancel();
        let _ = task.await;
        // The napper's timer fires during this sleep; nothing else is due but the executor's own
        // 20 ms control tick, so the loop should go round a few dozen times at most.
        sleep(Duration::from_millis(400)).await?;
        Ok::<_, AppError>(())
    });
    assert!(result.is_ok());
    let passes = EXEC.loop_passes();
    assert!(passes < 200, "the run loop went round {passes} times in 0.4 s of idling: it did not sleep");
}

#[test]
fn without_a_doorbell_the_executor_polls_at_its_configured_interval() {
    use asyncmon_agent::Config;
    static EXEC: Executor<2, 512> = Executor::new();
    let _turn = support::turn();
    // No link here, so no doorbell: the executor looks for stop requests on its own.
    let passes_over = |fallback_ms: u64| {
        let config = Config { fallback_poll: Duration::from_millis(fallback_ms), ..Config::default() };
        let result = EXEC.run_with(config, |_| async move {
            sleep(Duration::from_millis(400)).await?;
            Ok::<_, AppError>(())
        });
        assert!(result.is_ok());
        EXEC.loop_passes()
    };
    let (every_20, every_100) = (passes_over(20), passes_over(100));
    assert!((15..=30).contains(&every_20), "20 ms fallback over 0.4 s: {every_20} passes");
    assert!((3..=8).contains(&every_100), "100 ms fallback over 0.4 s: {every_100} passes");
}
