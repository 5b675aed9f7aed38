//! "Custom exception handler": `set_exception_handler` replaces the default; the context carries the
//! message, the exception and the task; the spec's uses (log the failure, blink an error LED,
//! escalate to a watchdog reset) work; a custom handler can still call the default one, which
//! streams the failure to the host.

mod support;

use asyncmon_agent::{
    default_exception_handler, set_exception_handler, sleep, Context, Executor, FailurePath,
};
use asyncmon_protocol::host::SessionEvent;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::signal::Signal;
use embassy_time::Duration;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;
use support::AppError;

async fn failing(
    after_ms: u64,
    failed: &'static Signal<CriticalSectionRawMutex, ()>,
) -> Result<(), AppError> {
    sleep(Duration::from_millis(after_ms)).await?;
    // The task ends in this same poll, so the handler has run by the time main wakes.
    failed.signal(());
    Err(AppError::timeout())
}

/// Runs a program whose two detached tasks fail; main waits until both have.
fn run_two_failures(exec: &'static Executor<2, 512>) {
    static LEFT: Signal<CriticalSectionRawMutex, ()> = Signal::new();
    static RIGHT: Signal<CriticalSectionRawMutex, ()> = Signal::new();
    let result = exec.run(|spawner| async move {
        drop(spawner.spawn("left", failing(2, &LEFT))?);
        drop(spawner.spawn("right", failing(6, &RIGHT))?);
        LEFT.wait().await;
        RIGHT.wait().await;
        Ok::<_, AppError>(())
    });
    assert_eq!(result.unwrap(), Ok(()));
}

#[test]
fn the_context_carries_message_exception_and_task() {
    static EXEC: Executor<2, 512> = Executor::new();
    let _turn = support::turn();
    support::recording();
    run_two_failures(&EXEC);
    set_exception_handler(None);
    let seen = support::seen();
    assert_eq!(seen.len(), 2);
    let left = seen.iter().find(|s| s.task_name == Some("left")).unwrap();
    assert_eq!(left.message, "Task exception was never retrieved");
    assert_eq!(left.rendered, "sensor did not answer within 50 ms");
    assert!(left.type_name.ends_with("support::AppError"), "{}", left.type_name);
    let source = include_str!("custom_exception_handler.rs");
    let raise_line = source.lines().nth(left.raised_line.unwrap() as usize - 1).unwrap();
    assert!(raise_line.contains("AppError::timeout()"), "the raise location is the raise: {raise_line}");
    assert_eq!(left.parent, Some(0));
    assert_eq!(left.path, FailurePath::Unretrieved);
}

#[test]
fn count_failures_into_a_log() {
    static EXEC: Executor<2, 512> = Executor::new();
    static FAILURE_LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());
    fn log_to_flash(ctx: &Context<'_>) {
        let task = ctx.task.map_or("?", |t| t.name);
        FAILURE_LOG.lock().unwrap().push(format!("{task}: {}", ctx.exception.unwrap()));
    }
    let _turn = support::turn();
    set_exception_handler(Some(log_to_flash));
    run_two_failures(&EXEC);
    set_exception_handler(None);
    assert_eq!(
        *FAILURE_LOG.lock().unwrap(),
        ["left: sensor did not answer within 50 ms", "right: sensor did not answer within 50 ms"]
    );
}

/// A fake GPIO output, as a HAL's `OutputPin` would be.
trait OutputPin {
    fn toggle(&self);
}

struct ErrorLed {
    lit: AtomicBool,
    toggles: AtomicU32,
}

impl OutputPin for ErrorLed {
    fn toggle(&self) {
        self.lit.fetch_xor(true, Ordering::SeqCst);
        self.toggles.fetch_add(1, Ordering::SeqCst);
    }
}

static ERROR_LED: ErrorLed = ErrorLed { lit: AtomicBool::new(false), toggles: AtomicU32::new(0) };

#[test]
fn blink_an_error_led() {
    static EXEC: Executor<2, 512> = Executor::new();
    fn blink(_: &Context<'_>) {
        ERROR_LED.toggle();
    }
    let _turn = support::turn();
    set_exception_handler(Some(blink));
    run_two_failures(&EXEC);
    set_exception_handler(None);
    assert_eq!(ERROR_LED.toggles.load(Ordering::SeqCst), 2, "one toggle per failure");
    assert!(!ERROR_LED.lit.load(Ordering::SeqCst), "two toggles leave the LED off");
}

/// A fake watchdog, as a HAL's would be.
struct Watchdog {
    reset_requested: AtomicBool,
}

impl Watchdog {
    fn request_reset(&self) {
        self.reset_requested.store(true, Ordering::SeqCst);
    }
}

