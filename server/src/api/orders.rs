use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use engine::orders::{FieldError, Intake, OrderInput};

use super::views::{AttemptView, ErrorBody, EventView, OrderAccepted, OrderStatus, RiskView};
use super::{ApiError, ApiState};

/// Post an order at checkout. Rebound validates and stores it, queues the
/// receipt and answers at once; sending happens in the workers.
#[utoipa::path(
    post,
    path = "/api/v1/orders",
    request_body = OrderInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key: the same key returns the original order")),
    responses(
        (status = 202, description = "Stored and queued (or already known)", body = OrderAccepted),
        (status = 400, description = "Data after the JSON object", body = ErrorBody),
        (status = 401, description = "Missing, unknown or revoked API key", body = ErrorBody),
        (status = 413, description = "Body over 256 KiB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "Invalid fields, each named", body = ErrorBody),
    ),
    security(("api_key" = [])),
)]
pub async fn create(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<OrderAccepted>), ApiError> {
    // Monotonic time for a duration, not the (injected) wall clock.
    let started = std::time::Instant::now();
    let result = create_order(state, headers, body).await;
    let outcome = match &result {
        Ok((_, Json(a))) if a.duplicate => "duplicate",
        Ok(_) => "created",
        Err(e) if e.status.is_client_error() => "invalid",
        Err(_) => "error",
    };
    engine::metrics::intake(outcome, started.elapsed().as_secs_f64());
    result
}

async fn create_order(
    state: ApiState,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<OrderAccepted>), ApiError> {
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
    let mut de = serde_json::Deserializer::from_slice(&body);
    let input: OrderInput = serde_path_to_error::deserialize(&mut de).map_err(|e| {
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
    // One order per request: bytes after the object (`{…}xyz`, a second
    // object) are refused, not silently dropped. Trailing whitespace is fine.
    de.end().map_err(|e| {
        ApiError::bad_request(vec![FieldError {
            field: "(body)".into(),
            message: format!("unexpected data after the JSON object ({e})"),
        }])
    })?;
    // A non-ASCII local part needs a pool that offers SMTPUTF8: asked of the
    // database only for such an address, so the common path reads nothing.
    let smtputf8 = engine::orders::needs_smtputf8(&input.customer.email)
        && engine::delivery::pools::chain_offers_smtputf8(&state.db).await?;
    let valid = input.validate_for(smtputf8).map_err(ApiError::invalid)?;
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
    let now = state.clock.now_ms();
    let risk = state
        .risk
        .assess(
            &state.db,
            now,
            valid.client_ip.as_deref(),
            &valid.customer_email,
            &engine::stats::RiskHistory,
        )
        .await?;
    // Every order joins the next group commit, which also tells a repeat
    // (same number or key) from a new order.
    let prepared = engine::orders::prepare_intake(
        now,
        valid,
        key,
        Some(&risk),
        state.config.shop.default_locale.as_deref(),
    )?;
    let intake = state.intake.submit(prepared).await?;
    if matches!(intake, Intake::Created(_)) {
        state.wake.notify_one();
    }
    let order = intake.order();
    // Only the link's hash is stored: it is in this first answer and never again.
    let receipt_link = match &intake {
        Intake::Created(o) => {
            engine::links::issue_at_checkout(&state.db, now, o, state.config.links.ttl_ms())
                .await?
                .map(|l| l.url(&state.config.public_base_url()))
        }
        Intake::Existing(_) => None,
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(OrderAccepted {
            id: order.id,
            order_number: order.order_number.clone(),
            status: order.state.clone(),
            duplicate: matches!(intake, Intake::Existing(_)),
            risk: RiskView::of(order),
            receipt_link,
        }),
    ))
}

/// An order's receipt status and its whole delivery timeline.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{number}",
    params(("number" = String, Path, description = "The shop's order number")),
    responses(
        (status = 200, description = "Status and timeline", body = OrderStatus),
        (status = 401, description = "Missing, unknown or revoked API key", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
    ),
    security(("api_key" = [])),
)]
pub async fn show(
    State(state): State<ApiState>,
    Path(number): Path<String>,
) -> Result<Json<OrderStatus>, ApiError> {
    let order = engine::orders::find_by_number(&state.db, &number)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no order {number}")))?;
    let attempts = engine::delivery::attempts::attempts(&state.db, order.id).await?;
    let events = engine::orders::events(&state.db, order.id).await?;
    let risk = RiskView::of(&order);
    Ok(Json(OrderStatus {
        id: order.id,
        order_number: order.order_number,
        status: order.state,
        status_detail: order.state_detail,
        reached_at: order.reached_at,
        reached_via: order.reached_via,
        fallback: order.fallback_path,
        fallback_why: order.fallback_why,
        risk,
        attempts: attempts
            .into_iter()
            .map(|a| AttemptView {
                attempt: a.attempt_no,
                pool_id: a.pool_id,
                message_id: a.message_id,
                started_at: a.started_at,
                finished_at: a.finished_at,
                outcome: a.outcome.map(|o| o.to_string()),
                smtp_code: a.smtp_code,
                smtp_text: a.smtp_text,
                reason: a.reason,
                class: a.class,
            })
            .collect(),
        timeline: events
            .into_iter()
            .map(|e| EventView {
                at: e.at,
                kind: e.kind,
                detail: e.detail,
            })
            .collect(),
    }))
}
