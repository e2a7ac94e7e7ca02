use leptos::prelude::*;

use crate::error::AppError;
use crate::types::PoolRow;

/// Sender pools (relay credentials never leave the server) with their last 7 days:
/// accepted, complaints, complaint rate, bounces by class. Managers and admins.
#[server(prefix = "/fn", endpoint = "pools/list")]
pub async fn list_pools() -> Result<Vec<PoolRow>, AppError> {
    use crate::ssr::{require_role, state};
    use engine::accounts::Role;
    use engine::delivery::relay_url::RelayUrl;
    let st = state()?;
    require_role(&[Role::Manager]).await?;
    let pools = engine::delivery::pools::list(&st.db).await?;
    let health = engine::delivery::pools::health(
        &st.db,
        st.now() - engine::delivery::pools::HEALTH_WINDOW_MS,
    )
    .await?;
    let rates = engine::delivery::guard::rates(&st.db, st.now(), false).await?;
    let from_file = engine::pool_file::file_managed(&st.db).await?;
    let cfg = &st.config.pool_health;
    Ok(pools
        .into_iter()
        .map(|p| {
            let h = health.iter().find(|h| h.pool_id == p.id);
            (p, h)
        })
        .map(|(p, h)| PoolRow {
            accepted_7d: h.map_or(0, |h| h.accepted),
            complaints_7d: h.map_or(0, |h| h.complaints),
            complaint_rate: h
                .and_then(|h| h.complaint_rate())
                .map(|r| format!("{:.2} %", r * 100.0))
                .unwrap_or_else(|| "—".into()),
            complaint_level: h
                .map(|h| h.complaint_level().as_str())
                .unwrap_or("ok")
                .into(),
            bounces_7d: h.map(|h| h.bounces.clone()).unwrap_or_default(),
            health: health_windows(
                rates
                    .iter()
                    .find(|r| r.pool_id == p.id)
                    .map(|r| r.windows.as_slice())
                    .unwrap_or_default(),
                cfg,
            ),
            health_state: p.health_state,
            health_reason: p.health_reason,
            relay_down: p.relay_down_since.map(|t| {
                format!(
                    "Relay not answering since {}: {}",
                    engine::clock::format_utc(t),
                    p.relay_reason.clone().unwrap_or_default()
                )
            }),
            id: p.id,
            relay: RelayUrl::parse(&p.relay_url)
                .map(|u| u.redacted())
                .unwrap_or_else(|_| "(invalid relay URL)".into()),
            name: p.name,
            role: p.role,
            from: format!("{} <{}>", p.from_name, p.from_address),
            enabled: p.enabled,
            from_file: from_file.contains(&p.id),
            smtputf8: p.smtputf8,
            max_per_second: p.max_per_second,
            position: p.position,
        })
        .collect())
}

/// Windows as the pools page shows them, each with its level against the
/// thresholds (warning: over a demotion threshold; critical: over a pause one).
#[cfg(feature = "ssr")]
pub(crate) fn health_windows(
    windows: &[engine::delivery::guard::WindowCounts],
    cfg: &engine::config::PoolHealthConfig,
) -> Vec<crate::types::HealthWindowView> {
    let pct = |r: Option<f64>| r.map_or_else(|| "—".to_string(), |r| format!("{:.2} %", r * 100.0));
    windows
        .iter()
        .map(|w| {
            let counts = w.sends >= cfg.min_sends;
            let (b, c) = (
                w.bounce_rate().unwrap_or(0.0),
                w.complaint_rate().unwrap_or(0.0),
            );
            let level = if counts && (b >= cfg.bounce_pause || c >= cfg.complaint_pause) {
                "critical"
            } else if counts && (b >= cfg.bounce_demote || c >= cfg.complaint_demote) {
                "warning"
            } else {
                "ok"
            };
            crate::types::HealthWindowView {
                label: w.label.clone(),
                sends: w.sends,
                bounce: pct(w.bounce_rate()),
                deferral: pct(w.deferral_rate()),
                complaint: pct(w.complaint_rate()),
                level: level.into(),
            }
        })
        .collect()
}
