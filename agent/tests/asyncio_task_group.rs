//! `TaskGroup`, beside asyncio 3.11's (`async with asyncio.TaskGroup() as tg: tg.create_task(..)`):
//! the group's tasks are awaited together; the first failure cancels the others, whose cleanup
//! runs, and comes out; no task outlives its group.

mod support;

use asyncmon_agent::{sleep, Cancelled, Executor, SpawnError, TaskGroup};
use embassy_time::Duration;
use support::{log, take_log, AppError};

/// Sleeps `ms`, then gives `value`; says so when cancelled instead.
async fn worker(name: &'static str, ms: u64, value: u32) -> Result<u32, AppError> {
    if let Err(cancelled) = sleep(Duration::from_millis(ms)).await {
        log(format!("{name} cleaned up"));
        return Err(cancelled.into());
    }
    Ok(value)
}

#[test]
fn a_group_gives_its_tasks_values_in_the_order_they_were_started() {
    static EXEC: Executor<4, 512> = Executor::new();
    let _turn = support::turn();
    take_log();
    let result = EXEC.run(|spawner| async move {
        let mut group = TaskGroup::<u32, AppError, 3>::new(spawner);
        group.spawn("slow", worker("slow", 6, 1))?;
        group.spawn("fast", worker("fast", 1, 2))?;
        group.spawn("middle", worker("middle", 3, 3))?;
        let too_many = group.spawn("four", worker("four", 1, 4)).map(|_| ());
        let values = group.wait().await?;
        Ok::<_, AppError>((values, too_many))
    });
    let (values, too_many) = result.unwrap().unwrap();
    assert_eq!(too_many, Err(SpawnError::GroupFull { capacity: 3 }), "a fourth does not fit");
    assert_eq!(values.as_slice(), [1, 2, 3]);
    assert!(take_log().is_empty());
}

#[test]
fn the_first_failure_cancels_the_rest_of_the_group_and_comes_out_of_wait() {
    static EXEC: Executor<4, 512> = Executor::new();
    let _turn = support::turn();
    take_log();
    let result = EXEC.run(|spawner| async move {
        let mut group = TaskGroup::<u32, AppError, 4>::new(spawner);
        group.spawn("a", worker("a", 60_000, 1))?;
        group.spawn("fails", async {
            sleep(Duration::from_millis(2)).await?;
            Err(AppError::Cleanup("ValueError"))
        })?;
        group.spawn("b", worker("b", 60_000, 2))?;
        Ok::<_, AppError>(group.wait().await)
    });
    assert_eq!(result.unwrap(), Ok(Err(AppError::Cleanup("ValueError"))));
    let mut cleaned = take_log();
    cleaned.sort();
    assert_eq!(cleaned, ["a cleaned up", "b cleaned up"]);
}

#[test]
fn a_group_dropped_before_wait_cancels_its_tasks() {
    static EXEC: Executor<3, 512> = Executor::new();
    let _turn = support::turn();
    take_log();
    let result = EXEC.run(|spawner| async move {
        let mut group = TaskGroup::<u32, AppError, 2>::new(spawner);
        let task = group.spawn("a", worker("a", 60_000, 1))?;
        sleep(Duration::from_millis(1)).await?;
        drop(group);
        sleep(Duration::from_millis(5)).await?;
        Ok::<_, AppError>(task.done())
    });
    assert_eq!(result.unwrap(), Ok(true), "the task ended");
    assert_eq!(take_log(), ["a cleaned up"]);
}

#[test]
fn cancelling_the_task_that_waits_cancels_the_whole_group() {
    static EXEC: Executor<4, 512> = Executor::new();
    let _turn = support::turn();
    take_log();
    let result = EXEC.run(|spawner| async move {
        let waiter = spawner.spawn("waiter", async move {
            let mut group = TaskGroup::<u32, AppError, 2>::new(spawner);
            group.spawn("a", worker("a", 60_000, 1))?;
            group.spawn("b", worker("b", 60_000, 2))?;
            group.wait().await.map(|_| ())
        })?;
        sleep(Duration::from_millis(2)).await?;
        waiter.cancel();
        Ok::<_, AppError>(waiter.await)
    });
    assert_eq!(result.unwrap(), Ok(Err(AppError::from(Cancelled))));
    let mut cleaned = take_log();
    cleaned.sort();
    assert_eq!(cleaned, ["a cleaned up", "b cleaned up"]);
}
