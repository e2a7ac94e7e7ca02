use leptos::prelude::*;

use crate::types::OutboxRow;

/// Messages the development capture transport kept, newest first. Admins only.
#[server(prefix = "/fn", endpoint = "outbox/list")]
pub async fn list_outbox() -> Result<Vec<OutboxRow>, ServerFnError> {
    use crate::ssr::{engine_error, require_role, state};
    let st = state()?;
    require_role(&[]).await?;
    let pools = engine::delivery::pools::list(&st.db)
        .await
        .map_err(engine_error)?;
    let rows = engine::delivery::outbox::list(&st.db, None, 100)
        .await
        .map_err(engine_error)?;
    Ok(rows
        .into_iter()
        .map(|m| OutboxRow {
            id: m.id,
            created_at: engine::clock::format_utc(m.created_at),
            pool: engine::delivery::pools::name_of(&pools, m.pool_id),
            to: m.envelope_to,
            subject: m.subject,
        })
        .collect())
}
