//! `Event` as asyncio's: every waiter goes on when it is set, a set event lets later waits through
//! until it is cleared, a waiter that was waiting when it was set goes on even if it was cleared
//! before the waiter ran, and a wait is where a cancellation arrives.

mod support;

use asyncmon_agent::{gather, sleep, yield_now, Cancelled, Event, Executor};
use embassy_time::Duration;
use support::{log, take_log, AppError};

#[test]
fn setting_an_event_lets_every_waiter_go_on_even_if_it_is_cleared_at_once() {
    static EXEC: Executor<4, 512> = Executor::new();
    static READY: Event = Event::new();
    let _turn = support::turn();
    take_log();
    let result = EXEC.run(|spawner| async move {
        let waiter = |name: &'static str| async move {
            READY.wait().await?;
            log(format!("{name} went on"));
            Ok::<_, AppError>(())
        };
        let a = spawner.spawn("a", waiter("a"))?;
        let b = spawner.spawn("b", waiter("b"))?;
        yield_now().await?; // both wait
        assert!(!READY.is_set());
        // asyncio: ev.set(); ev.clear() → both waiters still wake.
        READY.set();
        READY.clear();
        gather([a, b]).await?;
        // A set event lets a later wait straight through; a cleared one does not.
        READY.set();
        READY.wait().await?;
        log("main went straight through");
        Ok::<_, AppError>(())
    });
    result.unwrap().unwrap();
    assert_eq!(take_log(), ["a went on", "b went on", "main went straight through"]);
}

#[test]
fn a_task_cancelled_while_it_waits_for_an_event_gets_cancelled_there() {
    static EXEC: Executor<2, 512> = Executor::new();
    static NEVER: Event<1> = Event::new();
    let _turn = support::turn();
    let result = EXEC.run(|spawner| async move {
        let waiter = spawner.spawn("waiter", async { Ok::<_, AppError>(NEVER.wait().await?) })?;
        sleep(Duration::from_millis(5)).await?;
        waiter.cancel();
        Ok::<_, AppError>(waiter.await)
    });
    assert_eq!(result.unwrap(), Ok(Err(AppError::from(Cancelled))));
}
