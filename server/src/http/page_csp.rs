//! Each page's Content-Security-Policy, set here rather than from inside the
//! render: the render context records the nonce Leptos put on the page's
//! scripts in a slot the request carries, and every HTML response that was
//! rendered leaves with the policy naming it. The header then never depends on
//! how the render went (a lazily loaded route, a 404, an error).

use std::sync::{Arc, OnceLock};

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use leptos::nonce::{Nonce, use_nonce};
use leptos::prelude::use_context;

/// Where the render leaves this request's script nonce.
#[derive(Clone, Default)]
struct NonceSlot(Arc<OnceLock<Nonce>>);

/// Middleware around the Leptos routes: gives the request its slot and puts
/// the policy on an HTML response whose render filled it.
pub async fn with_page_csp(mut req: Request, next: Next) -> Response {
    let slot = NonceSlot::default();
    req.extensions_mut().insert(slot.clone());
    let mut res = next.run(req).await;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html
        && let Some(nonce) = slot.0.get()
        && let Ok(value) = HeaderValue::from_str(&app::content_security_policy(nonce))
    {
        res.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    res
}

/// Part of the render context: records the nonce Leptos made for this
/// response's scripts in the request's slot.
pub fn record_nonce() {
    if let (Some(parts), Some(nonce)) = (use_context::<http::request::Parts>(), use_nonce())
        && let Some(slot) = parts.extensions.get::<NonceSlot>()
    {
        let _ = slot.0.set(nonce);
    }
}
