//! The dashboard: overview numbers (managers, agents) and the trend charts'
//! list with their numbers in words (managers). The charts themselves are
//! images served by `server/src/http/charts.rs`.

mod overview;
mod trends;

pub use overview::*;
pub use trends::*;

/// The preset ranges of the Trends page; anything else falls back to 30.
pub const TREND_RANGES: [i64; 3] = [7, 30, 90];

/// `days` if it is a preset range, else 30.
pub fn trend_days(days: Option<i64>) -> i64 {
    days.filter(|d| TREND_RANGES.contains(d)).unwrap_or(30)
}
