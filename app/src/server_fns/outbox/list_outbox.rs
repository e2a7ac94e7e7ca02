use leptos::prelude::*;

use crate::error::AppError;
use crate::types::OutboxRow;

/// Messages the development capture transport kept, newest first. Admins only.
#[server(prefix = "/fn", endpoint = "outbox/list")]
pub async fn list_outbox() -> Result<Vec<OutboxRow>, AppError> {
    use crate::ssr::{require_admin, state};
    let st = state()?;
    require_admin().await?;
    let pools = engine::delivery::pools::list(&st.db).await?;
    let rows = engine::delivery::outbox::list(&st.db, None, 100).await?;
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
