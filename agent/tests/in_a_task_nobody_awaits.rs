//! "In a task nobody awaits": the failure still happens, and the exception handler is told exactly
//! once, when the task has failed and its handle is gone (whichever comes second). The program goes
//! on. A cancelled task nobody awaits is not a failure.

mod support;

use asyncmon_agent::{sleep, Executor, FailurePath};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::signal::Signal;
use embassy_time::Duration;
use support::AppError;

async fn read_sensor(fail: bool) -> Result<u32, AppError> {
    sleep(Duration::from_millis(5)).await?;
    if fail {
        Err(AppError::timeout())
    } else {
        Ok(21)
    }
}

/// Runs `work`, signals `done`, and returns what `work` returned: the task ends in the same poll
/// that signals, so its ending has been handled by the time the waiter wakes.
async fn signal_then<T>(
    done: &'static Signal<CriticalSectionRawMutex, ()>,
    work: impl core::future::Future<Output = T>,
) -> T {
    let result = work.await;
    done.signal(());
    result
}

#[test]
fn a_failure_nobody_retrieves_reaches_the_handler_once_and_the_program_goes_on() {
    static EXEC: Executor<4, 512> = Executor::new();
    let _turn = support::turn();
    support::recording();
    static EARLY: Signal<CriticalSectionRawMutex, ()> = Signal::new();
    static LATE: Signal<CriticalSectionRawMutex, ()> = Signal::new();
    let result = EXEC.run(|spawner| async move {
        // Dropped before it fails, and one dropped after it failed: both reported, once each.
        drop(spawner.spawn("fire_and_forget", signal_then(&EARLY, read_sensor(true)))?);
        EARLY.wait().await;
        let late = spawner.spawn("dropped_late", signal_then(&LATE, read_sensor(true)))?;
        LATE.wait().await;
        assert!(late.is_finished(), "it failed, and its failure waits in the handle");
        assert_eq!(support::seen().len(), 1, "not reported while its handle lives");
        drop(late);
        sleep(Duration::from_millis(1)).await?;
        Ok::<_, AppError>("main went on")
    });
    asyncmon_agent::set_exception_handler(None);
    assert_eq!(result.unwrap(), Ok("main went on"));
    let seen = support::seen();
    let names: Vec<_> = seen.iter().map(|s| s.task_name).collect();
    assert_eq!(names, [Some("fire_and_forget"), Some("dropped_late")]);
    let first = &seen[0];
    assert_eq!(first.message, "Task exception was never retrieved");
    assert!(first.type_name.ends_with("AppError"), "{}", first.type_name);
    assert_eq!(first.rendered, "sensor did not answer within 50 ms");
    assert!(first.raised_line.is_some());
    assert_eq!(first.parent, Some(0), "spawned by main");
    assert_eq!(first.path, FailurePath::Unretrieved);
}

#[test]
fn a_successful_or_cancelled_task_nobody_awaits_is_not_reported() {
    static EXEC: Executor<4, 512> = Executor::new();
    let _turn = support::turn();
    support::recording();
    let result = EXEC.run(|spawner| async move {
        drop(spawner.spawn("fine", read_sensor(false))?);
        let doomed = spawner.spawn("doomed", async {
            sleep(Duration::from_secs(60)).await?;
            Ok::<(), AppError>(())
        })?;
        doomed.cancel();
        drop(doomed);
        sleep(Duration::from_millis(20)).await?;
        Ok::<_, AppError>(())
    });
    asyncmon_agent::set_exception_handler(None);
    assert_eq!(result.unwrap(), Ok(()));
    assert!(support::seen().is_empty(), "{:?}", support::seen());
}

#[test]
fn slots_are_reclaimed_so_spawning_can_go_on_forever() {
    static EXEC: Executor<1, 512> = Executor::new();
    let _turn = support::turn();
    support::recording();
    static FINISHED: Signal<CriticalSectionRawMutex, ()> = Signal::new();
    let result = EXEC.run(|spawner| async move {
        for _ in 0..50 {
            drop(spawner.spawn("poll", signal_then(&FINISHED, read_sensor(true)))?);
            // The task ends in the same poll that signals, so its slot is free when main wakes.
            FINISHED.wait().await;
        }
        Ok::<_, AppError>(())
    });
    asyncmon_agent::set_exception_handler(None);
    assert_eq!(result.unwrap(), Ok(()), "one slot served fifty tasks");
    assert_eq!(support::seen().len(), 50);
}
