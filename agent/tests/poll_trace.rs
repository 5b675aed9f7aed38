//! Every poll sent (the `poll-trace` feature), read back through the daemon's own link code: each
//! poll of each task arrives once, main's too, in the order the executor ran them and without
//! overlapping, a long poll with its length; the last batch arrives at the run's end.

mod support;

use asyncmon_agent::{yield_now, Executor};
use asyncmon_protocol::host::{PollSlice, SessionEvent};
use std::time::Duration as StdDuration;
use support::{AppError, Host};

/// How many times the worker yields: its polls fill more than two batches.
const YIELDS: usize = 60;

fn polls(events: &[SessionEvent]) -> Vec<PollSlice> {
    events
        .iter()
        .filter_map(|e| match e {
            SessionEvent::Polls(polls) => Some(polls.slices.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

#[test]
fn every_poll_arrives_once_in_order_with_its_length() {
    static EXEC: Executor<4, 1024> = Executor::new();
    let _turn = support::turn();
    let host = support::with_host(|mut host: Host| {
        let worker_id = |events: &[SessionEvent]| {
            events.iter().rev().find_map(|e| match e {
                SessionEvent::TaskSpawned(t) if t.name == "worker" => Some(t.id),
                _ => None,
            })
        };
        host.read_until(StdDuration::from_secs(20), |events| {
            worker_id(events).is_some_and(|id| polls(events).iter().filter(|p| p.task == id).count() > YIELDS)
        });
        (worker_id(&host.events), polls(&host.events), host.events.len())
    });
    let result = EXEC.run(|spawner| async move {
        let worker = spawner.spawn("worker", async {
            for round in 0..YIELDS {
                if round == 10 {
                    // One long poll: 3 ms of work without an await.
                    std::thread::sleep(StdDuration::from_millis(3));
                }
                yield_now().await?;
            }
            Ok::<_, AppError>(())
        })?;
        worker.await?;
        Ok::<_, AppError>(())
    });
    // A hand-written main's end, as `#[main]` writes it: the last batch is sent and read.
    assert_eq!(asyncmon_agent::end_of_run(result), 0);
    let (worker, polls, _) = host.join().unwrap();
    let worker = worker.expect("the worker's spawn arrived");
    let of_worker: Vec<&PollSlice> = polls.iter().filter(|p| p.task == worker).collect();
    assert_eq!(of_worker.len(), YIELDS + 1, "a poll a yield, and the last: {of_worker:?}");
    assert!(polls.iter().any(|p| p.task == 0), "main's polls are sent too");
    assert!(
        polls.windows(2).all(|w| w[0].start_ns + w[0].busy_ns <= w[1].start_ns),
        "in the order they ran, none overlapping: {polls:?}"
    );
    let long = of_worker.iter().filter(|p| p.busy_ns >= 3_000_000).count();
    assert_eq!(long, 1, "the one long poll, 3 ms or more: {of_worker:?}");
}
