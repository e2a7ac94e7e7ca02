use leptos::prelude::*;

use crate::types::PoolRow;

/// Sender pools (relay credentials never leave the server). Managers and admins.
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
    Ok(pools
        .into_iter()
        .map(|p| PoolRow {
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
