//! A host that does not read: the firmware runs on, every frame that does not fit is dropped and
//! counted, and once the host reads again it is told how many were lost, so that every message the
//! firmware offered either arrived or was counted.

mod support;

use asyncmon_agent::{link, sleep, Executor};
use asyncmon_protocol::host::SessionEvent;
use embassy_time::Duration;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration as StdDuration;
use support::{AppError, Host};

/// Tasks spawned while the host is away: their spawn and end frames are far more than the up
/// buffer holds.
const WHILE_AWAY: usize = 300;

static HOST_BACK: AtomicBool = AtomicBool::new(false);
static DONE: AtomicBool = AtomicBool::new(false);

#[test]
fn every_message_arrives_or_is_counted_lost_and_the_link_resumes() {
    static EXEC: Executor<4, 512> = Executor::new();
    let _turn = support::turn();
    let host = support::with_host(|mut host: Host| {
        // Away: nothing read until the firmware has sent far more than fits.
        while !HOST_BACK.load(Ordering::Acquire) {
            std::thread::sleep(StdDuration::from_millis(2));
        }
        while !DONE.load(Ordering::Acquire) {
            host.read();
            std::thread::sleep(StdDuration::from_millis(2));
        }
        host.read();
        (host.link_stats(), host.events)
    });
    let before = link::stats();
    let result = EXEC.run(|spawner| async move {
        for _ in 0..WHILE_AWAY {
            spawner.spawn("while-away", async { Ok::<_, AppError>(()) })?.await?;
        }
        let away = link::stats();
        HOST_BACK.store(true, Ordering::Release);
        assert!(away.dropped > before.dropped, "{WHILE_AWAY} tasks' frames overflow the up buffer");
        // Back: once it has read, the count of what was lost goes out, then what follows.
        assert!(link::drain(Duration::from_secs(10)), "the host read everything, the loss count included");
        let _ = sleep(Duration::from_millis(1)).await;
        spawner.spawn("after", async { Ok::<_, AppError>(()) })?.await?;
        Ok::<_, AppError>(())
    });
    assert!(matches!(result, Ok(Ok(()))), "{result:?}");
    assert!(link::drain(Duration::from_secs(10)), "the host read the last frames");
    DONE.store(true, Ordering::Release);
    let offered = link::stats().produced - before.produced;
    let (stats, events) = host.join().unwrap();

    let loss_reports =
        events.iter().filter(|e| matches!(e, SessionEvent::Problem(p) if p.text.contains("dropped"))).count()
            as u64;
    assert!(stats.frames_lost_on_device > 0, "the host was told frames were lost");
    assert_eq!(
        stats.frames - loss_reports + stats.frames_lost_on_device,
        offered,
        "every message offered arrived, or was counted in a loss report"
    );
    assert!(
        events.iter().any(|e| matches!(e, SessionEvent::TaskSpawned(t) if t.name == "after")),
        "frames sent after the host came back arrive"
    );
}
