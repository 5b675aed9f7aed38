//! A firmware's `PollSlices` frame (its `poll-trace` feature) in the host's terms: each poll's start
//! and length in nanoseconds of the device's clock, from the frame's ticks and gaps.

use asyncmon_protocol::device::PollSlice as DevicePoll;
use asyncmon_protocol::host::{PollSlice, Polls};

/// Why a `PollSlices` frame was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PollSlicesError {
    /// A clock of zero ticks a second measures nothing.
    #[error("a poll-trace frame gave its clock 0 ticks a second")]
    NoClock,
}

/// The polls of one frame: `start` is the first poll's start, each next poll starts `gap` ticks
/// after the previous one ended; `sent_at` is the device's clock when it sent the frame.
pub fn from_device(
    tick_hz: u32,
    start: u64,
    sent_at: u64,
    slices: &[DevicePoll],
) -> Result<Polls, PollSlicesError> {
    if tick_hz == 0 {
        return Err(PollSlicesError::NoClock);
    }
    let ns = |ticks: u128| u64::try_from(ticks * 1_000_000_000 / u128::from(tick_hz)).unwrap_or(u64::MAX);
    let mut at = u128::from(start);
    let slices = slices
        .iter()
        .map(|poll| {
            let poll_start = at + u128::from(poll.gap);
            at = poll_start + u128::from(poll.busy);
            PollSlice { task: poll.task, start_ns: ns(poll_start), busy_ns: ns(u128::from(poll.busy)) }
        })
        .collect();
    Ok(Polls { device_now_ns: ns(u128::from(sent_at)), slices })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_poll_starts_its_gap_after_the_previous_end_in_nanoseconds() {
        let polls = [
            DevicePoll { task: 1, gap: 0, busy: 3 },
            DevicePoll { task: 2, gap: 10, busy: 1 },
            DevicePoll { task: 1, gap: 0, busy: 2 },
        ];
        // A 32,768 Hz clock: a tick is 30,517.578125 ns.
        let got = from_device(32_768, 32_768, 65_536, &polls).unwrap();
        assert_eq!(got.device_now_ns, 2_000_000_000);
        let starts: Vec<u64> = got.slices.iter().map(|p| p.start_ns).collect();
        assert_eq!(starts, [1_000_000_000, 1_000_396_728, 1_000_427_246]);
        let lengths: Vec<u64> = got.slices.iter().map(|p| p.busy_ns).collect();
        assert_eq!(lengths, [91_552, 30_517, 61_035]);
        assert_eq!(got.slices.iter().map(|p| p.task).collect::<Vec<_>>(), [1, 2, 1]);
    }

    #[test]
    fn a_clock_of_no_ticks_and_the_largest_numbers_are_handled() {
        assert_eq!(from_device(0, 0, 0, &[]), Err(PollSlicesError::NoClock));
        let huge = [DevicePoll { task: u32::MAX, gap: u32::MAX, busy: u32::MAX }; 24];
        let got = from_device(1, u64::MAX, u64::MAX, &huge).unwrap();
        assert!(got.slices.iter().all(|p| p.start_ns == u64::MAX));
    }
}
