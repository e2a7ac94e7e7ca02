use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::views::ErrorBody;
use super::{ApiError, ApiState};

/// Answer to `POST /api/v1/inbound/bounce`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BounceIngested {
    /// One stored bounce per recipient the message reported.
    pub bounce_ids: Vec<i64>,
    /// Recipients tied to a send attempt (by VERP token, Message-ID or recipient).
    pub matched: usize,
    /// Recipients no send could be tied to: kept and shown, never dropped.
    pub unmatched: usize,
}

/// Hand Rebound a raw bounce, DSN, ARF complaint or auto-reply (RFC 5322
/// bytes), e.g. from your own MX. It is classified, tied to the send it
/// answers, and acted on.
#[utoipa::path(
    post,
    path = "/api/v1/inbound/bounce",
    request_body(content = String, content_type = "message/rfc822", description = "The raw message"),
    responses(
        (status = 202, description = "Stored and applied", body = BounceIngested),
        (status = 401, description = "Missing, unknown or revoked API key", body = ErrorBody),
        (status = 413, description = "Over 10 MiB", body = ErrorBody),
        (status = 422, description = "Not a readable message", body = ErrorBody),
    ),
    security(("api_key" = [])),
)]
pub async fn inbound(
    State(state): State<ApiState>,
    body: Bytes,
) -> Result<(StatusCode, Json<BounceIngested>), ApiError> {
    let policy = engine::delivery::policy::RetryPolicy::from_config(&state.config.delivery);
    let got = engine::bounces::ingest_message(
        &state.db,
        state.clock.now_ms(),
        engine::bounce::Classifier::shared(),
        &policy,
        &body,
        "dsn",
    )
    .await?;
    state.wake.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        Json(BounceIngested {
            bounce_ids: got.bounce_ids,
            matched: got.matched,
            unmatched: got.unmatched,
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SuppressionQuery {
    /// Part of an address to look for; all when absent.
    pub search: Option<String>,
}

/// Active suppressions (addresses Rebound will not mail).
#[utoipa::path(
    get,
    path = "/api/v1/suppressions",
    params(SuppressionQuery),
    responses(
        (status = 200, description = "Active suppressions, newest first", body = Vec<engine::suppression::Suppression>),
        (status = 401, description = "Missing, unknown or revoked API key", body = ErrorBody),
    ),
    security(("api_key" = [])),
)]
pub async fn list(
    State(state): State<ApiState>,
    Query(q): Query<SuppressionQuery>,
) -> Result<Json<Vec<engine::suppression::Suppression>>, ApiError> {
    let rows = engine::suppression::list(
        &state.db,
        state.clock.now_ms(),
        q.search.as_deref().unwrap_or(""),
        1000,
    )
    .await?;
    Ok(Json(rows))
}

/// Releases a suppressed address so it can be mailed again.
#[utoipa::path(
    delete,
    path = "/api/v1/suppressions/{email}",
    params(("email" = String, Path, description = "The suppressed address")),
    responses(
        (status = 204, description = "Released"),
        (status = 401, description = "Missing, unknown or revoked API key", body = ErrorBody),
        (status = 404, description = "Not suppressed", body = ErrorBody),
        (status = 422, description = "Not an email address", body = ErrorBody),
    ),
    security(("api_key" = [])),
)]
pub async fn release(
    State(state): State<ApiState>,
    Path(email): Path<String>,
) -> Result<StatusCode, ApiError> {
    let now = state.clock.now_ms();
    engine::suppression::release(&state.db, now, &email, "api").await?;
    engine::audit::record(
        &state.db,
        now,
        &engine::audit::Actor {
            user_id: None,
            name: "api".into(),
            ip: None,
        },
        "suppression.release",
        &engine::privacy::mask_email(&email),
        "via API",
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
