use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use engine::orders::{FieldError, Intake, OrderInput};
use serde_json::json;

use super::{ApiError, ApiState};

/// `POST /api/v1/orders`: validate, store, queue the receipt; never send here.
pub async fn create(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the order as application/json",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(&body);
    let input: OrderInput = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "(body)".to_string()
        } else {
            path
        };
        ApiError::invalid(vec![FieldError {
            field,
            message: e.into_inner().to_string(),
        }])
    })?;
    let valid = input.validate().map_err(ApiError::invalid)?;
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
    let intake = engine::orders::intake(&state.db, state.clock.now_ms(), valid, key).await?;
    if matches!(intake, Intake::Created(_)) {
        state.wake.notify_one();
    }
    let order = intake.order();
    let body = json!({
        "id": order.id,
        "order_number": order.order_number,
        "status": order.state,
        "duplicate": matches!(intake, Intake::Existing(_)),
    });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// `GET /api/v1/orders/{number}`: status and the delivery timeline.
pub async fn show(
    State(state): State<ApiState>,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let order = engine::orders::find_by_number(&state.db, &number)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no order {number}")))?;
    let attempts = engine::delivery::worker::attempts(&state.db, order.id).await?;
    let events = engine::orders::events(&state.db, order.id).await?;
    let body = json!({
        "id": order.id,
        "order_number": order.order_number,
        "status": order.state,
        "status_detail": order.state_detail,
        "attempts": attempts.iter().map(|a| json!({
            "attempt": a.attempt_no,
            "pool_id": a.pool_id,
            "message_id": a.message_id,
            "started_at": a.started_at,
            "finished_at": a.finished_at,
            "outcome": a.outcome,
            "smtp_code": a.smtp_code,
            "smtp_text": a.smtp_text,
            "reason": a.reason,
            "class": a.class,
        })).collect::<Vec<_>>(),
        "timeline": events.iter().map(|e| json!({ "at": e.at, "kind": e.kind, "detail": e.detail })).collect::<Vec<_>>(),
    });
    Ok(Json(body).into_response())
}
