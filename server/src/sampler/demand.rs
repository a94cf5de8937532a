//! Who is watching the process list: requests that read processes mark the time, the sampler
//! thread scans processes every interval only while that mark is recent, and the first request
//! after a quiet spell wakes it for a prompt scan.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Shared by the sampler thread and every session.
pub struct Demand {
    epoch: Instant,
    /// When processes were last asked for: milliseconds since `epoch`, plus one (0: never).
    last: AtomicU64,
    window_ms: u64,
    /// Set by a waking request, cleared by the sampler thread.
    wake: Mutex<bool>,
    cond: Condvar,
}

impl Demand {
    /// Processes count as watched for `window` after each request for them.
    pub fn new(window: Duration) -> Self {
        Self {
            epoch: Instant::now(),
            last: AtomicU64::new(0),
            window_ms: window.as_millis().try_into().unwrap_or(u64::MAX),
            wake: Mutex::new(false),
            cond: Condvar::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch
            .elapsed()
            .as_millis()
            .try_into()
            .unwrap_or(u64::MAX)
    }

    /// Records a request for processes; wakes the sampler when nobody had asked within the
    /// window (so it scans now rather than at its next idle scan). Cheap: one atomic swap,
    /// and a lock only on the first request after a quiet spell.
    pub fn mark(&self) {
        if self.mark_at(self.now_ms()) {
            let mut wake = self.wake.lock().unwrap_or_else(|p| p.into_inner());
            *wake = true;
            self.cond.notify_one();
        }
    }

    /// Records a request at `now_ms`; true when it ends a quiet spell.
    fn mark_at(&self, now_ms: u64) -> bool {
        let before = self.last.swap(now_ms + 1, Ordering::Relaxed);
        before == 0 || now_ms.saturating_sub(before - 1) > self.window_ms
    }

    /// Whether processes were asked for within the window.
    pub fn watched(&self) -> bool {
        self.watched_at(self.now_ms())
    }

    fn watched_at(&self, now_ms: u64) -> bool {
        match self.last.load(Ordering::Relaxed) {
            0 => false,
            t => now_ms.saturating_sub(t - 1) <= self.window_ms,
        }
    }

    /// Sleeps until `deadline` or a wake; true when woken by a request.
    pub fn wait(&self, deadline: Instant) -> bool {
        let mut wake = self.wake.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if *wake {
                *wake = false;
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            wake = match self.cond.wait_timeout(wake, deadline - now) {
                Ok((w, _)) => w,
                Err(p) => p.into_inner().0,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_request_and_one_after_a_quiet_spell_wake_the_sampler() {
        let d = Demand::new(Duration::from_secs(30));
        assert!(!d.watched_at(0));
        assert!(d.mark_at(1_000), "first request ever");
        assert!(d.watched_at(1_000));
        assert!(!d.mark_at(2_000), "still watched: no wake");
        assert!(d.watched_at(32_000));
        assert!(!d.watched_at(32_001));
        assert!(d.mark_at(40_000), "quiet for 38 s");
    }

    #[test]
    fn a_request_at_time_zero_counts() {
        let d = Demand::new(Duration::from_secs(10));
        assert!(d.mark_at(0));
        assert!(d.watched_at(0));
        assert!(!d.mark_at(5));
    }

    #[test]
    fn a_wake_is_consumed_once() {
        let d = Demand::new(Duration::from_secs(10));
        d.mark();
        assert!(d.wait(Instant::now() + Duration::from_secs(5)));
        assert!(!d.wait(Instant::now()), "no second wake without a request");
    }
}
