use leptos::prelude::*;

use crate::error::AppError;
use crate::types::PoolHealthView;

/// The health guard's thresholds, rolling rates per pool × recipient provider,
/// and the pairs traffic shaping has slowed. Managers and admins.
#[server(prefix = "/fn", endpoint = "pools/health")]
pub async fn pool_health() -> Result<PoolHealthView, AppError> {
    use super::list_pools::health_windows;
    use crate::ssr::{require_role, state};
    use crate::types::{PoolPairRow, SlowedPairRow};
    use engine::accounts::Role;
    use engine::delivery::{guard, pace, pools};
    let st = state()?;
    require_role(&[Role::Manager]).await?;
    let now = st.now();
    let cfg = &st.config.pool_health;
    let all = pools::list(&st.db).await?;
    let pairs = guard::rates(&st.db, now, true)
        .await?
        .into_iter()
        .map(|r| PoolPairRow {
            pool: pools::name_of(&all, r.pool_id),
            provider: r.provider.unwrap_or_default(),
            windows: health_windows(&r.windows, cfg),
        })
        .collect();
    let slowed = pace::slowed(&st.db, now)
        .await?
        .into_iter()
        .map(|s| SlowedPairRow {
            pool: pools::name_of(&all, s.pool_id),
            provider: s.provider,
            how: format!(
                "{}× slower until {}",
                s.slow_factor,
                engine::clock::format_utc(s.slow_until)
            ),
            rule: s.slow_rule.unwrap_or_default(),
            reason: s.slow_reason.unwrap_or_default(),
        })
        .collect();
    let pct = |r: f64| format!("{} %", (r * 1000.0).round() / 10.0);
    let thresholds = if cfg.enabled {
        format!(
            "A pool is demoted (tried after the others) at {} bounces or {} complaints, and paused at {} bounces or {} complaints, in any of the last hour, day or week once that window holds {} attempts. Only an admin resumes a paused pool; its rates then start over.",
            pct(cfg.bounce_demote),
            pct(cfg.complaint_demote),
            pct(cfg.bounce_pause),
            pct(cfg.complaint_pause),
            cfg.min_sends
        )
    } else {
        "The automatic health guard is off (`pool_health.enabled = false`): rates are shown, nothing is paused.".into()
    };
    Ok(PoolHealthView {
        thresholds,
        pairs,
        slowed,
    })
}
