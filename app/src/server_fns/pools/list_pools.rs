use leptos::prelude::*;

use crate::types::PoolRow;

/// Sender pools (relay credentials never leave the server) with their last 7 days:
/// accepted, complaints, complaint rate, bounces by class. Managers and admins.
#[server(prefix = "/fn", endpoint = "pools/list")]
pub async fn list_pools() -> Result<Vec<PoolRow>, ServerFnError> {
    use crate::ssr::{engine_error, require_role, state};
    use engine::accounts::Role;
    use engine::delivery::transport::RelayUrl;
    let st = state()?;
    require_role(&[Role::Manager]).await?;
    let pools = engine::delivery::pools::list(&st.db)
        .await
        .map_err(engine_error)?;
    let health = engine::delivery::pools::health(
        &st.db,
        st.now() - engine::delivery::pools::HEALTH_WINDOW_MS,
    )
    .await
    .map_err(engine_error)?;
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
            id: p.id,
            relay: RelayUrl::parse(&p.relay_url)
                .map(|u| u.redacted())
                .unwrap_or_else(|_| "(invalid relay URL)".into()),
            name: p.name,
            role: p.role,
            from: format!("{} <{}>", p.from_name, p.from_address),
            enabled: p.enabled,
            max_per_second: p.max_per_second,
            position: p.position,
        })
        .collect())
}
