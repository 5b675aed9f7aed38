//! "KeyboardInterrupt": a stop request from the host (written into the RTT down channel of this
//! process, as the daemon writes it) makes `run` cancel main first, then every task; cleanup runs;
//! `run` returns `KeyboardInterrupt`; the host's acknowledgement lists each task and how it ended.
//! A second stop request, or the deadline, stops hard.

mod support;

use asyncmon_agent::{set_exception_handler, sleep, Config, Executor, FailurePath, Spawner};
use asyncmon_protocol::host::{InterruptReport, SessionEvent, TaskOutcome};
use embassy_time::Duration;
use std::time::Duration as StdDuration;
use support::{log, take_log, AppError, Host};

/// Waits until the program logged `line`, then sends a stop (and a second one if `twice`), then
/// reads until the acknowledgement arrives; returns it.
fn stop_after(line: &'static str, twice: bool) -> std::thread::JoinHandle<Option<InterruptReport>> {
    support::with_host(move |mut host: Host| {
        let deadline = std::time::Instant::now() + StdDuration::from_secs(10);
        while !support::LOG.lock().unwrap().iter().any(|l| l == line) && std::time::Instant::now() < deadline
        {
            host.read();
            std::thread::sleep(StdDuration::from_millis(2));
        }
        host.stop(1, false);
        if twice {
            std::thread::sleep(StdDuration::from_millis(60));
            host.stop(2, false);
        }
        host.read_until(StdDuration::from_secs(10), |events| {
            events.iter().any(|e| matches!(e, SessionEvent::Interrupted(_)))
        });
        host.events.iter().find_map(|e| match e {
            SessionEvent::Interrupted(report) => Some(report.clone()),
            _ => None,
        })
    })
}

/// A long-lived task with an async cleanup.
async fn worker(name: &'static str, cleanup_ms: u64) -> Result<(), AppError> {
    log(format!("{name} started"));
    loop {
        if let Err(cancelled) = sleep(Duration::from_millis(5)).await {
            sleep(Duration::from_millis(cleanup_ms)).await?;
            log(format!("{name} cleaned up"));
            return Err(cancelled.into());
        }
    }
}

async fn main_task(spawner: Spawner) -> Result<(), AppError> {
    drop(spawner.spawn("sampler", worker("sampler", 3))?);
    drop(spawner.spawn("uplink", worker("uplink", 1))?);
    log("main ready");
    if let Err(cancelled) = sleep(Duration::from_secs(60)).await {
        sleep(Duration::from_millis(2)).await?;
        log("main cleaned up");
        return Err(cancelled.into());
    }
    Ok(())
}

fn endings(report: &InterruptReport) -> Vec<(String, TaskOutcome)> {
    report.tasks.iter().map(|t| (t.name.clone(), t.outcome)).collect()
}

#[test]
fn main_is_cancelled_first_then_every_task_and_run_returns_keyboard_interrupt() {
    static EXEC: Executor<4, 1024> = Executor::new();
    let _turn = support::turn();
    take_log();
    let host = stop_after("main ready", false);
    let result = EXEC.run(main_task);
    let interrupt = result.expect_err("run returns KeyboardInterrupt");
    assert_eq!((interrupt.request_id, interrupt.hard_stop), (1, false));
    let log = take_log();
    let main_at = log.iter().position(|l| l == "main cleaned up").expect("main's async cleanup ran");
    for task in ["sampler", "uplink"] {
        let at = log.iter().position(|l| *l == format!("{task} cleaned up")).expect("the task's cleanup ran");
        assert!(at > main_at, "tasks are cancelled after main finished: {log:?}");
    }
    let report = host.join().unwrap().expect("the host got the acknowledgement");
    let endings = endings(&report);
    assert_eq!(endings[0], ("main".to_string(), TaskOutcome::Cancelled), "main first");
    assert!(endings.contains(&("sampler".into(), TaskOutcome::Cancelled)), "{endings:?}");
    assert!(endings.contains(&("uplink".into(), TaskOutcome::Cancelled)), "{endings:?}");
    assert_eq!((report.total, report.hard_stop), (3, false));
}

#[test]
fn a_failure_during_cleanup_is_reported_as_such() {
    static EXEC: Executor<4, 1024> = Executor::new();
    let _turn = support::turn();
    take_log();
    support::recording();
    let host = stop_after("main ready", false);
    let result = EXEC.run(|spawner| async move {
        drop(spawner.spawn("flusher", async {
            if sleep(Duration::from_secs(60)).await.is_err() {
                return Err(AppError::Cleanup("flash write failed"));
            }
            Ok(())
        })?);
        log("main ready");
        sleep(Duration::from_secs(60)).await?;
        Ok::<_, AppError>(())
    });
    set_exception_handler(None);
    assert!(result.is_err());
    let seen = support::seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].task_name, Some("flusher"));
    assert_eq!(seen[0].path, FailurePath::DuringShutdown);
    assert_eq!(seen[0].rendered, "cleanup failed: flash write failed");
    let report = host.join().unwrap().unwrap();
    assert!(endings(&report).contains(&("flusher".into(), TaskOutcome::FailedDuringCleanup)));
}

