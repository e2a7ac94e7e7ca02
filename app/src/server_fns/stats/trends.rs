use leptos::prelude::*;

use crate::types::TrendsView;

/// The trend charts for the last `days` days (7, 30 or 90), each with its
/// numbers in words; the images are `/charts/<name>.svg?days=N`. Managers.
#[server(prefix = "/fn", endpoint = "stats/trends")]
pub async fn stats_trends(days: Option<i64>) -> Result<TrendsView, ServerFnError> {
    use crate::ssr::{engine_error, require_role, state};
    use crate::types::TrendChart;
    use engine::accounts::Role;
    use engine::stats::{self, charts};
    let st = state()?;
    require_role(&[Role::Manager]).await?;
    let days = super::trend_days(days);
    let today = stats::day_of(st.now());
    let from = today - days + 1;
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
        days,
        from: stats::day_text(from),
        to: stats::day_text(today),
        charts: out,
    })
}
