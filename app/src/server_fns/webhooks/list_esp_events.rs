use leptos::prelude::*;

use crate::error::AppError;
use serde::{Deserialize, Serialize};

/// Event kinds a provider posted that Rebound does not know (answered 200, counted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EspUnknownKindRow {
    pub provider: String,
    pub kind: String,
    pub seen: i64,
    pub first_at: String,
    pub last_at: String,
}

/// Refused ESP webhook requests (bad or missing authentication) for one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EspRejectionRow {
    pub provider: String,
    pub reason: String,
    pub rejected: i64,
    pub last_at: String,
}

/// What the ESP webhooks have seen that needs an admin's eye.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EspWebhookHealth {
    pub unknown: Vec<EspUnknownKindRow>,
    pub rejections: Vec<EspRejectionRow>,
}

/// Unknown ESP event kinds and refused ESP webhook requests, by provider. Admins only.
#[server(prefix = "/fn", endpoint = "webhooks/esp_events")]
pub async fn list_esp_events() -> Result<EspWebhookHealth, AppError> {
    use crate::ssr::{require_admin, state};
    use engine::clock::format_utc;

    let st = state()?;
    require_admin().await?;
    let unknown = engine::bounce::esp::store::unknown_kinds(&st.db).await?;
    let rejections = engine::bounces::webhook_rejections(&st.db).await?;
    Ok(EspWebhookHealth {
        unknown: unknown
            .into_iter()
            .map(|u| EspUnknownKindRow {
                provider: u.provider,
                kind: u.kind,
                seen: u.seen,
                first_at: format_utc(u.first_at),
                last_at: format_utc(u.last_at),
            })
            .collect(),
        rejections: rejections
            .into_iter()
            .map(|r| EspRejectionRow {
                provider: r.provider,
                reason: r.reason,
                rejected: r.rejected,
                last_at: format_utc(r.last_at),
            })
            .collect(),
    })
}
