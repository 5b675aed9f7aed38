//! "Inside one coroutine": a failure is caught at the await inside the same task, as a plain
//! function call's would be. Nothing asyncio-specific, and nothing reaches the exception handler.

mod support;

use asyncmon_agent::{sleep, Executor};
use embassy_time::Duration;
use support::AppError;

async fn fetch(url: &str, attempt: u32, fail_first: u32) -> Result<String, AppError> {
    sleep(Duration::from_millis(1)).await?;
    if attempt < fail_first {
        return Err(AppError::timeout());
    }
    Ok(format!("{url}: 200"))
}

/// The spec's `fetch_with_retry`: three attempts, the last error re-raised.
async fn fetch_with_retry(url: &str, fail_first: u32) -> Result<String, AppError> {
    let mut last_error = None;
    for attempt in 0..3 {
        match fetch(url, attempt, fail_first).await {
            Ok(body) => return Ok(body),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.expect("three attempts failed"))
}

#[test]
fn a_retry_loop_catches_failures_raised_by_what_it_awaits() {
    static EXEC: Executor<2, 256> = Executor::new();
    let _turn = support::turn();
    support::recording();
    let result = EXEC.run(|_| async {
        let recovered = fetch_with_retry("/sensor", 2).await?;
        let exhausted = fetch_with_retry("/sensor", 5).await;
        Ok::<_, AppError>((recovered, exhausted))
    });
    asyncmon_agent::set_exception_handler(None);
    let (recovered, exhausted) = result.unwrap().unwrap();
    assert_eq!(recovered, "/sensor: 200", "the third attempt succeeded");
    assert!(matches!(exhausted, Err(AppError::Timeout(_))), "the last error is re-raised: {exhausted:?}");
    assert!(support::seen().is_empty(), "a failure caught inside the task never reaches the handler");
}
