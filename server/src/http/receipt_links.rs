//! The customer's secure-link endpoints beside the Leptos page `/r/{token}`:
//! the PDF download and the "send me a fresh link" form (a plain HTML form,
//! so it works with JavaScript off). Public: the token is the credential,
//! and both are rate-limited per IP and per token like the page.

use app::ssr::AppState;
use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use engine::links::{self, Lookup};
use std::net::SocketAddr;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/r/{token}/receipt.pdf", get(pdf))
        .route("/r/{token}/fresh", post(fresh))
        .with_state(state)
}

fn client_ip(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> String {
    app::ssr::auth::client_ip_from(state.config.trust_forwarded_for, headers, Some(peer))
}

fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The browser's language for the plain answers (there is no order to ask).
fn browser_lang(state: &AppState, headers: &HeaderMap) -> engine::i18n::Lang {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    engine::i18n::resolve(None, state.config.shop.default_locale.as_deref(), accept)
}

fn plain(status: StatusCode, text: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

fn internal(e: engine::Error) -> Response {
    tracing::error!(error = %e, "receipt link request failed");
    plain(
        StatusCode::INTERNAL_SERVER_ERROR,
        engine::i18n::text("en", "page-error-body", &[]),
    )
}

/// The same per-IP and per-token limits as the page: a response when over.
async fn over_limit(
    state: &AppState,
    headers: &HeaderMap,
    now: i64,
    ip: &str,
    token: &str,
) -> Option<Response> {
    match links::within_limits(&state.db, now, ip, token, &state.config.links).await {
        Ok(true) => None,
        Ok(false) => Some(plain(
            StatusCode::TOO_MANY_REQUESTS,
            browser_lang(state, headers).t("page-limited-plain", &[]),
        )),
        Err(e) => Some(internal(e)),
    }
}

async fn pdf(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let now = state.now();
    let ip = client_ip(&state, peer, &headers);
    if let Some(refused) = over_limit(&state, &headers, now, &ip, &token).await {
        return refused;
    }
    let (link, order) = match links::lookup(&state.db, now, &token).await {
        Ok(Lookup::Valid { link, order }) => (link, order),
        Ok(Lookup::Stale { .. } | Lookup::Unknown) => {
            return plain(
                StatusCode::NOT_FOUND,
                browser_lang(&state, &headers).t("page-unavailable-plain", &[]),
            );
        }
        Err(e) => return internal(e),
    };
    let mut receipt = engine::receipt::Receipt::for_order(
        &order,
        &engine::receipt::Branding::from_config(&state.config),
    );
    // As on the page: the order's language, the shop's, else the browser's.
    receipt.locale = engine::i18n::resolve(
        order.customer_locale.as_deref(),
        state.config.shop.default_locale.as_deref(),
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
    .tag();
    let bytes = match engine::receipt::render_pdf(&receipt) {
        Ok(b) => b,
        Err(e) => return internal(engine::Error::Internal(e.to_string())),
    };
    if let Err(e) =
        links::record_use(&state.db, now, link.id, "pdf", &ip, &user_agent(&headers)).await
    {
        return internal(e);
    }
    if let Err(e) = engine::reach::mark(&state.db, order.id, now, "pdf_downloaded").await {
        return internal(e);
    }
    // Order numbers are validated at intake; keep the file name to safe characters anyway.
    let name: String = order
        .order_number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"receipt-{name}.pdf\""))
            .unwrap_or_else(|_| HeaderValue::from_static("attachment; filename=\"receipt.pdf\""));
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Always answers the same way (a redirect to the page with `?fresh=1`),
/// whether the token was ours or not, so it cannot be used to probe tokens.
async fn fresh(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let now = state.now();
    let ip = client_ip(&state, peer, &headers);
    if let Some(refused) = over_limit(&state, &headers, now, &ip, &token).await {
        return refused;
    }
    if let Err(e) = engine::fallback::support::fresh_link(
        &state.db,
        now,
        &token,
        &ip,
        &user_agent(&headers),
        &state.config.fallback,
    )
    .await
    {
        return internal(e);
    }
    if !links::looks_like_token(&token) {
        return Redirect::to("/r/invalid?fresh=1").into_response();
    }
    Redirect::to(&format!("/r/{token}?fresh=1")).into_response()
}
