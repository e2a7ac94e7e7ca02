//! Leptos answers a server-function call whose arguments do not parse with a
//! 500 (`Args|…` from leptos' own error type, `{"status": 400, …}` from
//! `app::error::AppError`). That is the caller's mistake, not ours: make it a 400 with the same
//! body, so monitoring never mistakes bad input for a server fault.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

/// Error bodies are short; anything larger is passed through untouched.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn bad_arguments_are_400(req: Request, next: Next) -> Response {
    let is_server_fn = req.uri().path().starts_with("/fn/");
    let res = next.run(req).await;
    if !is_server_fn || res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        parts.status = StatusCode::INTERNAL_SERVER_ERROR;
        return Response::from_parts(parts, Body::from("internal error"));
    };
    if bytes.starts_with(b"Args|") || bytes.starts_with(b"Deserialization|") {
        parts.status = StatusCode::BAD_REQUEST;
    } else if let Ok(e) = serde_json::from_slice::<app::error::AppError>(&bytes)
        && (400..500).contains(&e.status)
    {
        // A server function returning the app's error type: its own status.
        parts.status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    }
    Response::from_parts(parts, Body::from(bytes))
}
