//! The exception model of `reference/asyncio-exceptions.rst`, section by section, as far as the
//! foundation goes: awaited failures come back at the await, unretrieved ones reach the handler
//! exactly once, and a custom handler sees the task's context.

use asyncmon_agent::{set_exception_handler, Cancelled, Context, Exception, Executor, FailurePath};
use core::panic::Location;
use std::sync::Mutex;

/// The exception handler is global: tests that install one take turns.
static HANDLER_TURN: Mutex<()> = Mutex::new(());

#[derive(Debug, PartialEq)]
enum SensorError {
    Timeout(&'static Location<'static>),
    Cancelled,
}

impl SensorError {
    #[track_caller]
    fn timeout() -> Self {
        SensorError::Timeout(Location::caller())
    }
}

impl core::fmt::Display for SensorError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SensorError::Timeout(_) => f.write_str("sensor did not answer within 50 ms"),
            SensorError::Cancelled => f.write_str("cancelled"),
        }
    }
}

impl Exception for SensorError {
    fn raised_at(&self) -> Option<&'static Location<'static>> {
        match self {
            SensorError::Timeout(at) => Some(at),
            SensorError::Cancelled => None,
        }
    }
}

impl From<Cancelled> for SensorError {
    fn from(_: Cancelled) -> Self {
        SensorError::Cancelled
    }
}

async fn read_sensor(fail: bool) -> Result<u32, SensorError> {
    embassy_time::Timer::after_millis(5).await;
    if fail {
        Err(SensorError::timeout())
    } else {
        Ok(21)
    }
}

/// What a recording handler saw.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    message: String,
    type_name: String,
    rendered: String,
    raised_line: Option<u32>,
    task_name: Option<&'static str>,
    parent: Option<u32>,
    path: FailurePath,
}

static SEEN: Mutex<Vec<Seen>> = Mutex::new(Vec::new());

fn record(ctx: &Context<'_>) {
    SEEN.lock().unwrap().push(Seen {
        message: ctx.message.to_string(),
        type_name: ctx.exception.map(|e| e.type_name().to_string()).unwrap_or_default(),
        rendered: ctx.exception.map(|e| e.to_string()).unwrap_or_default(),
        raised_line: ctx.exception.and_then(|e| e.raised_at()).map(|l| l.line()),
        task_name: ctx.task.map(|t| t.name),
        parent: ctx.task.and_then(|t| t.parent),
        path: ctx.path,
    });
}

#[test]
fn in_a_task_the_application_is_awaiting() {
    static EXEC: Executor<4, 512> = Executor::new();
    let _turn = HANDLER_TURN.lock().unwrap();
    SEEN.lock().unwrap().clear();
    set_exception_handler(Some(record));
    let result = EXEC.run(|spawner| async move {
        let task = spawner.spawn("may_fail", read_sensor(true)).unwrap();
        match task.await {
            Err(SensorError::Timeout(_)) => "may_fail failed",
            other => panic!("expected the task's failure at the await, got {other:?}"),
        }
    });
    set_exception_handler(None);
    assert_eq!(result, Ok("may_fail failed"));
    assert!(SEEN.lock().unwrap().is_empty(), "an awaited failure must not reach the handler");
}

#[test]
fn in_a_task_nobody_awaits() {
    static EXEC: Executor<4, 512> = Executor::new();
    let _turn = HANDLER_TURN.lock().unwrap();
    SEEN.lock().unwrap().clear();
    set_exception_handler(Some(record));
    let result = EXEC.run(|spawner| async move {
        // Dropped before it fails, and one dropped after it failed: both reported, once each.
        drop(spawner.spawn("fire_and_forget", read_sensor(true)).unwrap());
        let late = spawner.spawn("dropped_late", read_sensor(true)).unwrap();
        embassy_time::Timer::after_millis(30).await;
        assert!(late.is_finished());
        drop(late);
        embassy_time::Timer::after_millis(10).await;
        "main went on"
    });
    set_exception_handler(None);
    assert_eq!(result, Ok("main went on"));
    let seen = SEEN.lock().unwrap().clone();
    let names: Vec<_> = seen.iter().map(|s| s.task_name).collect();
    assert_eq!(names, [Some("fire_and_forget"), Some("dropped_late")]);
    let first = &seen[0];
    assert_eq!(first.message, "Task exception was never retrieved");
    assert!(first.type_name.ends_with("SensorError"), "{}", first.type_name);
    assert_eq!(first.rendered, "sensor did not answer within 50 ms");
    assert!(first.raised_line.is_some());
    assert_eq!(first.parent, Some(0), "spawned by main");
    assert_eq!(first.path, FailurePath::Unretrieved);
}

#[test]
fn a_successful_task_gives_its_value_and_nothing_is_reported() {
    static EXEC: Executor<4, 512> = Executor::new();
    let _turn = HANDLER_TURN.lock().unwrap();
    SEEN.lock().unwrap().clear();
    set_exception_handler(Some(record));
    let result = EXEC.run(|spawner| async move {
        let a = spawner.spawn("a", read_sensor(false)).unwrap();
        let b = spawner.spawn("b", read_sensor(false)).unwrap();
        a.await.unwrap() + b.await.unwrap()
    });
    set_exception_handler(None);
    assert_eq!(result, Ok(42));
    assert!(SEEN.lock().unwrap().is_empty());
}

#[test]
fn spawn_errors_say_what_to_raise() {
    static EXEC: Executor<1, 64> = Executor::new();
    let result = EXEC.run(|spawner| async move {
        let big = async move {
            let buf = [0u8; 256];
            embassy_time::Timer::after_millis(1).await;
            Ok::<u8, Cancelled>(buf[0])
        };
        let too_large = spawner.spawn("big", big).err().unwrap();
        let first = spawner.spawn("first", async { Ok::<(), Cancelled>(()) }).unwrap();
        let no_slot = spawner.spawn("second", async { Ok::<(), Cancelled>(()) }).err().unwrap();
        first.await.unwrap();
        (too_large.to_string(), no_slot.to_string())
    });
    let (too_large, no_slot) = result.unwrap();
    assert!(too_large.contains("raise the executor's SLOT_BYTES"), "{too_large}");
    assert!(no_slot.contains("raise the executor's TASKS"), "{no_slot}");
}

#[test]
fn tasks_still_running_when_main_returns_are_cancelled_and_their_cleanup_runs() {
    static EXEC: Executor<4, 512> = Executor::new();
    static CLEANED: Mutex<Vec<&str>> = Mutex::new(Vec::new());
    struct Cleanup(&'static str);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            CLEANED.lock().unwrap().push(self.0);
        }
    }
    let result = EXEC.run(|spawner| async move {
        let handle = spawner
            .spawn("forever", async {
                let _guard = Cleanup("forever");
                embassy_time::Timer::after_secs(3600).await;
                Ok::<(), Cancelled>(())
            })
            .unwrap();
        embassy_time::Timer::after_millis(5).await;
        Some(handle)
    });
    let handle = result.unwrap().unwrap();
    assert_eq!(*CLEANED.lock().unwrap(), ["forever"]);
    assert!(handle.task().is_none(), "the cancelled task is no longer tracked");
}
