use leptos::prelude::*;

use crate::error::AppError;

/// Pauses or resumes a sender pool; paused pools take no sends or retries. Admins only.
#[server(prefix = "/fn", endpoint = "pools/set_enabled")]
pub async fn set_pool_enabled(pool_id: i64, enabled: bool) -> Result<(), AppError> {
    use crate::ssr::{require_admin, state};
    let st = state()?;
    let admin = require_admin().await?;
    engine::delivery::pools::set_enabled_by(&st.db, st.now(), &admin.actor(), pool_id, enabled)
        .await?;
    Ok(())
}
