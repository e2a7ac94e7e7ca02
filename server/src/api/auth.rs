use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, ApiState};

/// Requires a live API key in `Authorization: Bearer …`.
pub async fn require_api_key(State(state): State<ApiState>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(presented) = presented else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing API key: send `Authorization: Bearer rbk_…`",
        )
        .into_response();
    };
    match engine::apikeys::authenticate(&state.db, state.clock.now_ms(), presented).await {
        Ok(Some(_)) => next.run(req).await,
        Ok(None) => {
            ApiError::new(StatusCode::UNAUTHORIZED, "unknown or revoked API key").into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
