//! Scheduling as asyncio does it, beside the asyncio behaviour each test matches (MicroPython's
//! `tests/extmod/asyncio_basic2.py`-style interleaving): `sleep(0)` is one pass of the loop, not a
//! timer, so tasks that print and yield in turn interleave the same way every run; and tasks that
//! sleep the same time resume in the order they went to sleep.

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

#[test]
fn gather_over_a_number_of_tasks_known_at_run_time_gives_their_values_in_order_or_the_first_failure() {
    static EXEC: Executor<6, 512> = Executor::new();
    let _turn = support::turn();
    take_log();
    let result = EXEC.run(|spawner| async move {
        // asyncio: await gather(*[work(n) for n in range(count)])
        let count = std::hint::black_box(4usize); // known at run time only
        let mut handles: heapless::Vec<_, 5> = heapless::Vec::new();
        for n in 0..count as u32 {
            let work = async move {
                sleep(Duration::from_millis(u64::from(4 - n))).await?;
                Ok::<_, AppError>(n * 10)
            };
            let _ = handles.push(spawner.spawn("work", work)?);
        }
        let values = asyncmon_agent::gather_vec(handles).await?;
        // The first failure cancels the rest, which clean up, and comes out of the gather.
        let mut handles: heapless::Vec<_, 5> = heapless::Vec::new();
        let _ = handles.push(spawner.spawn("fails", async {
            sleep(Duration::from_millis(1)).await?;
            Err::<u32, _>(AppError::Cleanup("ValueError"))
        })?);
        let _ = handles.push(spawner.spawn("slow", async {
            if let Err(c) = sleep(Duration::from_secs(60)).await {
                log("slow cleaned up");
                return Err(AppError::from(c));
            }
            Ok(0)
        })?);
        let failed = asyncmon_agent::gather_vec(handles).await;
        Ok::<_, AppError>((values, failed))
    });
    let (values, failed) = result.unwrap().unwrap();
    assert_eq!(values.as_slice(), [0, 10, 20, 30]);
    assert_eq!(failed, Err(AppError::Cleanup("ValueError")));
    assert_eq!(take_log(), ["slow cleaned up"]);
}

#[test]
fn tasks_that_sleep_the_same_time_resume_in_the_order_they_went_to_sleep_every_run() {
    static EXEC: Executor<4, 512> = Executor::new();
    let _turn = support::turn();
    for _ in 0..20 {
        take_log();
        let result = EXEC.run(|spawner| async move {
            // asyncio: for n in "ABC": create_task(sleeper(n)) → A B C, each run: timers wake in
            // deadline order, ties in the order they were scheduled.
            let sleeper = |name: &'static str| async move {
                sleep(Duration::from_millis(10)).await?;
                log(name);
                Ok::<_, AppError>(())
            };
            let a = spawner.spawn("A", sleeper("A"))?;
            let b = spawner.spawn("B", sleeper("B"))?;
            let c = spawner.spawn("C", sleeper("C"))?;
            asyncmon_agent::gather([a, b, c]).await?;
            Ok::<_, AppError>(())
        });
        result.unwrap().unwrap();
        assert_eq!(take_log(), ["A", "B", "C"]);
    }
}

#[test]
fn gather_over_tasks_of_different_result_types_gives_a_tuple_or_the_first_failure() {
    static EXEC: Executor<4, 512> = Executor::new();
    let _turn = support::turn();
    take_log();
    let result = EXEC.run(|spawner| async move {
        // asyncio: temperature, ident = await gather(read_temperature(), read_ident())
        let temperature = spawner.spawn("temperature", async {
            sleep(Duration::from_millis(3)).await?;
            Ok::<_, AppError>(21.5f32)
        })?;
        let ident = spawner.spawn("ident", async { Ok::<_, AppError>("BME280") })?;
        let values = asyncmon_agent::gather_tuple((temperature, ident)).await?;
        // A failure in one cancels the other, whatever its type, and comes out of the gather.
        let slow = spawner.spawn("slow", async {
            if let Err(c) = sleep(Duration::from_secs(60)).await {
                log("slow cleaned up");
                return Err(AppError::from(c));
            }
            Ok(0u8)
        })?;
        let fails = spawner.spawn("fails", async {
            sleep(Duration::from_millis(1)).await?;
            Err::<(), _>(AppError::Cleanup("ValueError"))
        })?;
        let failed = asyncmon_agent::gather_tuple((slow, fails)).await;
        Ok::<_, AppError>((values, failed))
    });
    let (values, failed) = result.unwrap().unwrap();
    assert_eq!(values, (21.5, "BME280"));
    assert_eq!(failed, Err(AppError::Cleanup("ValueError")));
    assert_eq!(take_log(), ["slow cleaned up"]);
}
