//! Scheduling as asyncio does it, beside the asyncio behaviour each test matches (MicroPython's
//! `tests/extmod/asyncio_basic2.py`-style interleaving): `sleep(0)` is one pass of the loop, not a
//! timer, so tasks that print and yield in turn interleave the same way every run.

mod support;

use asyncmon_agent::{sleep, yield_now, Cancelled, Executor};
use embassy_time::Duration;
use support::{log, take_log, AppError};

async fn chatty(name: &'static str, zero_sleep: bool) -> Result<(), AppError> {
    for round in 1..=3 {
        log(format!("{name}{round}"));
        if zero_sleep {
            sleep(Duration::from_ticks(0)).await?;
        } else {
            yield_now().await?;
        }
    }
    Ok(())
}

#[test]
fn tasks_that_sleep_zero_or_yield_in_turn_interleave_in_the_order_they_were_started_every_run() {
    static EXEC: Executor<4, 512> = Executor::new();
    let _turn = support::turn();
    for zero_sleep in [true, false] {
        for _ in 0..20 {
            take_log();
            let result = EXEC.run(|spawner| async move {
                // asyncio: for n in "ABC": create_task(chatty(n)); → A1 B1 C1 A2 B2 C2 A3 B3 C3
                let a = spawner.spawn("A", chatty("A", zero_sleep))?;
                let b = spawner.spawn("B", chatty("B", zero_sleep))?;
                let c = spawner.spawn("C", chatty("C", zero_sleep))?;
                asyncmon_agent::gather([a, b, c]).await?;
                Ok::<_, AppError>(())
            });
            result.unwrap().unwrap();
            assert_eq!(
                take_log(),
                ["A1", "B1", "C1", "A2", "B2", "C2", "A3", "B3", "C3"],
                "zero sleep: {zero_sleep}"
            );
        }
    }
}

#[test]
fn a_task_cancelled_at_a_yield_gets_cancelled_there() {
    static EXEC: Executor<2, 512> = Executor::new();
    let _turn = support::turn();
    take_log();
    let result = EXEC.run(|spawner| async move {
        let spinner = spawner.spawn("spinner", async {
            loop {
                if let Err(cancelled) = yield_now().await {
                    log("spinner cancelled at its yield");
                    return Err::<(), AppError>(cancelled.into());
                }
            }
        })?;
        sleep(Duration::from_millis(5)).await?;
        spinner.cancel();
        Ok::<_, AppError>(spinner.await)
    });
    assert_eq!(result.unwrap(), Ok(Err(AppError::from(Cancelled))));
    assert_eq!(take_log(), ["spinner cancelled at its yield"]);
}
