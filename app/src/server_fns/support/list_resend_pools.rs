use leptos::prelude::*;

use crate::error::AppError;
use crate::types::PoolChoice;

/// The enabled sender pools, for "re-send via a chosen pool". Agents.
#[server(prefix = "/fn", endpoint = "support/resend_pools")]
pub async fn list_resend_pools() -> Result<Vec<PoolChoice>, AppError> {
    use crate::ssr::{require_role, state};
    let st = state()?;
    require_role(&[engine::accounts::Role::Agent]).await?;
    Ok(engine::delivery::pools::list(&st.db)
        .await?
        .into_iter()
        .filter(|p| p.enabled)
        .map(|p| PoolChoice {
            id: p.id,
            name: p.name,
            role: p.role,
        })
        .collect())
}
