//! Polls one by one (`SessionEvent::Polls`, from a firmware's `poll-trace` feature) on a
//! recording's clock. The device stamps them with its own clock, the recording with the time the
//! daemon read them; each batch says the device's time when it was sent, so `read - sent` is the
//! offset between the clocks plus that batch's delay on the link. The smallest over an epoch (a
//! boot of the firmware, one device clock) is the offset with the least delay: every poll of the
//! epoch is placed with it, so polls keep the device's order and spacing, and none lands after the
//! time it was read.

use asyncmon_protocol::host::recording::RecordedEvent;
use asyncmon_protocol::host::SessionEvent;
use std::collections::HashMap;

/// One poll on the recording's clock, in nanoseconds since the recording started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub start_ns: u64,
    pub end_ns: u64,
}

/// Every poll of a recording on the recording's clock, by (epoch, task), in the order they ran.
#[derive(Default)]
pub struct PolledTasks {
    polls: HashMap<(u32, u32), Vec<Placed>>,
}

impl PolledTasks {
    /// Places every poll of a whole recording: the clocks' offsets first, then the polls.
    pub fn of(events: &[RecordedEvent]) -> Self {
        let mut offsets: HashMap<u32, i128> = HashMap::new();
        for (epoch, at_ms, polls) in batches(events) {
            let offset = i128::from(at_ms) * 1_000_000 - i128::from(polls.device_now_ns);
            let best = offsets.entry(epoch).or_insert(offset);
            *best = (*best).min(offset);
        }
        let mut placed = PolledTasks::default();
        for (epoch, _, polls) in batches(events) {
            // Every epoch with a batch has an offset: the loop above saw the same batches.
            let offset = offsets[&epoch];
            let on_recording = |ns: u64| u64::try_from((i128::from(ns) + offset).max(0)).unwrap_or(u64::MAX);
            for poll in &polls.slices {
                let start_ns = on_recording(poll.start_ns);
                let poll_placed = Placed { start_ns, end_ns: start_ns.saturating_add(poll.busy_ns) };
                placed.polls.entry((epoch, poll.task)).or_default().push(poll_placed);
            }
        }
        placed
    }

    /// The polls of task `id` of `epoch`, in the order they ran.
    pub fn of_task(&self, epoch: u32, id: u32) -> &[Placed] {
        self.polls.get(&(epoch, id)).map_or(&[], Vec::as_slice)
    }

    /// The first poll's start and the last poll's end of task `id` of `epoch`, if it was polled.
    pub fn span(&self, epoch: u32, id: u32) -> Option<(u64, u64)> {
        let polls = self.of_task(epoch, id);
        Some((polls.first()?.start_ns, polls.iter().map(|p| p.end_ns).max()?))
    }
}

/// Each `Polls` event of a recording with its epoch and the time it was read.
fn batches(
    events: &[RecordedEvent],
) -> impl Iterator<Item = (u32, u64, &asyncmon_protocol::host::Polls)> + '_ {
    events
        .iter()
        .scan(0, |epoch, recorded| {
            Some(match &recorded.event {
                SessionEvent::SessionStarted { epoch: e, .. } => {
                    *epoch = *e;
                    None
                }
                SessionEvent::Polls(polls) => Some((*epoch, recorded.at_ms, polls)),
                _ => None,
            })
        })
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::fixtures::started;

    fn polls(at_ms: u64, device_now_ns: u64, slices: &[(u32, u64, u64)]) -> RecordedEvent {
        RecordedEvent { at_ms, event: crate::export::fixtures::polls(device_now_ns, slices) }
    }

    #[test]
    fn the_batch_read_soonest_sets_the_clock_and_the_polls_keep_their_spacing() {
        let events = [
            RecordedEvent { at_ms: 0, event: started(1) },
            // Sent at device 5 ms, read at 107 ms: 102 ms apart (this one waited 2 ms).
            polls(107, 5_000_000, &[(1, 4_000_000, 500_000)]),
            // Sent at device 9 ms, read at 109 ms: the least delay, 100 ms apart.
            polls(109, 9_000_000, &[(2, 8_000_000, 1_000), (1, 8_500_000, 2_000)]),
        ];
        let placed = PolledTasks::of(&events);
        assert_eq!(
            placed.of_task(1, 1),
            [
                Placed { start_ns: 104_000_000, end_ns: 104_500_000 },
                Placed { start_ns: 108_500_000, end_ns: 108_502_000 }
            ]
        );
        assert_eq!(placed.of_task(1, 2), [Placed { start_ns: 108_000_000, end_ns: 108_001_000 }]);
        assert_eq!(placed.span(1, 1), Some((104_000_000, 108_502_000)));
        assert_eq!(placed.span(1, 3), None);
    }

    #[test]
    fn each_epoch_has_a_clock_of_its_own() {
        let events = [
            RecordedEvent { at_ms: 0, event: started(1) },
            polls(10, 9_000_000, &[(1, 8_000_000, 1_000)]),
            // A reset: the device's clock starts again.
            RecordedEvent { at_ms: 50, event: started(2) },
            polls(60, 2_000_000, &[(1, 1_000_000, 1_000)]),
        ];
        let placed = PolledTasks::of(&events);
        assert_eq!(placed.span(1, 1), Some((9_000_000, 9_001_000)));
        assert_eq!(placed.span(2, 1), Some((59_000_000, 59_001_000)));
        // An epoch that sent no polls has none.
        assert!(placed.of_task(3, 1).is_empty());
    }
}
