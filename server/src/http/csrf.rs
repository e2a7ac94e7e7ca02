//! Cross-site request forgery guard for everything cookie-authenticated.
//!
//! Session cookies are `SameSite=Strict` already; on top, any state-changing
//! request (not GET/HEAD/OPTIONS) that a browser marks as coming from another
//! site — by `Sec-Fetch-Site`, `Origin` or `Referer` — is refused with 403.
//! The shop API under `/api/` is exempt: it authenticates with API keys or
//! signatures, never cookies.

use app::ssr::AppState;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub async fn reject_cross_origin(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let safe_method = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe_method || req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    match verdict(req.headers(), state.config.public_url.as_deref()) {
        Ok(()) => next.run(req).await,
        Err(why) => {
            tracing::warn!(path = %req.uri().path(), why, "refused a cross-origin request");
            (
                StatusCode::FORBIDDEN,
                Json(json!({ "error": "cross-origin request refused", "reason": why })),
            )
                .into_response()
        }
    }
}

fn verdict(headers: &HeaderMap, public_url: Option<&str>) -> Result<(), &'static str> {
    let get = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return Err("Sec-Fetch-Site is not same-origin");
    }
    let source = get(header::ORIGIN.as_str()).or_else(|| get(header::REFERER.as_str()));
    let Some(source) = source else {
        // No browser sends a cross-site POST without Origin; scripts and CLIs
        // carry no session cookie of a victim.
        return Ok(());
    };
    if source == "null" {
        return Err("opaque origin");
    }
    let Some(source_host) = host_of(source) else {
        return Err("unreadable Origin/Referer");
    };
    let own_host = match public_url {
        Some(url) => host_of(url),
        None => get(header::HOST.as_str()).map(|h| h.to_ascii_lowercase()),
    };
    match own_host {
        Some(own) if own == source_host => Ok(()),
        _ => Err("Origin does not match this site"),
    }
}

/// `https://Example.com:8443/x?y` → `example.com:8443`.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn same_origin_passes_and_cross_origin_fails() {
        let own = [("host", "127.0.0.1:3000")];
        assert!(
            verdict(
                &headers(&[own[0], ("origin", "http://127.0.0.1:3000")]),
                None
            )
            .is_ok()
        );
        assert!(verdict(&headers(&[own[0], ("origin", "http://evil.example")]), None).is_err());
        assert!(
            verdict(
                &headers(&[own[0], ("referer", "http://evil.example/x")]),
                None
            )
            .is_err()
        );
        assert!(verdict(&headers(&[own[0], ("origin", "null")]), None).is_err());
        assert!(verdict(&headers(&[own[0], ("sec-fetch-site", "cross-site")]), None).is_err());
        assert!(verdict(&headers(&[own[0], ("sec-fetch-site", "same-site")]), None).is_err());
        assert!(verdict(&headers(&[own[0]]), None).is_ok());
    }

    #[test]
    fn public_url_wins_over_host() {
        let h = headers(&[
            ("host", "internal:3000"),
            ("origin", "https://rebound.shop.example"),
        ]);
        assert!(verdict(&h, Some("https://rebound.shop.example")).is_ok());
        assert!(verdict(&h, None).is_err());
    }
}
