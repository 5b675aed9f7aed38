//! The wait before trying again: doubles after each failure, up to a limit, and starts over after
//! a success.

use std::time::Duration;

/// See the module documentation.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// Starts at `initial`, never waits longer than `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff { initial, max, next: initial }
    }

    /// The wait before the next attempt; the one after is twice as long (up to the limit).
    pub fn next_wait(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(self.max);
        wait
    }

    /// The last attempt worked: the next failure waits the initial time again.
    pub fn reset(&mut self) {
        self.next = self.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_limit_and_starts_over_after_a_success() {
        let mut b = Backoff::new(Duration::from_millis(50), Duration::from_millis(150));
        let waits: Vec<_> = (0..4).map(|_| b.next_wait().as_millis()).collect();
        assert_eq!(waits, [50, 100, 150, 150]);
        b.reset();
        assert_eq!(b.next_wait(), Duration::from_millis(50));
    }
}
