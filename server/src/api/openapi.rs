//! The OpenAPI 3 document, generated from the handlers' annotations and the
//! request/response types.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Rebound shop API", description = "Post orders at checkout; Rebound makes sure the customer gets the receipt."),
    paths(super::orders::create, super::orders::show, super::bounces::inbound, super::bounces::list, super::bounces::release,
        super::receipts::inline, super::receipts::pdf, super::receipts::report_missing,
        super::customers::list, super::customers::seen,
        super::webhooks::receive),
    components(schemas(
        engine::orders::OrderInput, engine::orders::ItemInput, engine::orders::TotalsInput,
        engine::orders::CustomerInput, engine::orders::BillingAddress, engine::orders::AccountKind,
        engine::orders::FieldError, super::views::OrderAccepted, super::views::OrderStatus,
        super::views::AttemptView, super::views::EventView, super::views::ErrorBody,
        super::views::RiskView, super::views::RiskFactorView,
        super::bounces::BounceIngested, engine::suppression::Suppression,
        super::receipts::InlineReceipt, engine::fallback::notifications::Notification,
        super::webhooks::WebhookAccepted, super::webhooks::WebhookEvent,
    )),
    modifiers(&ApiKeyAuth),
)]
pub struct ApiDoc;

struct ApiKeyAuth;

impl Modify for ApiKeyAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("rbk_…")
                    .description(Some("An API key created by an admin (`rebound apikey create` or the API keys page)."))
                    .build(),
            ),
        );
    }
}

/// `GET /api/v1/openapi.json` (public).
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
