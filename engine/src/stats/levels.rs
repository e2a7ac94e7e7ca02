//! Where a rate stands: the thresholds, the levels, and when a level is
//! earned at all (enough samples, and evidence beyond the point estimate).

use serde::{Deserialize, Serialize};

/// Bounce rates at or above 5 % of sent are a warning (mailbox providers' guidance).
pub const BOUNCE_RATE_WARNING: f64 = 0.05;
/// Bounce rates at or above 10 % of sent are critical.
pub const BOUNCE_RATE_CRITICAL: f64 = 0.10;
pub use crate::delivery::pools::{COMPLAINT_RATE_CRITICAL, COMPLAINT_RATE_WARNING};
/// A rate measured on fewer sends (or orders) than this is shown, drawn
/// hollow and grey, but never rated OK, warning or critical: 3 bounces of 15
/// sends say nothing about a sender's reputation.
pub const MIN_SAMPLE: i64 = 20;
/// A reach rate below 95 % of orders is a warning, below 90 % critical.
pub const REACH_RATE_WARNING: f64 = 0.95;
pub const REACH_RATE_CRITICAL: f64 = 0.90;
/// A median time to receipt from 5 minutes is a warning, from 30 critical.
pub const TTR_MEDIAN_WARNING_MIN: f64 = 5.0;
pub const TTR_MEDIAN_CRITICAL_MIN: f64 = 30.0;

/// Where a rate stands against its thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Level {
    Ok,
    Warning,
    Critical,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Critical => "critical",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warning => "Warning",
            Level::Critical => "Critical",
        }
    }

    fn of(rate: Option<f64>, warning: f64, critical: f64) -> Level {
        match rate {
            Some(r) if r >= critical => Level::Critical,
            Some(r) if r >= warning => Level::Warning,
            _ => Level::Ok,
        }
    }
}

/// A bounce rate against 5 % (warning) and 10 % (critical).
pub fn bounce_level(rate: Option<f64>) -> Level {
    Level::of(rate, BOUNCE_RATE_WARNING, BOUNCE_RATE_CRITICAL)
}

/// A complaint rate against 0.1 % (warning) and 0.3 % (critical).
pub fn complaint_level(rate: Option<f64>) -> Level {
    Level::of(rate, COMPLAINT_RATE_WARNING, COMPLAINT_RATE_CRITICAL)
}

/// A reach rate against 95 % (warning below) and 90 % (critical below).
pub fn reach_level(rate: Option<f64>) -> Level {
    match rate {
        Some(r) if r < REACH_RATE_CRITICAL => Level::Critical,
        Some(r) if r < REACH_RATE_WARNING => Level::Warning,
        _ => Level::Ok,
    }
}

/// A median time to receipt (minutes) against 5 (warning) and 30 (critical).
pub fn ttr_level(minutes: Option<f64>) -> Level {
    Level::of(minutes, TTR_MEDIAN_WARNING_MIN, TTR_MEDIAN_CRITICAL_MIN)
}

/// Whether a rate over `of` sends (or orders) is worth a level at all.
pub fn rated(of: i64) -> bool {
    of >= MIN_SAMPLE
}

/// Which way a rate goes wrong: bounce and complaint rates are bad when high,
/// the reach rate when low.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worse {
    Higher,
    Lower,
}

/// The level `count` of `of` earns, or `None` when it is too few to say.
///
/// A level other than OK needs evidence, not only a point estimate: the 95 %
/// Wilson score bound on the kind side (the lower bound when higher is worse)
/// must itself be past the warning threshold. 3 bounces in 25 sends are
/// 12 %, but as likely to come from a 4 % rate, so they are not "Critical"
/// but too few to rate; 20 in 200 (at least 6.6 %) are. Fewer than
/// [`MIN_SAMPLE`] is never rated.
pub fn evidenced_level(
    count: i64,
    of: i64,
    level: fn(Option<f64>) -> Level,
    worse: Worse,
) -> Option<Level> {
    if !rated(of) {
        return None;
    }
    let point = level(Some(count as f64 / of as f64));
    if point == Level::Ok {
        return Some(Level::Ok);
    }
    let (lower, upper) = wilson_interval(count, of);
    let kind = match worse {
        Worse::Higher => lower,
        Worse::Lower => upper,
    };
    (level(Some(kind)) != Level::Ok).then_some(point)
}

/// The 95 % Wilson score interval of a proportion (`of` > 0).
pub fn wilson_interval(count: i64, of: i64) -> (f64, f64) {
    const Z: f64 = 1.959_963_984_540_054;
    let n = of as f64;
    let p = count as f64 / n;
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}
