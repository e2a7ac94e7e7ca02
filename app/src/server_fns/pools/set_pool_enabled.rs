use leptos::prelude::*;

/// Pauses or resumes a sender pool; paused pools take no sends or retries. Admins only.
#[server(prefix = "/fn", endpoint = "pools/set_enabled")]
pub async fn set_pool_enabled(pool_id: i64, enabled: bool) -> Result<(), ServerFnError> {
    use crate::ssr::{engine_error, require_role, state};
    let st = state()?;
    let admin = require_role(&[]).await?;
    engine::delivery::pools::set_enabled(&st.db, st.now(), pool_id, enabled)
        .await
        .map_err(engine_error)?;
    let action = if enabled { "pool.resume" } else { "pool.pause" };
    engine::audit::record(
        &st.db,
        st.now(),
        &admin.actor(),
        action,
        &format!("pool {pool_id}"),
        "",
    )
    .await
    .map_err(engine_error)?;
    Ok(())
}
