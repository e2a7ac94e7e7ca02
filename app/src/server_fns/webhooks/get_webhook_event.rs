use leptos::prelude::*;

use crate::error::AppError;
use crate::types::WebhookEventDetail;

/// One shop webhook event: the JSON body sent and every delivery try. Admins only.
#[server(prefix = "/fn", endpoint = "webhooks/get")]
pub async fn get_webhook_event(id: i64) -> Result<WebhookEventDetail, AppError> {
    use super::list_webhook_events::event_row;
    use crate::ssr::{require_admin, state};
    use crate::types::WebhookDeliveryRow;

    let st = state()?;
    require_admin().await?;
    let event = engine::shop_webhooks::get(&st.db, id)
        .await?
        .ok_or_else(|| AppError::new(http::StatusCode::NOT_FOUND, "There is no such event."))?;
    let deliveries = engine::shop_webhooks::deliveries(&st.db, id).await?;
    Ok(WebhookEventDetail {
        body: engine::shop_webhooks::event_body_pretty(&event),
        row: event_row(event),
        deliveries: deliveries
            .into_iter()
            .map(|d| WebhookDeliveryRow {
                attempt: d.attempt,
                at: engine::clock::format_utc(d.at),
                status_code: d.status_code,
                error: d.error,
                duration_ms: d.duration_ms,
            })
            .collect(),
    })
}
