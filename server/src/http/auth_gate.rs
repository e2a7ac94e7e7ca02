//! Staff pages need a signed-in session; without one a browser is sent to the
//! sign-in page (works with JavaScript off). Server functions check roles
//! themselves; this gate only spares signed-out visitors an empty page.

use app::ssr::auth::USER_ID_KEY;
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

/// Paths anyone may fetch: sign-in, assets, server functions (they check
/// roles), the shop API (API keys), health, customer receipt links.
const PUBLIC_PREFIXES: &[&str] = &[
    "/login", "/pkg/", "/fn/", "/api/", "/healthz", "/readyz", "/metrics", "/r/", "/favicon",
];

pub async fn require_sign_in(session: Session, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let is_page_read = req.method() == Method::GET || req.method() == Method::HEAD;
    if !is_page_read || PUBLIC_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return next.run(req).await;
    }
    let signed_in = session
        .get::<i64>(USER_ID_KEY)
        .await
        .ok()
        .flatten()
        .is_some();
    if signed_in {
        return next.run(req).await;
    }
    let target = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    let to = if target == "/" {
        "/login".to_string()
    } else {
        format!("/login?next={}", urlencode(target))
    };
    Redirect::to(&to).into_response()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_queries() {
        assert_eq!(
            super::urlencode("/admin/audit?before=5"),
            "/admin/audit%3Fbefore%3D5"
        );
    }
}
