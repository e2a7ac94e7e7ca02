use leptos::prelude::*;

use crate::types::TrendsView;

/// The trend charts for the last `days` days (7, 30 or 90), or for the
/// custom UTC dates `from`–`to` (`YYYY-MM-DD`, at most a year), each with its
/// numbers in words; the images are `/charts/<name>.svg?days=N` (or
/// `?from=…&to=…`). Managers.
#[server(prefix = "/fn", endpoint = "stats/trends")]
pub async fn stats_trends(
    days: Option<i64>,
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
) -> Result<TrendsView, ServerFnError> {
    use crate::ssr::{engine_error, require_role, state};
    use crate::types::TrendChart;
    use engine::accounts::Role;
    use engine::stats::{self, charts};
    let st = state()?;
    require_role(&[Role::Manager]).await?;
    let today = stats::day_of(st.now());
    let range = super::trend_range(days, from.as_deref(), to.as_deref(), today)
        .map_err(|e| engine_error(engine::Error::invalid(e)))?;
    let (from, today) = (range.from, range.to);
    let mut out = Vec::new();
    for kind in charts::ChartKind::ALL {
        let data = charts::build(&st.db, kind, from, today)
            .await
            .map_err(engine_error)?;
        out.push(TrendChart {
            name: kind.name().into(),
            title: kind.title().into(),
            description: kind.description().into(),
            summary: data.summary(),
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
