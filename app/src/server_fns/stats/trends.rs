use leptos::prelude::*;

use crate::error::AppError;
use crate::types::TrendsView;

/// The trend charts for the last `days` days (7, 30 or 90), or for the
/// custom UTC dates `from`–`to` (`YYYY-MM-DD`, at most a year), each drawn
/// (for desktop and for phones) with its numbers in words; the same drawing
/// as a file is `/charts/<name>.svg?days=N` (or `?from=…&to=…`). Managers.
#[server(prefix = "/fn", endpoint = "stats/trends")]
pub async fn stats_trends(
    days: Option<i64>,
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
) -> Result<TrendsView, AppError> {
    use crate::ssr::{require_role, state};
    use crate::types::TrendChart;
    use engine::accounts::Role;
    use engine::stats::svg::{NARROW, WIDE};
    use engine::stats::{self, charts};
    let st = state()?;
    require_role(&[Role::Manager]).await?;
    let today = stats::day_of(st.now());
    let range = super::trend_range(days, from.as_deref(), to.as_deref(), today)
        .map_err(engine::Error::invalid)?;
    let (from, today) = (range.from, range.to);
    let mut out = Vec::new();
    for kind in charts::ChartKind::ALL {
        let data = charts::build(&st.db, kind, from, today).await?;
        out.push(TrendChart {
            name: kind.name().into(),
            title: kind.title().into(),
            description: kind.description().into(),
            summary: data.summary(),
            svg_wide: data.svg(&WIDE),
            svg_narrow: data.svg(&NARROW),
        });
    }
    Ok(TrendsView {
        days: range.preset.unwrap_or(today - from + 1),
        custom: range.preset.is_none(),
        from: stats::day_text(from),
        to: stats::day_text(today),
        charts: out,
    })
}
