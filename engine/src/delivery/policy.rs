//! The retry schedule: after the first, second and third soft failure, wait
//! 5 minutes, 30 minutes and 2 hours; after the fourth, hold.

use regex::Regex;
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay after failed attempt n (1-based) is `delays_ms[n - 1]`.
    pub delays_ms: Vec<i64>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            delays_ms: vec![5 * 60_000, 30 * 60_000, 2 * 60 * 60_000],
        }
    }
}

impl RetryPolicy {
    /// The schedule configured in `delivery.retry_delays_seconds`.
    pub fn from_config(cfg: &crate::config::DeliveryConfig) -> Self {
        Self {
            delays_ms: cfg.retry_delays_seconds.iter().map(|s| s * 1000).collect(),
        }
    }

    /// The wait after failed attempt `attempt_no`, or `None` when retries are used up.
    pub fn delay_after(&self, attempt_no: i64) -> Option<i64> {
        usize::try_from(attempt_no - 1)
            .ok()
            .and_then(|i| self.delays_ms.get(i).copied())
    }
}

/// A server's "try again in N seconds/minutes" hint, in milliseconds.
pub fn retry_hint_ms(text: &str) -> Option<i64> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let re = RE
        .get_or_init(|| {
            Regex::new(r"(?i)(?:try again|retry|wait)\D{0,20}?(\d{1,6})\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?)\b").ok()
        })
        .as_ref()?;
    let caps = re.captures(text)?;
    let n: i64 = caps.get(1)?.as_str().parse().ok()?;
    let unit = caps.get(2)?.as_str().to_ascii_lowercase();
    let factor = match unit.chars().next()? {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        _ => return None,
    };
    Some((n * factor).min(24 * 3_600_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_retry_hints() {
        assert_eq!(
            retry_hint_ms("4.7.0 Try again in 900 seconds"),
            Some(900_000)
        );
        assert_eq!(
            retry_hint_ms("Please retry after 45 minutes"),
            Some(45 * 60_000)
        );
        assert_eq!(
            retry_hint_ms("421 4.7.0 [TSS04] Messages temporarily deferred"),
            None
        );
    }
}
