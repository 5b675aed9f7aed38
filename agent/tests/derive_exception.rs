//! `#[derive(Exception)]`: an error type in a few lines instead of ~40 — its cancellation, its raise
//! sites recorded by the constructors it makes, and `?` on the agent's own errors.

mod support;

use asyncmon_agent::{sleep, Cancelled, Exception, Executor, SpawnError, Timeout};
use core::panic::Location;
use embassy_time::Duration;

#[derive(Debug, PartialEq, Exception)]
enum SensorError {
    #[cancelled]
    Cancelled,
    NoAnswer {
        at: &'static Location<'static>,
        channel: u8,
    },
    Spawn(#[from] SpawnError),
    TimedOut(#[from] Timeout),
}

impl core::fmt::Display for SensorError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SensorError::Cancelled => f.write_str("cancelled"),
            SensorError::NoAnswer { channel, .. } => write!(f, "channel {channel} did not answer"),
            SensorError::Spawn(e) => write!(f, "{e}"),
            SensorError::TimedOut(e) => write!(f, "{e}"),
        }
    }
}

#[test]
fn the_derived_error_knows_its_cancellation_and_where_it_was_raised() {
    let raised = SensorError::no_answer(3);
    let line = line!() - 1;
    assert_eq!(raised.raised_at().map(|l| (l.file(), l.line())), Some((file!(), line)));
    assert!(!raised.is_cancellation());
    assert_eq!(raised.to_string(), "channel 3 did not answer");
    assert!(SensorError::from(Cancelled).is_cancellation());
    assert_eq!(SensorError::from(Cancelled), SensorError::Cancelled);
    assert_eq!(SensorError::from(Timeout { after: Duration::from_millis(5) }).raised_at(), None);
}

#[test]
fn a_task_with_the_derived_error_is_cancelled_and_fails_as_a_hand_written_one_would() {
    static EXEC: Executor<3, 512> = Executor::new();
    let _turn = support::turn();
    support::recording();
    let result = EXEC.run(|spawner| async move {
        // `?` on a spawn: From<SpawnError>.
        let sleeper = spawner.spawn("sleeper", async {
            sleep(Duration::from_secs(3600)).await?; // From<Cancelled>
            Ok::<_, SensorError>(())
        })?;
        drop(spawner.spawn("failing", async { Err::<(), _>(SensorError::no_answer(7)) })?);
        sleep(Duration::from_millis(5)).await?;
        sleeper.cancel();
        Ok::<_, SensorError>(sleeper.await)
    });
    asyncmon_agent::set_exception_handler(None);
    assert_eq!(result.unwrap(), Ok(Err(SensorError::Cancelled)));
    let seen = support::seen();
    assert_eq!(seen.len(), 1, "only the failure reaches the handler, not the cancellation: {seen:?}");
    assert_eq!(seen[0].rendered, "channel 7 did not answer");
    let source = include_str!("derive_exception.rs");
    let raise_line = source.lines().nth(seen[0].raised_line.unwrap() as usize - 1).unwrap();
    assert!(raise_line.contains("SensorError::no_answer(7)"), "{raise_line}");
}
