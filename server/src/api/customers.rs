use axum::Json;
use axum::extract::{Path, State};
use engine::fallback::notifications::{self, Notification};

use super::views::ErrorBody;
use super::{ApiError, ApiState};

/// A logged-in customer's account notifications (receipts Rebound could not
/// email), newest first. Show them in the customer's account; fetch the
/// receipt itself with `GET /api/v1/orders/{number}/receipt`.
#[utoipa::path(
    get,
    path = "/api/v1/customers/{customer_ref}/notifications",
    params(("customer_ref" = String, Path, description = "Your reference for the customer, as posted with the order")),
    responses(
        (status = 200, description = "Notifications, newest first", body = Vec<Notification>),
        (status = 401, description = "Missing, unknown or revoked API key", body = ErrorBody),
    ),
    security(("api_key" = [])),
)]
pub async fn list(
    State(state): State<ApiState>,
    Path(customer_ref): Path<String>,
) -> Result<Json<Vec<Notification>>, ApiError> {
    Ok(Json(
        notifications::for_customer(&state.db, &customer_ref, 100).await?,
    ))
}

/// The customer saw the notification: counts as the receipt reaching them.
#[utoipa::path(
    post,
    path = "/api/v1/customers/{customer_ref}/notifications/{id}/seen",
    params(
        ("customer_ref" = String, Path, description = "The customer's reference"),
        ("id" = i64, Path, description = "The notification's id"),
    ),
    responses(
        (status = 200, description = "Marked seen", body = Notification),
        (status = 401, description = "Missing, unknown or revoked API key", body = ErrorBody),
        (status = 400, description = "The notification id is not a number", body = ErrorBody),
        (status = 404, description = "No such notification for this customer", body = ErrorBody),
    ),
    security(("api_key" = [])),
)]
pub async fn seen(
    State(state): State<ApiState>,
    Path((customer_ref, id)): Path<(String, i64)>,
) -> Result<Json<Notification>, ApiError> {
    Ok(Json(
        notifications::mark_seen(&state.db, state.clock.now_ms(), &customer_ref, id).await?,
    ))
}
