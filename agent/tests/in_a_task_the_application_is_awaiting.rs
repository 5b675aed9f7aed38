//! "In a task the application is awaiting": a task's failure is stored on it and re-raised where
//! its handle is awaited; `gather` cancels the others when one fails; `wait_for` cancels what it
//! wraps and returns a timeout.

mod support;

use asyncmon_agent::{gather, gather_all, sleep, wait_for, Executor, Timeout};
use embassy_time::Duration;
use support::{log, take_log, AppError};

async fn may_fail(after_ms: u64, fail: bool) -> Result<u32, AppError> {
    sleep(Duration::from_millis(after_ms)).await?;
    if fail {
        Err(AppError::timeout())
    } else {
        Ok(after_ms as u32)
    }
}

/// Sleeps long; when cancelled, runs an async cleanup and logs it.
async fn long_running(name: &'static str) -> Result<u32, AppError> {
    match sleep(Duration::from_secs(60)).await {
        Ok(()) => Ok(0),
        Err(cancelled) => {
            // Async cleanup: awaiting still works after the cancellation was delivered.
            sleep(Duration::from_millis(2)).await?;
            log(format!("{name} cleaned up"));
            Err(cancelled.into())
        }
    }
}

#[test]
fn the_failure_is_re_raised_at_the_await() {
    static EXEC: Executor<2, 512> = Executor::new();
    let _turn = support::turn();
    support::recording();
    let result = EXEC.run(|spawner| async move {
        let task = spawner.spawn("may_fail", may_fail(5, true))?;
        Ok::<_, AppError>(match task.await {
            Err(AppError::Timeout(_)) => "may_fail failed",
            other => panic!("expected the task's failure at the await, got {other:?}"),
        })
    });
    asyncmon_agent::set_exception_handler(None);
    assert_eq!(result.unwrap(), Ok("may_fail failed"));
    assert!(support::seen().is_empty(), "an awaited failure does not reach the handler");
}

#[test]
fn gather_returns_every_value_in_order() {
    static EXEC: Executor<3, 512> = Executor::new();
    let _turn = support::turn();
    let result = EXEC.run(|spawner| async move {
        let handles = [
            spawner.spawn("slow", may_fail(15, false))?,
            spawner.spawn("fast", may_fail(1, false))?,
            spawner.spawn("mid", may_fail(8, false))?,
        ];
        gather(handles).await
    });
    assert_eq!(result.unwrap(), Ok([15, 1, 8]));
}

#[test]
fn gather_one_fails_the_others_are_cancelled_and_the_failure_comes_out() {
    static EXEC: Executor<3, 512> = Executor::new();
    let _turn = support::turn();
    support::recording();
    take_log();
    let result = EXEC.run(|spawner| async move {
        let handles = [
            spawner.spawn("b", long_running("b"))?,
            spawner.spawn("a", may_fail(5, true))?,
            spawner.spawn("c", long_running("c"))?,
        ];
        let outcome = gather(handles).await;
        log("gather returned");
        Ok::<_, AppError>(outcome)
    });
    asyncmon_agent::set_exception_handler(None);
    let outcome = result.unwrap().unwrap();
    assert!(matches!(outcome, Err(AppError::Timeout(_))), "a's failure comes out of the gather: {outcome:?}");
    let mut log = take_log();
    assert_eq!(log.pop().as_deref(), Some("gather returned"), "the gather waits for the cancelled siblings");
    log.sort();
    assert_eq!(log, ["b cleaned up", "c cleaned up"]);
    assert!(support::seen().is_empty(), "the gathered failure and the cancellations reach no handler");
}

#[test]
fn gather_all_returns_every_result_and_cancels_nothing() {
    static EXEC: Executor<3, 512> = Executor::new();
    let _turn = support::turn();
    let result = EXEC.run(|spawner| async move {
        let handles = [
            spawner.spawn("ok1", may_fail(3, false))?,
            spawner.spawn("bad", may_fail(1, true))?,
            spawner.spawn("ok2", may_fail(9, false))?,
        ];
        Ok::<_, AppError>(gather_all(handles).await)
    });
    let [first, second, third] = result.unwrap().unwrap();
    assert_eq!(first, Ok(3));
    assert!(matches!(second, Err(AppError::Timeout(_))));
    assert_eq!(third, Ok(9), "the slowest task was not cancelled by the failure");
}

#[test]
fn wait_for_ends_the_future_and_returns_a_timeout() {
    static EXEC: Executor<1, 256> = Executor::new();
    static DROPPED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    struct Guard;
    impl Drop for Guard {
        fn drop(&mut self) {
            DROPPED.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let _turn = support::turn();
    let result = EXEC.run(|_| async {
        let slow = async {
            let _guard = Guard;
            sleep(Duration::from_secs(60)).await
        };
        let timed_out = wait_for(Duration::from_millis(10), slow).await;
        let on_time = wait_for(Duration::from_secs(5), may_fail(1, false)).await;
        Ok::<_, AppError>((timed_out, on_time))
    });
    let (timed_out, on_time) = result.unwrap().unwrap();
    assert_eq!(timed_out, Err(Timeout { after: Duration::from_millis(10) }));
    assert!(
        DROPPED.load(std::sync::atomic::Ordering::SeqCst),
        "the wrapped future ended (cancelled at its sleep)"
    );
    assert_eq!(on_time, Ok(Ok(1)));
}

#[test]
fn wait_for_on_a_task_cancels_it_and_its_cleanup_runs() {
    static EXEC: Executor<1, 512> = Executor::new();
    let _turn = support::turn();
    take_log();
    let result = EXEC.run(|spawner| async move {
        let task = spawner.spawn("slow", long_running("slow"))?;
        let timed_out = task.wait_for(Duration::from_millis(10)).await;
        log("wait_for returned");
        Ok::<_, AppError>(timed_out.map(|_| ()))
    });
    assert_eq!(result.unwrap(), Ok(Err(Timeout { after: Duration::from_millis(10) })));
    assert_eq!(take_log(), ["slow cleaned up", "wait_for returned"]);
}

#[test]
fn cancelling_the_awaiter_cancels_the_awaited_task() {
    static EXEC: Executor<2, 1024> = Executor::new();
    let _turn = support::turn();
    take_log();
    let result = EXEC.run(|spawner| async move {
        let outer = spawner.spawn("outer", async move {
            let inner = spawner.spawn("inner", long_running("inner"))?;
            let awaited = inner.await;
            log(format!("outer saw {awaited:?}"));
            awaited
        })?;
        sleep(Duration::from_millis(10)).await?;
        outer.cancel();
        Ok::<_, AppError>(outer.await)
    });
    assert_eq!(result.unwrap(), Ok(Err(AppError::Cancelled)));
    assert_eq!(take_log(), ["inner cleaned up", "outer saw Err(Cancelled)"]);
}
