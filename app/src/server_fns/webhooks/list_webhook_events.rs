use leptos::prelude::*;

use crate::error::AppError;
use crate::types::WebhookEventsPage;

pub const WEBHOOK_PAGE_SIZE: i64 = 50;

/// Shop webhook events, newest first, optionally of one state (`pending`,
/// `delivered`, `failed`), 50 a page. Admins only.
#[server(prefix = "/fn", endpoint = "webhooks/list")]
pub async fn list_webhook_events(
    state_filter: Option<String>,
    before: Option<i64>,
) -> Result<WebhookEventsPage, AppError> {
    use crate::ssr::{require_admin, state};

    let st = state()?;
    require_admin().await?;
    let filter = state_filter.filter(|s| !s.is_empty());
    if let Some(f) = &filter
        && !matches!(f.as_str(), "pending" | "delivered" | "failed")
    {
        return Err(AppError::new(
            http::StatusCode::UNPROCESSABLE_ENTITY,
            "The state must be pending, delivered or failed.",
        ));
    }
    let events =
        engine::shop_webhooks::list(&st.db, filter.as_deref(), before, WEBHOOK_PAGE_SIZE).await?;
    let next_before = (events.len() as i64 == WEBHOOK_PAGE_SIZE)
        .then(|| events.last().map(|e| e.id))
        .flatten();
    Ok(WebhookEventsPage {
        rows: events.into_iter().map(event_row).collect(),
        next_before,
        url: st.config.shop_webhook.url.as_deref().map(without_secrets),
    })
}

/// The view of an event (shared with `get_webhook_event`).
#[cfg(feature = "ssr")]
pub(crate) fn event_row(e: engine::shop_webhooks::WebhookEvent) -> crate::types::WebhookEventRow {
    use engine::clock::format_utc;
    crate::types::WebhookEventRow {
        id: e.id,
        event_type: e.event_type,
        created_at: format_utc(e.created_at),
        next_attempt_at: (e.state == "pending").then(|| format_utc(e.next_attempt_at)),
        state: e.state,
        attempts: e.attempts,
        delivered_at: e.delivered_at.map(format_utc),
        last_error: e.last_error,
    }
}

/// The URL without a query or user info, which may carry the shop's tokens.
#[cfg(feature = "ssr")]
fn without_secrets(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            let host = authority.rsplit('@').next().unwrap_or(authority);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_string(),
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    #[test]
    fn hides_tokens_in_the_url() {
        assert_eq!(
            super::without_secrets("https://u:p@shop.example/hooks/rebound?token=x#y"),
            "https://shop.example/hooks/rebound"
        );
        assert_eq!(
            super::without_secrets("http://shop.example"),
            "http://shop.example"
        );
    }
}
