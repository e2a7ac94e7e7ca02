//! Each page's Content-Security-Policy, set here rather than from inside the
//! render: a nonce is made per request before Leptos runs, Leptos puts it on
//! its scripts (the render context reads it from the request), and every HTML
//! response leaves with the policy that names it. The header then never
//! depends on how the render went (a lazily loaded route, a 404, an error).

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};

/// The nonce of the request being rendered, carried in its extensions.
#[derive(Clone)]
struct PageNonce(Nonce);

/// Middleware around the Leptos routes: makes the request's nonce and puts
/// the policy on an HTML response.
pub async fn with_page_csp(mut req: Request, next: Next) -> Response {
    let nonce = Nonce::new();
    req.extensions_mut().insert(PageNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html && let Ok(value) = HeaderValue::from_str(&app::content_security_policy(&nonce)) {
        res.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    res
}

/// Part of the render context: hands Leptos the request's nonce (in place of
/// the one it would make itself), so its scripts carry what the header names.
pub fn provide_request_nonce() {
    let nonce = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<PageNonce>().cloned());
    if let Some(PageNonce(nonce)) = nonce {
        provide_context(nonce);
    }
}
