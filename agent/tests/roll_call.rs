//! A roll call (the host lost frames): the agent names every running task again — main first,
//! then the tasks — between a start and an end frame that counts them, in the same session, so
//! the host can tell which tasks ended unseen.

mod support;

use asyncmon_agent::{sleep, Executor};
use asyncmon_protocol::host::SessionEvent;
use embassy_time::Duration;
use std::time::Duration as StdDuration;
use support::{log, take_log, AppError, Host};

#[test]
fn the_agent_names_its_running_tasks_and_not_the_ended_ones() {
    static EXEC: Executor<4, 1024> = Executor::new();
    let _turn = support::turn();
    take_log();
    let host = support::with_host(|mut host: Host| {
        let deadline = std::time::Instant::now() + StdDuration::from_secs(10);
        while !support::LOG.lock().unwrap().iter().any(|l| l == "main ready")
            && std::time::Instant::now() < deadline
        {
            host.read();
            std::thread::sleep(StdDuration::from_millis(2));
        }
        host.read();
        let epochs = host.events.iter().filter(|e| matches!(e, SessionEvent::SessionStarted { .. })).count();
        host.roll_call();
        host.read_until(StdDuration::from_secs(10), |events| {
            events.iter().any(|e| matches!(e, SessionEvent::RollCall { .. }))
        });
        let again = host.events.iter().filter(|e| matches!(e, SessionEvent::SessionStarted { .. })).count();
        host.stop(1, false);
        host.read_until(StdDuration::from_secs(10), |events| {
            events.iter().any(|e| matches!(e, SessionEvent::Interrupted(_)))
        });
        let named = host.events.iter().find_map(|e| match e {
            SessionEvent::RollCall { running } => Some(running.clone()),
            _ => None,
        });
        let ids = |name: &str| -> Vec<_> {
            host.events
                .iter()
                .filter_map(|e| match e {
                    SessionEvent::TaskSpawned(t) if t.name == name => Some(t.id),
                    _ => None,
                })
                .collect()
        };
        (named, epochs, again, ids("main"), ids("blinker"), ids("one-shot"))
    });
    let result = EXEC.run(|spawner| async move {
        drop(spawner.spawn("blinker", async {
            loop {
                if let Err(cancelled) = sleep(Duration::from_millis(5)).await {
                    return Err::<(), AppError>(cancelled.into());
                }
            }
        })?);
        spawner.spawn("one-shot", async { Ok::<_, AppError>(()) })?.await?;
        log("main ready");
        sleep(Duration::from_secs(60)).await?;
        Ok::<_, AppError>(())
    });
    assert!(result.is_err(), "stopped by the host");
    let (named, epochs, again, main, blinker, one_shot) = host.join().unwrap();
    assert_eq!(epochs, again, "a roll call keeps the session");
    assert_eq!(
        named,
        Some(vec![main[0], blinker[0]]),
        "main and the blinker; the one-shot ended ({one_shot:?})"
    );
    assert_eq!(blinker.len(), 1, "a task the host knows is not announced as new");
}
