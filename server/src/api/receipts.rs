use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::views::ErrorBody;
use super::{ApiError, ApiState};

/// The receipt for the shop's order-confirmation screen.
#[derive(Debug, Serialize, ToSchema)]
pub struct InlineReceipt {
    pub order_number: String,
    /// The receipt as an HTML fragment (no `<html>`/`<body>`), escaped, ready to embed.
    pub html: String,
    /// The plain-text receipt.
    pub text: String,
    /// Every amount and date already formatted (same values the templates get).
    #[schema(value_type = Object)]
    pub receipt: serde_json::Value,
    /// The receipt's delivery state (`queued`, `accepted`, `held`, …).
    pub status: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReceiptQuery {
    /// `json` (default) or `html` (the fragment alone, `text/html`).
    pub format: Option<String>,
}

/// Extracts the part between `<body…>` and `</body>`, so the fragment can be
/// embedded in the shop's own page.
fn body_fragment(html: &str) -> &str {
    let start = html
        .find("<body")
        .and_then(|i| html[i..].find('>').map(|j| i + j + 1))
        .unwrap_or(0);
    let end = html[start..]
        .rfind("</body>")
        .map(|i| start + i)
        .unwrap_or(html.len());
    html[start..end].trim()
}

async fn load(state: &ApiState, number: &str) -> Result<engine::orders::Order, ApiError> {
    engine::orders::find_by_number(&state.db, number)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no order {number}")))
}

/// The receipt inline: show it on the order-confirmation page so the customer
/// has it even if every email fails.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{number}/receipt",
    params(("number" = String, Path, description = "The shop's order number"), ReceiptQuery),
    responses(
        (status = 200, description = "The receipt (JSON, or `text/html` with `format=html`)", body = InlineReceipt),
        (status = 400, description = "Unknown format", body = ErrorBody),
        (status = 401, description = "Missing, unknown or revoked API key", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
    ),
    security(("api_key" = [])),
)]
pub async fn inline(
    State(state): State<ApiState>,
    Path(number): Path<String>,
    Query(q): Query<ReceiptQuery>,
) -> Result<Response, ApiError> {
    let order = load(&state, &number).await?;
    let receipt = engine::receipt::Receipt::for_order(
        &order,
        &engine::receipt::Branding::from_config(&state.config),
    );
    let render_err =
        |e: engine::receipt::RenderError| ApiError::from(engine::Error::Internal(e.to_string()));
    let html = engine::receipt::render_html(&receipt).map_err(render_err)?;
    let fragment = body_fragment(&html).to_string();
    match q.format.as_deref().unwrap_or("json") {
        "html" => Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            fragment,
        )
            .into_response()),
        "json" => Ok(Json(InlineReceipt {
            order_number: order.order_number.clone(),
            html: fragment,
            text: engine::receipt::render_text(&receipt).map_err(render_err)?,
            receipt: engine::receipt::view_json(&receipt).map_err(render_err)?,
            status: order.state.clone(),
        })
        .into_response()),
        other => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("format must be `json` or `html`, not `{other}`"),
        )),
    }
}

/// The receipt as a PDF (for a logged-in customer's download in the shop).
#[utoipa::path(
    get,
    path = "/api/v1/orders/{number}/receipt.pdf",
    params(("number" = String, Path, description = "The shop's order number")),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf"),
        (status = 401, description = "Missing, unknown or revoked API key", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
    ),
    security(("api_key" = [])),
)]
pub async fn pdf(
    State(state): State<ApiState>,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let order = load(&state, &number).await?;
    let receipt = engine::receipt::Receipt::for_order(
        &order,
        &engine::receipt::Branding::from_config(&state.config),
    );
    let bytes = engine::receipt::render_pdf(&receipt)
        .map_err(|e| ApiError::from(engine::Error::Internal(e.to_string())))?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    Ok((StatusCode::OK, headers, bytes).into_response())
}

/// The customer told the shop the receipt never arrived: the order goes to
/// Rebound's support queue as critical (and gets the fallback for its kind).
#[utoipa::path(
    post,
    path = "/api/v1/orders/{number}/report-missing",
    params(("number" = String, Path, description = "The shop's order number")),
    responses(
        (status = 202, description = "Sent to support"),
        (status = 401, description = "Missing, unknown or revoked API key", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
    ),
    security(("api_key" = [])),
)]
pub async fn report_missing(
    State(state): State<ApiState>,
    Path(number): Path<String>,
) -> Result<StatusCode, ApiError> {
    let order = load(&state, &number).await?;
    engine::fallback::runner::customer_reported(
        &state.db,
        state.clock.now_ms(),
        &state.config,
        &order,
        "shop API",
    )
    .await?;
    state.wake.notify_one();
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fragment_is_the_body() {
        assert_eq!(
            super::body_fragment("<html><body class=\"x\">\n<p>hi</p>\n</body></html>"),
            "<p>hi</p>"
        );
        assert_eq!(super::body_fragment("<p>bare</p>"), "<p>bare</p>");
    }
}
