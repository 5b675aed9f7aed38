//! An idle executor sleeps until its next timer: with a doorbell (on std, `link::init` makes one),
//! nothing wakes it to look for stop requests, which the host's ring delivers instead. Measured
//! as the executor thread's voluntary context switches (each one a sleep and a wake-up) and the
//! run loop's passes, over a second of a main that only sleeps.

mod support;

use asyncmon_agent::{sleep, Executor};
use embassy_time::Duration;
use support::AppError;

/// This thread's voluntary context switches so far.
fn voluntary_switches() -> u64 {
    let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("voluntary_ctxt_switches:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn an_idle_executor_with_a_doorbell_does_not_wake_to_poll() {
    static EXEC: Executor<2, 256> = Executor::new();
    let _turn = support::turn();
    let _host = support::Host::attach(); // link::init: the doorbell
    let result = EXEC.run(|_| async move {
        sleep(Duration::from_millis(10)).await?;
        let (switches, passes) = (voluntary_switches(), EXEC.loop_passes());
        sleep(Duration::from_secs(1)).await?;
        Ok::<_, AppError>((voluntary_switches() - switches, EXEC.loop_passes() - passes))
    });
    let (switches, passes) = result.unwrap().unwrap();
    println!("idle for 1 s: {switches} voluntary context switches, {passes} run loop passes");
    // One wake for the timer (and a spare for the clock thread's own hand-off); a 20 ms poll would
    // be 50 of each.
    assert!(passes <= 2, "the run loop went round {passes} times in 1 s of idling");
    assert!(switches <= 3, "the executor thread woke {switches} times in 1 s of idling");
}
