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

/// The longest custom range of the Trends page, in days.
pub const MAX_TREND_DAYS: i64 = 366;

/// The UTC days a Trends request covers (inclusive day numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrendRange {
    pub from: i64,
    pub to: i64,
    /// `Some(days)` for a preset, `None` for a custom range.
    pub preset: Option<i64>,
}

/// A preset (`days`), or a custom `from`–`to` when either date is given (both
/// `YYYY-MM-DD`, UTC, inclusive, not after today, at most [`MAX_TREND_DAYS`]).
/// Empty dates count as not given (a submitted form sends them empty). The
/// error says what to change.
#[cfg(feature = "ssr")]
pub fn trend_range(
    days: Option<i64>,
    from: Option<&str>,
    to: Option<&str>,
    today: i64,
) -> Result<TrendRange, String> {
    fn given(d: Option<&str>) -> Option<&str> {
        d.map(str::trim).filter(|d| !d.is_empty())
    }
    let (from, to) = match (given(from), given(to)) {
        (None, None) => {
            let days = trend_days(days);
            return Ok(TrendRange {
                from: today - days + 1,
                to: today,
                preset: Some(days),
            });
        }
        (Some(f), Some(t)) => (f, t),
        _ => return Err("Give both a start and an end date for a custom range.".into()),
    };
    let day = |d: &str| {
        engine::stats::day_from_text(d)
            .ok_or_else(|| format!("“{}” is not a date: use YYYY-MM-DD.", short(d)))
    };
    let (from, to) = (day(from)?, day(to)?);
    if from > to {
        return Err("The start date is after the end date.".into());
    }
    if to > today {
        return Err("The end date is in the future: the last day with data is today.".into());
    }
    if to - from + 1 > MAX_TREND_DAYS {
        return Err(format!(
            "A custom range can span at most {MAX_TREND_DAYS} days."
        ));
    }
    Ok(TrendRange {
        from,
        to,
        preset: None,
    })
}

/// At most 20 characters of user input, for an error message.
#[cfg(feature = "ssr")]
fn short(text: &str) -> String {
    text.chars().take(20).collect()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    const TODAY: i64 = 20_786; // 2026-11-29

    #[test]
    fn a_range_is_a_preset_or_two_valid_dates() {
        let preset = trend_range(Some(7), None, Some(" "), TODAY).expect("a range");
        assert_eq!(
            (preset.from, preset.to, preset.preset),
            (TODAY - 6, TODAY, Some(7))
        );
        assert_eq!(
            trend_range(Some(12), None, None, TODAY)
                .expect("a range")
                .preset,
            Some(30)
        );
        let custom =
            trend_range(Some(7), Some("2026-11-01"), Some("2026-11-10"), TODAY).expect("a range");
        assert_eq!(
            (custom.from, custom.to, custom.preset),
            (TODAY - 28, TODAY - 19, None)
        );
        let one_day =
            trend_range(None, Some("2026-11-29"), Some("2026-11-29"), TODAY).expect("a range");
        assert_eq!(one_day.from, one_day.to);
        for (from, to, says) in [
            (Some("2026-11-01"), None, "both"),
            (Some("2026-11-10"), Some("2026-11-01"), "after the end"),
            (Some("2026-11-01"), Some("2026-11-30"), "future"),
            (Some("2024-01-01"), Some("2026-11-01"), "at most 366"),
            (Some("yesterday<script>"), Some("2026-11-01"), "not a date"),
        ] {
            let e = trend_range(None, from, to, TODAY).expect_err("refused");
            assert!(e.contains(says), "{from:?}..{to:?}: {e}");
        }
    }
}
