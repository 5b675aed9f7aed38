//! The shutdown pattern the spec refers to: the application remembers its long-lived background
//! tasks and awaits them at shutdown, so their failures and cleanup are not lost.

mod support;

use asyncmon_agent::{gather_all, sleep, Executor, JoinHandle, Spawner};
use embassy_time::Duration;
use support::{log, take_log, AppError};

async fn background(name: &'static str, fail_in_cleanup: bool) -> Result<(), AppError> {
    loop {
        if let Err(cancelled) = sleep(Duration::from_millis(5)).await {
            sleep(Duration::from_millis(1)).await?; // e.g. flush a buffer
            log(format!("{name} flushed"));
            if fail_in_cleanup {
                return Err(AppError::Cleanup("radio did not ack"));
            }
            return Err(cancelled.into());
        }
    }
}

async fn app(spawner: Spawner) -> Result<Vec<String>, AppError> {
    // Remember the long-lived tasks.
    let background: [JoinHandle<(), AppError>; 2] = [
        spawner.spawn("logger", background("logger", false))?,
        spawner.spawn("radio", background("radio", true))?,
    ];
    sleep(Duration::from_millis(20)).await?; // the application's work
                                             // Shutdown: cancel them and await them, so cleanup finishes and failures are seen here.
    for task in &background {
        task.cancel();
    }
    let results = gather_all(background).await;
    Ok(results.iter().map(|r| format!("{r:?}")).collect())
}

#[test]
fn background_tasks_are_cancelled_awaited_and_their_failures_seen_by_the_app() {
    static EXEC: Executor<2, 1024> = Executor::new();
    let _turn = support::turn();
    support::recording();
    take_log();
    let results = EXEC.run(app).unwrap().unwrap();
    asyncmon_agent::set_exception_handler(None);
    assert_eq!(results, ["Err(Cancelled)", "Err(Cleanup(\"radio did not ack\"))"]);
    let mut log = take_log();
    log.sort();
    assert_eq!(log, ["logger flushed", "radio flushed"]);
    assert!(support::seen().is_empty(), "awaited at shutdown: nothing was left unretrieved");
}
