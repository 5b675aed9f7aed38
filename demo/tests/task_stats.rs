//! Poll statistics from the real demo firmware (the agent's `task-stats` feature): sampled at a
//! bounded rate (`asyncmon_agent::STATS_INTERVAL`), they reach the client with the task, and the two tasks with bad habits — a
//! blocking write and a busy-wait — show the numbers the monitor warns about.

mod support;

use asyncmon_demo::demo::BLOCKING_WRITE_MS;
use asyncmon_protocol::host::{SessionState, Task, TaskState};
use std::time::Duration;
use support::Harness;

fn running<'a>(s: &'a SessionState, name: &str) -> Option<&'a Task> {
    s.tasks.iter().find(|t| t.name == name && t.state == TaskState::Running && t.stats.is_some())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampled_poll_statistics_show_a_blocking_task_and_a_self_waking_one() {
    let mut h = Harness::start(&["demo"], Duration::from_secs(10)).await;
    h.until("samples of flash_log after a blocking write, and of uart_rx", Duration::from_secs(20), |s| {
        running(s, "flash_log").is_some_and(|t| t.stats.unwrap().polls >= 2)
            && running(s, "uart_rx").is_some_and(|t| t.stats.unwrap().polls >= 18)
    })
    .await;
    let flash = running(&h.session, "flash_log").unwrap().stats.unwrap();
    let blocking_us = BLOCKING_WRITE_MS as u32 * 1000;
    assert!(flash.max_poll_us >= blocking_us, "the blocking write is the longest poll: {flash:?}");
    assert!(flash.busy_us >= u64::from(blocking_us));
    assert_eq!(flash.self_wakes, 0);

    let uart = running(&h.session, "uart_rx").unwrap().stats.unwrap();
    // Eight yields, then a sleep: it woke itself after 8 of every 9 polls.
    assert!(uart.self_wake_percent() > 80, "{uart:?}");
    assert!(uart.max_poll_us < blocking_us, "{uart:?}");

    // A short task that finished still carries its final numbers: spawn, a sleep, completion.
    let poll = h
        .session
        .tasks
        .iter()
        .find(|t| t.name == "sensor_poll" && t.state != TaskState::Running && t.stats.is_some())
        .expect("a finished sensor_poll with its final sample");
    assert_eq!(poll.stats.unwrap().polls, 2, "polled when spawned and when its sleep ended");

    // A quiet task: polled every 500 ms, never busy for long.
    let blinky = running(&h.session, "blinky").expect("blinky is sampled").stats.unwrap();
    assert!(blinky.max_poll_us < blocking_us && blinky.self_wakes == 0, "{blinky:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_task_is_sampled_when_nothing_but_its_own_polls_brings_the_executor_round() {
    // The quiet firmware: one ticking task, a doorbell, no cancellation, nothing asked.
    let mut h = Harness::start(&["quiet"], Duration::from_secs(10)).await;
    h.until("a sample of the ticker while it runs", Duration::from_secs(10), |s| {
        running(s, "ticker").is_some_and(|t| t.stats.unwrap().polls >= 2)
    })
    .await;
}
