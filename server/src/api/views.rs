//! The API's response bodies. They are what the handlers really send and what
//! `/api/v1/openapi.json` describes, so the document cannot drift.

use engine::orders::FieldError;
use serde::Serialize;
use utoipa::ToSchema;

/// Answer to `POST /api/v1/orders`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderAccepted {
    pub id: i64,
    pub order_number: String,
    /// `queued`, `sending`, `retry_scheduled`, `accepted` or `held`.
    pub status: String,
    /// True when this order (number or Idempotency-Key) was posted before:
    /// the original order is returned and no second receipt is sent.
    pub duplicate: bool,
    pub risk: RiskView,
    /// High-risk guest and social-login orders: a secure link to the receipt
    /// for the thank-you page ("keep this link"), valid for `links.ttl_hours`.
    /// Present only in the answer that created the order (only its hash is kept).
    pub receipt_link: Option<String>,
}

/// The order's email-health risk as scored at intake.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskView {
    /// 0–100; absent for orders stored before scoring existed.
    pub score: Option<i64>,
    /// `vpn`, `datacenter`, `tor` or `residential` (residential or unknown).
    pub network: String,
    /// The network's name (list label or ASN organisation), when known.
    pub network_name: Option<String>,
    pub asn: Option<i64>,
    /// ISO 3166-1 alpha-2 country of the client IP, when a country database is set.
    pub country: Option<String>,
    /// High risk: show the receipt on the thank-you page (see `GET /api/v1/orders/{number}/receipt`).
    pub inline_receipt: bool,
    /// Each factor with its points.
    pub factors: Vec<RiskFactorView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RiskFactorView {
    /// `network`, `provider_recent`, `learned`, `typo`, `disposable` or `no_mx`.
    pub key: String,
    pub label: String,
    pub points: i64,
}

impl RiskView {
    pub fn of(order: &engine::orders::Order) -> Self {
        Self {
            score: order.risk_score,
            network: order.network_kind.clone(),
            network_name: order.network_name.clone(),
            asn: order.network_asn,
            country: order.ip_country.clone(),
            inline_receipt: order.inline_receipt,
            factors: order
                .risk_factors()
                .into_iter()
                .map(|f| RiskFactorView {
                    key: f.key,
                    label: f.label,
                    points: f.points,
                })
                .collect(),
        }
    }
}

/// Answer to `GET /api/v1/orders/{number}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderStatus {
    pub id: i64,
    pub order_number: String,
    pub status: String,
    pub status_detail: String,
    /// When the customer first had the receipt (Unix ms), by any channel.
    pub reached_at: Option<i64>,
    /// `email`, `link_opened`, `pdf_downloaded`, `notification_seen`, `sms_delivered`, `whatsapp_delivered` or `support_call`.
    pub reached_via: Option<String>,
    /// The fallback taken when email failed: `notification`, `whatsapp_link`, `masked_link` or `critical`.
    pub fallback: Option<String>,
    /// The fallback decision in words.
    pub fallback_why: Option<String>,
    pub risk: RiskView,
    pub attempts: Vec<AttemptView>,
    pub timeline: Vec<EventView>,
}

/// One send attempt with the relay's exact reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub attempt: i64,
    pub pool_id: i64,
    pub message_id: String,
    /// Unix milliseconds, UTC.
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// `accepted`, `deferred`, `rejected` or `failed`; absent while in progress.
    pub outcome: Option<String>,
    pub smtp_code: Option<i64>,
    pub smtp_text: Option<String>,
    /// The bounce reason (Sisimai names, e.g. `userunknown`).
    pub reason: Option<String>,
    /// The decision class, e.g. `transient`, `recipient_permanent`.
    pub class: Option<String>,
}

/// One line of the order's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub at: i64,
    pub kind: String,
    pub detail: String,
}

/// Every error: a message, and for validation errors each bad field.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}
