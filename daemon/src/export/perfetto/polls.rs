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
    pub task: u32,
    pub start_ns: u64,
    pub end_ns: u64,
}

/// Where each epoch's device clock sits on the recording's, and the span each task's polls cover.
#[derive(Default)]
pub struct PollClock {
    /// Recording ns minus device ns, by epoch.
    offsets: HashMap<u32, i128>,
    /// The first poll's start and the last poll's end, by (epoch, task), on the recording's clock.
    spans: HashMap<(u32, u32), (u64, u64)>,
}

impl PollClock {
    /// Reads the clocks' offsets and the tasks' poll spans from a whole recording.
    pub fn of(events: &[RecordedEvent]) -> Self {
        let mut clock = PollClock::default();
        let mut epoch = 0;
        for recorded in events {
            match &recorded.event {
                SessionEvent::SessionStarted { epoch: e, .. } => epoch = *e,
                SessionEvent::Polls(polls) => {
                    let offset = i128::from(recorded.at_ms) * 1_000_000 - i128::from(polls.device_now_ns);
                    let best = clock.offsets.entry(epoch).or_insert(offset);
                    *best = (*best).min(offset);
                }
                _ => {}
            }
        }
        let mut epoch = 0;
        for recorded in events {
            match &recorded.event {
                SessionEvent::SessionStarted { epoch: e, .. } => epoch = *e,
                SessionEvent::Polls(_) => {
                    for poll in clock.place(epoch, &recorded.event) {
                        let span =
                            clock.spans.entry((epoch, poll.task)).or_insert((poll.start_ns, poll.end_ns));
                        *span = (span.0.min(poll.start_ns), span.1.max(poll.end_ns));
                    }
                }
                _ => {}
            }
        }
        clock
    }

    /// The polls of `event` (a `Polls` event of `epoch`; nothing for any other) on the recording's
    /// clock.
    pub fn place(&self, epoch: u32, event: &SessionEvent) -> Vec<Placed> {
        let (SessionEvent::Polls(polls), Some(offset)) = (event, self.offsets.get(&epoch)) else {
            return Vec::new();
        };
        let on_recording = |ns: u64| u64::try_from((i128::from(ns) + offset).max(0)).unwrap_or(u64::MAX);
        polls
            .slices
            .iter()
            .map(|poll| {
                let start_ns = on_recording(poll.start_ns);
                Placed { task: poll.task, start_ns, end_ns: start_ns.saturating_add(poll.busy_ns) }
            })
            .collect()
    }

    /// The first poll's start and the last poll's end of task `id` of `epoch`, if it was polled.
    pub fn span(&self, epoch: u32, id: u32) -> Option<(u64, u64)> {
        self.spans.get(&(epoch, id)).copied()
    }
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
        let clock = PollClock::of(&events);
        let first = clock.place(1, &events[1].event);
        assert_eq!(first, [Placed { task: 1, start_ns: 104_000_000, end_ns: 104_500_000 }]);
        let second = clock.place(1, &events[2].event);
        assert_eq!(second[0], Placed { task: 2, start_ns: 108_000_000, end_ns: 108_001_000 });
        assert_eq!(clock.span(1, 1), Some((104_000_000, 108_502_000)));
        assert_eq!(clock.span(1, 3), None);
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
        let clock = PollClock::of(&events);
        assert_eq!(clock.span(1, 1), Some((9_000_000, 9_001_000)));
        assert_eq!(clock.span(2, 1), Some((59_000_000, 59_001_000)));
        // A poll batch of an epoch that had none before it is placed nowhere.
        assert!(clock.place(3, &events[3].event).is_empty());
    }
}
