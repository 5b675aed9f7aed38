//! [`Event`]: asyncio's `Event` without a heap — tasks wait until another task (or an interrupt)
//! sets it; a set event lets every waiter through until it is cleared.

use crate::exception::Cancelled;
use crate::raw::signal::take_cancellation;
use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use critical_section::Mutex;
use embassy_sync::waitqueue::MultiWakerRegistration;

/// An event tasks can wait for (asyncio's `asyncio.Event`). `WAITERS` is how many tasks may wait
/// at once without being woken early: past it, every waiter is woken to look again (no waiter is
/// lost, a few poll once more). Usable from interrupts: `set` takes a critical section.
pub struct Event<const WAITERS: usize = 8> {
    state: Mutex<RefCell<State<WAITERS>>>,
}

struct State<const WAITERS: usize> {
    set: bool,
    /// Counts the times the event was set: a waiter that was waiting when it was set goes
    /// through, even if it was cleared again before the waiter ran (as in asyncio).
    sets: u32,
    waiters: MultiWakerRegistration<WAITERS>,
}

impl<const WAITERS: usize> Event<WAITERS> {
    /// An event that is not set.
    pub const fn new() -> Self {
        Event {
            state: Mutex::new(RefCell::new(State {
                set: false,
                sets: 0,
                waiters: MultiWakerRegistration::new(),
            })),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut State<WAITERS>) -> R) -> R {
        critical_section::with(|cs| f(&mut self.state.borrow_ref_mut(cs)))
    }

    /// Sets the event: every task waiting goes on, and so does every later `wait` until `clear`.
    pub fn set(&self) {
        self.with(|state| {
            state.set = true;
            state.sets = state.sets.wrapping_add(1);
            state.waiters.wake();
        });
    }

    /// Clears the event: later waits wait again.
    pub fn clear(&self) {
        self.with(|state| state.set = false);
    }

    /// Whether the event is set.
    pub fn is_set(&self) -> bool {
        self.with(|state| state.set)
    }

    /// Waits until the event is set; `Err(Cancelled)` if the task is cancelled meanwhile.
    pub fn wait(&self) -> EventWait<'_, WAITERS> {
        EventWait { event: self, since: None }
    }
}

impl<const WAITERS: usize> Default for Event<WAITERS> {
    fn default() -> Self {
        Self::new()
    }
}

/// The future of [`Event::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct EventWait<'a, const WAITERS: usize> {
    event: &'a Event<WAITERS>,
    /// The event's set count when this wait began.
    since: Option<u32>,
}

impl<const WAITERS: usize> Future for EventWait<'_, WAITERS> {
    type Output = Result<(), Cancelled>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if take_cancellation(cx) {
            return Poll::Ready(Err(Cancelled));
        }
        let since = self.since;
        let (ready, sets) = self.event.with(|state| {
            let ready = state.set || since.is_some_and(|s| s != state.sets);
            if !ready {
                state.waiters.register(cx.waker());
            }
            (ready, state.sets)
        });
        if ready {
            return Poll::Ready(Ok(()));
        }
        self.since.get_or_insert(sets);
        Poll::Pending
    }
}
