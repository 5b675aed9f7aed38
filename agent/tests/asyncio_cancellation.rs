//! Cancellation as asyncio does it, each test beside the asyncio behaviour it matches (MicroPython's
//! `tests/extmod/asyncio_cancel_*.py` and CPython's `Task.cancel`):
//!
//! * a task cancelled before it starts never runs, and awaiting it raises `CancelledError`;
//! * a task that awaits another and is cancelled passes the cancellation on, and its await gives
//!   what the other task ended with: its value if it handled the cancellation, the exception its
//!   cleanup raised (retrieved by the await, never "never retrieved");
//! * a cancellation that no await could deliver still ends the task cancelled (CPython's
//!   `_must_cancel` when the coroutine returns).

mod support;

use asyncmon_agent::{sleep, Cancelled, Executor};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::channel::Channel;
use embassy_time::Duration;
use support::{log, take_log, AppError};

#[test]
fn a_task_cancelled_before_it_starts_never_runs_and_its_await_gives_cancelled() {
    static EXEC: Executor<3, 512> = Executor::new();
    let _turn = support::turn();
    take_log();
    let result = EXEC.run(|spawner| async move {
        // asyncio: t = create_task(body()); t.cancel(); await t → CancelledError, body never ran.
        let with_await = spawner.spawn("with_await", async {
            log("with_await ran");
            sleep(Duration::from_millis(1)).await?;
            Ok::<_, AppError>(1)
        })?;
        let without_await = spawner.spawn("without_await", async {
            log("without_await ran");
            Ok::<_, AppError>(2)
        })?;
        assert!(with_await.cancel(), "the first cancel asks");
        assert!(!with_await.cancel(), "a second one has nothing more to ask");
        without_await.cancel();
        Ok::<_, AppError>((with_await.await, without_await.await))
    });
    assert_eq!(result.unwrap(), Ok((Err(AppError::Cancelled), Err(AppError::Cancelled))));
    assert!(take_log().is_empty(), "neither body ran");
}

#[test]
fn awaiting_a_task_while_being_cancelled_gives_the_value_it_chose_when_it_handled_the_cancellation() {
    static EXEC: Executor<3, 1024> = Executor::new();
    let _turn = support::turn();
    take_log();
    support::recording();
    let result = EXEC.run(|spawner| async move {
        let outer = spawner.spawn("outer", async move {
            let inner = spawner.spawn("inner", async {
                match sleep(Duration::from_secs(3600)).await {
                    Err(Cancelled) => Ok::<_, AppError>(5), // handled: it returns a value
                    Ok(()) => Ok(0),
                }
            })?;
            let got = inner.await;
            log(format!("outer's await gave {got:?}"));
            got
        })?;
        sleep(Duration::from_millis(5)).await?;
        assert!(outer.cancel());
        Ok::<_, AppError>(outer.await)
    });
    asyncmon_agent::set_exception_handler(None);
    // asyncio: the cancellation went to inner, which returned 5; outer's await gives 5.
    assert_eq!(result.unwrap(), Ok(Ok(5)));
    assert_eq!(take_log(), ["outer's await gave Ok(5)"]);
    assert!(support::seen().is_empty(), "nothing reached the exception handler");
}

#[test]
fn awaiting_a_task_while_being_cancelled_raises_what_its_cleanup_raised_and_nothing_goes_unretrieved() {
    static EXEC: Executor<3, 1024> = Executor::new();
    let _turn = support::turn();
    take_log();
    support::recording();
    let result = EXEC.run(|spawner| async move {
        let outer = spawner.spawn("outer", async move {
            let inner = spawner.spawn("inner", async {
                let slept = sleep(Duration::from_secs(3600)).await;
                log(format!("inner's sleep gave {slept:?}"));
                Err::<u32, _>(AppError::Cleanup("ValueError(7)"))
            })?;
            inner.await
        })?;
        sleep(Duration::from_millis(5)).await?;
        outer.cancel();
        Ok::<_, AppError>(outer.await)
    });
    asyncmon_agent::set_exception_handler(None);
    // asyncio: outer's `await inner` raises ValueError(7), which outer lets through.
    assert_eq!(result.unwrap(), Ok(Err(AppError::Cleanup("ValueError(7)"))));
    assert_eq!(take_log(), ["inner's sleep gave Err(Cancelled)"]);
    assert!(
        support::seen().is_empty(),
        "retrieved by outer's await, not \"never retrieved\": {:?}",
        support::seen()
    );
}

#[test]
fn a_cancel_that_no_await_delivered_still_ends_the_task_cancelled() {
    static EXEC: Executor<2, 512> = Executor::new();
    static MAILBOX: Channel<CriticalSectionRawMutex, u32, 1> = Channel::new();
    let _turn = support::turn();
    take_log();
    let result = EXEC.run(|spawner| async move {
        // It waits on a future from another crate, which cannot tell it of the cancellation, and
        // returns as soon as that gives: asyncio ends such a task cancelled all the same.
        let reader = spawner.spawn("reader", async {
            let got = MAILBOX.receive().await;
            log(format!("reader got {got}"));
            Ok::<_, AppError>(got)
        })?;
        sleep(Duration::from_millis(5)).await?;
        reader.cancel();
        MAILBOX.send(7).await;
        Ok::<_, AppError>(reader.await)
    });
    assert_eq!(result.unwrap(), Ok(Err(AppError::Cancelled)));
    assert_eq!(take_log(), ["reader got 7"], "it ran to its end, and ended cancelled");
}

