//! Deadlines on a coarse grid, for short waits that almost never expire.

use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Waker};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// Hands out deadlines `grain` to `2 * grain` from now, on a grid shared by every caller, and
/// keeps one timer registered at the current grid point.
///
/// Why: tokio's timer wakes the thread parked on the I/O driver whenever a timer earlier than
/// the one it sleeps towards is set, which costs a system call and a cross-thread wake-up. A
/// POST that arms a fresh 5 ms timer and cancels it 50 µs later pays that on every request. On
/// the grid, the timers of one window share a deadline, and the anchor keeps that deadline in
/// the driver's view, so the driver is disturbed about once per window while requests flow, and
/// not at all when they stop.
pub(crate) struct CoarseTimer {
    grain: Duration,
    epoch: Instant,
    anchor: Mutex<Option<Pin<Box<Sleep>>>>,
}

impl CoarseTimer {
    pub(crate) fn new(grain: Duration) -> Self {
        Self { grain: grain.max(Duration::from_millis(1)), epoch: Instant::now(), anchor: Mutex::new(None) }
    }

    /// A deadline between `grain` and `2 * grain` from now. Must be called in a tokio runtime.
    pub(crate) fn deadline(&self) -> Instant {
        let grain = self.grain.as_nanos();
        let since = Instant::now().saturating_duration_since(self.epoch).as_nanos() + grain;
        let offset = since.div_ceil(grain).saturating_mul(grain);
        let deadline = self.epoch + Duration::from_nanos(u64::try_from(offset).unwrap_or(u64::MAX));
        let mut anchor = self.anchor.lock().unwrap_or_else(PoisonError::into_inner);
        if anchor.as_ref().is_none_or(|a| a.is_elapsed()) {
            let mut sleep = Box::pin(tokio::time::sleep_until(deadline));
            // Polling registers the timer; it then stays registered until it fires or is
            // replaced. Nobody waits on it.
            let _ = sleep.as_mut().poll(&mut Context::from_waker(Waker::noop()));
            *anchor = Some(sleep);
        }
        deadline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn deadlines_of_one_window_are_shared_and_anchored() {
        let grain = Duration::from_millis(5);
        let timer = CoarseTimer::new(grain);
        tokio::time::advance(Duration::from_micros(1_300)).await;
        let first = timer.deadline();
        let wait = first - Instant::now();
        assert!(wait >= grain && wait <= 2 * grain, "{wait:?}");
        tokio::time::advance(Duration::from_micros(900)).await;
        assert_eq!(timer.deadline(), first, "a deadline in the same window is the same instant");
        let anchored = timer.anchor.lock().unwrap().as_ref().map(|a| (a.deadline(), a.is_elapsed()));
        assert_eq!(anchored, Some((first, false)), "the anchor waits at the window's deadline");
        tokio::time::advance(grain).await;
        let next = timer.deadline();
        assert_eq!(next, first + grain, "the next window");
        tokio::time::advance(2 * grain).await;
        assert!(timer.deadline() > next, "an elapsed anchor is replaced");
    }
}