static WATCHDOG: Watchdog = Watchdog { reset_requested: AtomicBool::new(false) };

#[test]
fn escalate_to_a_watchdog_reset_on_a_failure_in_a_critical_task() {
    static EXEC: Executor<2, 512> = Executor::new();
    fn escalate(ctx: &Context<'_>) {
        if ctx.task.is_some_and(|t| t.name == "right") {
            WATCHDOG.request_reset();
        }
    }
    let _turn = support::turn();
    set_exception_handler(Some(escalate));
    run_two_failures(&EXEC);
    set_exception_handler(None);
    assert!(WATCHDOG.reset_requested.load(Ordering::SeqCst));
}

#[test]
fn a_custom_handler_can_still_stream_to_the_host_through_the_default() {
    static EXEC: Executor<2, 512> = Executor::new();
    static CALLS: AtomicU32 = AtomicU32::new(0);
    fn count_then_default(ctx: &Context<'_>) {
        CALLS.fetch_add(1, Ordering::SeqCst);
        default_exception_handler(ctx);
    }
    let _turn = support::turn();
    let mut host = support::Host::attach();
    set_exception_handler(Some(count_then_default));
    run_two_failures(&EXEC);
    set_exception_handler(None);
    host.read_until(std::time::Duration::from_secs(5), |events| {
        events.iter().filter(|e| matches!(e, SessionEvent::Failure(_))).count() >= 2
    });
    let names: Vec<String> = host
        .events
        .iter()
        .filter_map(|e| match e {
            SessionEvent::Failure(f) if f.path == FailurePath::Unretrieved => {
                f.task.as_ref().map(|t| t.name.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(names, ["left", "right"], "the host got both failures through the default handler");
    assert_eq!(CALLS.load(Ordering::SeqCst), 2);
}

#[test]
fn get_exception_handler_gives_the_installed_one_so_a_new_one_can_pass_on_to_it() {
    let _turn = support::turn();
    assert!(asyncmon_agent::get_exception_handler().is_none(), "the default");
    set_exception_handler(Some(support::record));
    let installed = asyncmon_agent::get_exception_handler().expect("the installed handler");
    assert!(core::ptr::fn_addr_eq(installed, support::record as asyncmon_agent::ExceptionHandler));
    set_exception_handler(None);
    assert!(asyncmon_agent::get_exception_handler().is_none());
}

/// A second error type, for a handler that tells types apart.
#[derive(Debug, PartialEq, asyncmon_agent::Exception)]
enum BusFault {
    #[cancelled]
    Cancelled,
    Nack {
        address: u8,
    },
}

impl core::fmt::Display for BusFault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BusFault::Cancelled => f.write_str("cancelled"),
            BusFault::Nack { address } => write!(f, "no acknowledge from {address:#04x}"),
        }
    }
}

#[test]
fn a_handler_tells_error_types_apart_and_reads_their_fields() {
    static EXEC: Executor<2, 512> = Executor::new();
    static ACTIONS: Mutex<Vec<String>> = Mutex::new(Vec::new());
    static BUS_FAILED: Signal<CriticalSectionRawMutex, ()> = Signal::new();
    static SENSOR_FAILED: Signal<CriticalSectionRawMutex, ()> = Signal::new();
    // asyncio: if isinstance(context["exception"], BusFault): reset_bus(exc.address) ...
    fn by_type(ctx: &Context<'_>) {
        let action = if let Some(BusFault::Nack { address }) = ctx.exception_as::<BusFault>() {
            format!("reset the bus, device {address:#04x}")
        } else if ctx.exception.is_some_and(|e| e.is::<AppError>()) {
            format!("log: {}", ctx.exception.unwrap())
        } else {
            "something else".to_string()
        };
        ACTIONS.lock().unwrap().push(action);
    }
    let _turn = support::turn();
    set_exception_handler(Some(by_type));
    let result = EXEC.run(|spawner| async move {
        drop(spawner.spawn("i2c", async {
            sleep(Duration::from_millis(2)).await?;
            BUS_FAILED.signal(());
            Err::<(), _>(BusFault::Nack { address: 0x48 })
        })?);
        drop(spawner.spawn("sensor", failing(6, &SENSOR_FAILED))?);
        BUS_FAILED.wait().await;
        SENSOR_FAILED.wait().await;
        Ok::<_, AppError>(())
    });
    set_exception_handler(None);
    assert_eq!(result.unwrap(), Ok(()));
    assert_eq!(
        *ACTIONS.lock().unwrap(),
        ["reset the bus, device 0x48", "log: sensor did not answer within 50 ms"]
    );
}
