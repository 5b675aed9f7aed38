//! Cancellation that lets cleanup run: a cancelled task's next agent awaitable returns `Cancelled`,
//! `?` carries it out, async cleanup still works; the host sees the task as cancelled. Futures from
//! other crates work inside tasks and see the drop, or the cancellation through `cancellable`.

mod support;

use asyncmon_agent::{cancellable, sleep, Cancelled, Config, Executor};
use asyncmon_protocol::host::{SessionEvent, TaskOutcome};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::channel::Channel;
use embassy_time::Duration;
use support::{log, take_log, AppError};

#[test]
fn a_cancelled_task_gets_cancelled_at_its_await_and_its_cleanup_runs() {
    static EXEC: Executor<2, 512> = Executor::new();
    let _turn = support::turn();
    take_log();
    let mut host = support::Host::attach();
    let result = EXEC.run(|spawner| async move {
        let task = spawner.spawn("sleeper", async {
            let slept = sleep(Duration::from_secs(3600)).await;
            log(format!("sleep returned {slept:?}"));
            sleep(Duration::from_millis(2)).await?; // async cleanup
            log("cleanup done");
            slept.map_err(AppError::from)
        })?;
        sleep(Duration::from_millis(5)).await?;
        task.cancel();
        Ok::<_, AppError>(task.await)
    });
    assert_eq!(result.unwrap(), Ok(Err(AppError::Cancelled)));
    assert_eq!(take_log(), ["sleep returned Err(Cancelled)", "cleanup done"]);
    host.read_until(std::time::Duration::from_secs(5), |e| {
        e.iter().any(|e| matches!(e, SessionEvent::TaskFinished { .. }))
    });
    assert!(host
        .events
        .iter()
        .any(|e| matches!(e, SessionEvent::TaskFinished { outcome: TaskOutcome::Cancelled, .. })));
}

#[test]
fn a_task_that_ignores_cancellation_is_dropped_at_the_deadline() {
    static EXEC: Executor<2, 512> = Executor::new();
    struct Guard;
    impl Drop for Guard {
        fn drop(&mut self) {
            log("guard dropped");
        }
    }
    let _turn = support::turn();
    take_log();
    let result = EXEC.run_with(
        Config { cancel_deadline: Duration::from_millis(50), ..Config::default() },
        |spawner| async move {
            let task = spawner.spawn("stubborn", async {
                let _guard = Guard;
                loop {
                    // Swallows every cancellation.
                    let _ = sleep(Duration::from_millis(5)).await;
                }
                #[allow(unreachable_code)]
                Ok::<(), AppError>(())
            })?;
            sleep(Duration::from_millis(5)).await?;
            task.cancel();
            Ok::<_, AppError>(task.await)
        },
    );
    assert_eq!(result.unwrap(), Ok(Err(AppError::Cancelled)), "awaiting a dropped task gives Cancelled");
    assert_eq!(take_log(), ["guard dropped"], "the future's Drop ran");
}

#[test]
fn foreign_futures_see_the_drop_or_the_cancellation_through_cancellable() {
    static EXEC: Executor<2, 512> = Executor::new();
    static CHANNEL: Channel<CriticalSectionRawMutex, u32, 4> = Channel::new();
    let _turn = support::turn();
    take_log();
    let result = EXEC.run(|spawner| async move {
        let consumer = spawner.spawn("consumer", async {
            loop {
                // An embassy-sync receive, made cancellation-aware.
                match cancellable(CHANNEL.receive()).await {
                    Ok(value) => log(format!("got {value}")),
                    Err(Cancelled) => {
                        log("consumer cancelled");
                        return Err::<(), AppError>(AppError::Cancelled);
                    }
                }
            }
        })?;
        CHANNEL.send(7).await;
        CHANNEL.send(8).await;
        sleep(Duration::from_millis(5)).await?;
        consumer.cancel();
        Ok::<_, AppError>(consumer.await)
    });
    assert_eq!(result.unwrap(), Ok(Err(AppError::Cancelled)));
    assert_eq!(take_log(), ["got 7", "got 8", "consumer cancelled"]);
}

#[test]
fn embassy_sync_signals_wake_tasks_across_the_executor() {
    use embassy_sync::signal::Signal;
    static EXEC: Executor<2, 512> = Executor::new();
    static PING: Signal<CriticalSectionRawMutex, u32> = Signal::new();
    static PONG: Signal<CriticalSectionRawMutex, u32> = Signal::new();
    let _turn = support::turn();
    let result = EXEC.run(|spawner| async move {
        let ponger = spawner.spawn("ponger", async {
            for _ in 0..100 {
                let n = PING.wait().await;
                PONG.signal(n + 1);
            }
            Ok::<(), AppError>(())
        })?;
        let mut n = 0;
        for _ in 0..100 {
            PING.signal(n);
            n = PONG.wait().await;
        }
        ponger.await?;
        Ok::<_, AppError>(n)
    });
    assert_eq!(result.unwrap(), Ok(100));
}