#[test]
fn a_task_that_ignores_cancellation_is_dropped_at_the_deadline_and_its_drop_runs() {
    static EXEC: Executor<4, 1024> = Executor::new();
    struct Guard;
    impl Drop for Guard {
        fn drop(&mut self) {
            log("stubborn dropped");
        }
    }
    let _turn = support::turn();
    take_log();
    let host = stop_after("main ready", false);
    let result = EXEC.run_with(
        Config { cancel_deadline: Duration::from_millis(150), ..Config::default() },
        |spawner| async move {
            drop(spawner.spawn("stubborn", async {
                let _guard = Guard;
                loop {
                    // Not an agent awaitable: it never sees the cancellation, only the drop.
                    embassy_time::Timer::after_millis(5).await;
                }
                #[allow(unreachable_code)]
                Ok::<(), AppError>(())
            })?);
            log("main ready");
            sleep(Duration::from_secs(60)).await?;
            Ok::<_, AppError>(())
        },
    );
    let interrupt = result.unwrap_err();
    assert!(!interrupt.hard_stop, "one task outlived the deadline: the stop is still the one asked for");
    assert!(take_log().contains(&"stubborn dropped".to_string()));
    let report = host.join().unwrap().unwrap();
    let endings = endings(&report);
    assert!(endings.contains(&("stubborn".into(), TaskOutcome::DroppedAtDeadline)), "{report:?}");
    assert!(endings.contains(&("main".into(), TaskOutcome::Cancelled)), "{report:?}");
    assert!(!report.hard_stop);
}

#[test]
fn main_is_listed_first_even_when_it_ended_last() {
    static EXEC: Executor<4, 1024> = Executor::new();
    let _turn = support::turn();
    take_log();
    let host = stop_after("main ready", false);
    let result = EXEC.run(|spawner| async move {
        let worker = spawner.spawn("worker", worker("worker", 1))?;
        log("main ready");
        // Main awaits the worker: the stop cancels the worker through main, so it ends first.
        worker.await?;
        Ok::<_, AppError>(())
    });
    assert!(result.is_err());
    let report = host.join().unwrap().unwrap();
    let endings = endings(&report);
    assert_eq!(endings[0].0, "main", "{endings:?}");
    assert_eq!(endings.len(), 2, "{endings:?}");
}

#[test]
fn a_failure_in_mains_own_cleanup_names_main() {
    static EXEC: Executor<4, 1024> = Executor::new();
    let _turn = support::turn();
    take_log();
    support::recording();
    let host = stop_after("main ready", false);
    let result = EXEC.run(|_spawner| async move {
        log("main ready");
        if sleep(Duration::from_secs(60)).await.is_err() {
            return Err(AppError::Cleanup("modem did not power down"));
        }
        Ok::<_, AppError>(())
    });
    set_exception_handler(None);
    assert!(result.is_err());
    let seen = support::seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].task_name, Some("main"), "the handler is told the failure is main's");
    assert_eq!(seen[0].path, FailurePath::DuringShutdown);
    let report = host.join().unwrap().unwrap();
    assert_eq!(endings(&report)[0], ("main".to_string(), TaskOutcome::FailedDuringCleanup));
}

#[test]
fn a_second_stop_request_stops_hard() {
    static EXEC: Executor<4, 1024> = Executor::new();
    let _turn = support::turn();
    take_log();
    let host = stop_after("main ready", true);
    let result = EXEC.run(|spawner| async move {
        // Its cleanup would take a minute.
        drop(spawner.spawn("slow_cleanup", worker("slow_cleanup", 60_000))?);
        log("main ready");
        sleep(Duration::from_secs(60)).await?;
        Ok::<_, AppError>(())
    });
    let interrupt = result.unwrap_err();
    assert!(interrupt.hard_stop);
    assert!(!take_log().contains(&"slow_cleanup cleaned up".to_string()));
    let report = host.join().unwrap().unwrap();
    assert!(
        endings(&report).contains(&("slow_cleanup".into(), TaskOutcome::DroppedAtDeadline)),
        "{report:?}"
    );
}

#[test]
fn a_stop_while_a_task_is_in_its_cleanup_lets_that_cleanup_finish_once() {
    static EXEC: Executor<4, 1024> = Executor::new();
    let _turn = support::turn();
    take_log();
    let host = stop_after("flusher cleaning up", false);
    let result = EXEC.run(|spawner| async move {
        let flusher = spawner.spawn("flusher", async {
            if let Err(cancelled) = sleep(Duration::from_secs(60)).await {
                log("flusher cleaning up");
                // The stop arrives during this await; it must not cut the cleanup short.
                sleep(Duration::from_millis(150)).await?;
                log("flusher cleaned up");
                return Err::<(), AppError>(cancelled.into());
            }
            Ok(())
        })?;
        // Once it runs (a task cancelled before it starts never runs, as in asyncio), main cancels
        // it first (the application's own shutdown), then waits.
        sleep(Duration::from_millis(5)).await?;
        flusher.cancel();
        // The stop reaches main while it waits here, during the flusher's cleanup: `?` carries it
        // out (swallowing it, like swallowing CancelledError, would keep main running until the
        // deadline).
        flusher.await?;
        sleep(Duration::from_secs(60)).await?;
        Ok::<_, AppError>(())
    });
    let interrupt = result.unwrap_err();
    assert!(!interrupt.hard_stop, "the cleanup finished well before the deadline");
    let lines = take_log();
    assert_eq!(lines.iter().filter(|l| *l == "flusher cleaned up").count(), 1, "{lines:?}");
    let report = host.join().unwrap().unwrap();
    assert!(endings(&report).contains(&("main".into(), TaskOutcome::Cancelled)), "{report:?}");
    assert!(endings(&report).contains(&("flusher".into(), TaskOutcome::Cancelled)), "{report:?}");
}
