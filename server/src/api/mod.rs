//! The shop integration API under `/api/v1`, authenticated with API keys
//! (`Authorization: Bearer rbk_…`). Errors are JSON: `{"error": "...",
//! "fields": [{"field": "...", "message": "..."}]}`.

mod auth;
mod bounces;
mod customers;
mod error;
pub mod openapi;
mod orders;
mod receipts;
pub mod views;
mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use engine::{Clock, Config, Db};
use std::sync::Arc;
use tokio::sync::Notify;

pub use error::ApiError;

/// What the API handlers reach: the shared [`ApiParts`]. Axum clones the
/// state for every request; a clone of the parts themselves was six
/// reference counts and a channel sender (1.3 % of intake's CPU dropping
/// them again), a clone of the `Arc` is one.
pub type ApiState = Arc<ApiParts>;

/// The API's shared parts, built once per process.
pub struct ApiParts {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    /// Wakes the send worker when an order arrives.
    pub wake: Arc<Notify>,
    /// Scores each order's email-health risk at intake.
    pub risk: Arc<engine::risk::Assessor>,
    /// Writes new orders, many checkouts to a transaction.
    pub intake: engine::orders::IntakeWriter,
}

/// Orders are small; 256 KiB is far above any real one.
const MAX_BODY: usize = 256 * 1024;

pub fn router(state: ApiState) -> Router {
    // ESP webhooks authenticate with the providers' own signatures, not API keys.
    let public = Router::new()
        .route("/api/v1/openapi.json", get(openapi::document))
        .merge(webhooks::router(state.clone()));
    let keyed = Router::new()
        .route("/api/v1/orders", post(orders::create))
        .route("/api/v1/orders/{number}", get(orders::show))
        .route("/api/v1/orders/{number}/receipt", get(receipts::inline))
        .route("/api/v1/orders/{number}/receipt.pdf", get(receipts::pdf))
        .route(
            "/api/v1/orders/{number}/report-missing",
            post(receipts::report_missing),
        )
        .route(
            "/api/v1/customers/{customer_ref}/notifications",
            get(customers::list),
        )
        .route(
            "/api/v1/customers/{customer_ref}/notifications/{id}/seen",
            post(customers::seen),
        )
        .route(
            "/api/v1/inbound/bounce",
            post(bounces::inbound).layer(DefaultBodyLimit::max(engine::bounce::MAX_MESSAGE_SIZE)),
        )
        .route("/api/v1/suppressions", get(bounces::list))
        .route(
            "/api/v1/suppressions/{email}",
            axum::routing::delete(bounces::release),
        )
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_api_key,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // Unknown API paths answer JSON too (the site's fallback serves pages).
        .route("/api/v1/{*rest}", axum::routing::any(error::not_found))
        .with_state(state);
    public
        .merge(keyed)
        .layer(middleware::map_response(error::json_client_errors))
}