#[test]
fn wait_for_cancels_the_future_at_its_timeout_and_waits_for_its_cleanup() {
    static EXEC: Executor<1, 1024> = Executor::new();
    let _turn = support::turn();
    take_log();
    let result = EXEC.run(|_| async {
        // asyncio: wait_for(coro, 0.01) cancels coro, awaits its cleanup, raises TimeoutError.
        let let_through = asyncmon_agent::wait_for(Duration::from_millis(10), async {
            if let Err(cancelled) = sleep(Duration::from_secs(60)).await {
                log("sensor: powering down");
                sleep(Duration::from_millis(5)).await?; // async cleanup still awaits
                log("sensor: powered down");
                return Err(AppError::from(cancelled));
            }
            Ok(0)
        })
        .await;
        log("wait_for returned");
        // A coroutine that handles the cancellation and returns gives its value.
        let handled = asyncmon_agent::wait_for(Duration::from_millis(10), async {
            match sleep(Duration::from_secs(60)).await {
                Err(Cancelled) => Ok::<u32, AppError>(42),
                Ok(()) => Ok(0),
            }
        })
        .await;
        Ok::<_, AppError>((let_through, handled))
    });
    let (let_through, handled) = result.unwrap().unwrap();
    assert_eq!(let_through, Err(asyncmon_agent::Timeout { after: Duration::from_millis(10) }));
    assert_eq!(take_log(), ["sensor: powering down", "sensor: powered down", "wait_for returned"]);
    assert_eq!(handled, Ok(Ok(42)));
}

#[test]
fn wait_for_drops_a_future_that_ignores_the_cancellation_at_the_cancel_deadline() {
    static EXEC: Executor<1, 1024> = Executor::new();
    static NEVER: Channel<CriticalSectionRawMutex, u32, 1> = Channel::new();
    let _turn = support::turn();
    let started = std::time::Instant::now();
    let result = EXEC.run(|_| async {
        // A future from another crate, not wrapped in `cancellable`: nothing tells it.
        let deaf = async { Ok::<u32, AppError>(NEVER.receive().await) };
        Ok::<_, AppError>(asyncmon_agent::wait_for(Duration::from_millis(10), deaf).await)
    });
    assert_eq!(result.unwrap().unwrap(), Err(asyncmon_agent::Timeout { after: Duration::from_millis(10) }));
    let took = started.elapsed();
    assert!(took >= std::time::Duration::from_secs(2), "its cleanup had the cancel deadline: {took:?}");
}

#[test]
fn a_task_that_cancels_itself_and_returns_ends_cancelled() {
    static EXEC: Executor<2, 512> = Executor::new();
    let _turn = support::turn();
    let result = EXEC.run(|spawner| async move {
        assert!(asyncmon_agent::current_task().await.is_none(), "main is not a task slot's");
        // asyncio: current_task().cancel(); return 1 → the task ends cancelled.
        let quitter = spawner.spawn("quitter", async {
            let me = asyncmon_agent::current_task().await.expect("a task knows itself");
            assert_eq!(me.task().map(|t| t.name), Some("quitter"));
            assert!(me.cancel());
            Ok::<_, AppError>(1)
        })?;
        Ok::<_, AppError>(quitter.await)
    });
    assert_eq!(result.unwrap(), Ok(Err(AppError::Cancelled)));
}

#[test]
fn a_task_ref_cancels_a_task_that_another_awaits_and_done_stays_true_after_the_result_was_taken() {
    static EXEC: Executor<3, 512> = Executor::new();
    let _turn = support::turn();
    let result = EXEC.run(|spawner| async move {
        let mut worker = spawner.spawn("worker", async {
            sleep(Duration::from_secs(3600)).await?;
            Ok::<_, AppError>(())
        })?;
        let worker_ref = worker.task_ref();
        // Another task cancels it, while main awaits its handle.
        let _canceller = spawner.spawn("canceller", async move {
            sleep(Duration::from_millis(5)).await?;
            let asked = worker_ref.cancel();
            Ok::<_, AppError>(asked)
        })?;
        assert!(!worker.done() && !worker_ref.done());
        let got = (&mut worker).await;
        Ok::<_, AppError>((got, worker.done(), worker_ref.done(), worker_ref.cancel()))
    });
    let (got, handle_done, ref_done, cancelled_again) = result.unwrap().unwrap();
    assert_eq!(got, Err(AppError::Cancelled));
    assert!(handle_done && ref_done, "done stays true after the result was taken");
    assert!(!cancelled_again, "a done task has nothing to cancel");
}
