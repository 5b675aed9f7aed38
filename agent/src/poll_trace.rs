//! Polls one by one (the `poll-trace` feature): each poll's task, start and length, kept in a batch
//! of [`MAX_POLL_SLICES`](asyncmon_protocol::device::MAX_POLL_SLICES) and sent as one `PollSlices`
//! frame when the batch is full, when the statistics are sampled, and at the run's end, so that a
//! timeline draws every poll as a slice.
//!
//! A poll costs what `task-stats` costs (the two clock reads are shared) and a few words written
//! under a critical section; a batch costs one frame, encoded from where the batch is kept (no
//! copy). Nothing is kept before the link exists, and a board with no host reading pays the link's
//! compare a batch (the frame is not encoded). Sending adds no wake-up: a batch waits for the next
//! poll, sample or the run's end. Without the feature every function here is empty.
//!
//! An observer of another executor (`asyncmon-embassy`) calls [`record`] and [`flush`] through
//! [`crate::observer`].

#[cfg(feature = "poll-trace")]
use asyncmon_protocol::device::{PollSlice, MAX_POLL_SLICES};

/// The polls not sent yet: where the first started (all 64 bits of the time driver's ticks), where
/// the last ended (the low 32), and each poll relative to the one before.
#[cfg(feature = "poll-trace")]
struct Batch {
    start: u64,
    last_end: u32,
    slices: heapless::Vec<PollSlice, MAX_POLL_SLICES>,
}

#[cfg(feature = "poll-trace")]
static BATCH: critical_section::Mutex<core::cell::RefCell<Batch>> =
    critical_section::Mutex::new(core::cell::RefCell::new(Batch {
        start: 0,
        last_end: 0,
        slices: heapless::Vec::new(),
    }));

/// A poll of `task` ran from `start` to `end` (the time driver's ticks, modulo 2³²). A full batch
/// is sent first; so is a batch before a poll that started before its last poll ended (a poll of an
/// executor that interrupted another's: the frame's gaps only go forward).
#[inline]
pub fn record(task: asyncmon_protocol::device::TaskId, start: u32, end: u32) {
    #[cfg(feature = "poll-trace")]
    {
        if !crate::link::enabled() {
            return;
        }
        if !add(task, start, end) {
            flush();
            add(task, start, end);
        }
    }
    #[cfg(not(feature = "poll-trace"))]
    let _ = (task, start, end);
}

/// Adds a poll to the batch; false when the batch cannot take it (full, or the poll out of order),
/// never when it is empty.
#[cfg(feature = "poll-trace")]
fn add(task: asyncmon_protocol::device::TaskId, start: u32, end: u32) -> bool {
    critical_section::with(|cs| {
        let mut batch = BATCH.borrow_ref_mut(cs);
        if batch.slices.is_empty() {
            let now = embassy_time::Instant::now().as_ticks();
            batch.start = now.wrapping_sub(u64::from((now as u32).wrapping_sub(start)));
            batch.last_end = start;
        }
        let gap = start.wrapping_sub(batch.last_end);
        if (gap as i32) < 0 || batch.slices.is_full() {
            return false;
        }
        batch.last_end = end;
        // Not full: checked above.
        let _ = batch.slices.push(PollSlice { task, gap, busy: end.wrapping_sub(start) });
        true
    })
}

/// Sends the polls recorded so far, if any: one frame, encoded from the batch where it is kept.
pub fn flush() {
    #[cfg(feature = "poll-trace")]
    crate::link::with_link(|link| {
        critical_section::with(|cs| {
            let mut batch = BATCH.borrow_ref_mut(cs);
            if batch.slices.is_empty() {
                return;
            }
            link.send(&asyncmon_protocol::device::PollBatch {
                tick_hz: embassy_time::TICK_HZ as u32,
                start: batch.start,
                sent_at: embassy_time::Instant::now().as_ticks(),
                slices: &batch.slices,
            });
            batch.slices.clear();
        })
    });
}
