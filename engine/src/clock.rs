//! Injected time. Everything that schedules or expires reads a `Clock`, so tests
//! can jump two hours in a millisecond.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now_ms(&self) -> Millis;
}

/// Wall-clock time, optionally sped up (`--time-scale` in dev demos).
#[derive(Debug, Clone)]
pub struct SystemClock {
    start_real: Millis,
    scale: f64,
}

impl SystemClock {
    pub fn new() -> Self {
        Self::scaled(1.0)
    }

    /// A clock that runs `scale` times faster than real time from now on.
    pub fn scaled(scale: f64) -> Self {
        Self {
            start_real: real_now_ms(),
            scale: if scale.is_finite() && scale > 0.0 {
                scale
            } else {
                1.0
            },
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

fn real_now_ms() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

impl Clock for SystemClock {
    fn now_ms(&self) -> Millis {
        let real = real_now_ms();
        if self.scale == 1.0 {
            return real;
        }
        let elapsed = (real - self.start_real) as f64 * self.scale;
        self.start_real + elapsed as Millis
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(start: Millis) -> Self {
        Self(Arc::new(AtomicI64::new(start)))
    }

    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn set_ms(&self, ms: Millis) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> Millis {
        self.0.load(Ordering::SeqCst)
    }
}

/// Formats a timestamp for people: `2026-11-27 21:31 UTC`.
pub fn format_utc(ms: Millis) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%d %H:%M UTC").to_string(),
        None => "invalid time".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1_000);
        assert_eq!(c.now_ms(), 1_000);
        c.advance_ms(2 * 60 * 60 * 1000);
        assert_eq!(c.now_ms(), 1_000 + 7_200_000);
    }

    #[test]
    fn scaled_clock_runs_faster() {
        let c = SystemClock::scaled(1000.0);
        let a = c.now_ms();
        std::thread::sleep(std::time::Duration::from_millis(20));
        // 20 ms real at 1000x is at least 10 s of clock time.
        assert!(c.now_ms() - a >= 10_000);
    }

    #[test]
    fn formats_utc() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
    }
}
