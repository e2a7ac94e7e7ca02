use leptos::prelude::*;

use crate::error::AppError;
use crate::types::OutboxMessage;

/// One captured message: headers, HTML, text and raw source. Admins only.
#[server(prefix = "/fn", endpoint = "outbox/get")]
pub async fn get_captured(id: i64) -> Result<OutboxMessage, AppError> {
    use crate::ssr::{require_admin, state};
    use crate::types::OutboxRow;
    let st = state()?;
    require_admin().await?;
    let m = engine::delivery::outbox::get(&st.db, id)
        .await?
        .ok_or_else(|| {
            AppError::new(
                http::StatusCode::NOT_FOUND,
                "That message is not in the outbox.",
            )
        })?;
    let pools = engine::delivery::pools::list(&st.db).await?;
    let parts = engine::delivery::outbox::parts(&m.raw);
    Ok(OutboxMessage {
        row: OutboxRow {
            id: m.id,
            created_at: engine::clock::format_utc(m.created_at),
            pool: engine::delivery::pools::name_of(&pools, m.pool_id),
            to: m.envelope_to,
            subject: m.subject,
        },
        envelope_from: m.envelope_from,
        message_id: m.message_id,
        headers: parts.headers,
        html: parts.html,
        text: parts.text,
        raw: m.raw,
    })
}
