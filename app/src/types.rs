//! Types that cross the wire between server functions and the browser. The
//! domain's own types stay in `engine`; these are their views.

use serde::{Deserialize, Serialize};

/// What a sender pool is for (`engine::delivery::pools::PoolRole`).
pub use shared::PoolRole;
/// A staff role: the engine's own (`engine::accounts::Role`), from the
/// `shared` crate both halves of the app can use.
pub use shared::Role;

/// The signed-in staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

/// A row of the Users page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: String,
    pub last_login_at: Option<String>,
}

/// A row of the Audit page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: Option<String>,
}

/// One page of the audit log; `next_before` continues it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub next_before: Option<i64>,
}

/// The message of a server-function error without leptos' prefix.
pub fn error_text(e: &leptos::prelude::ServerFnError) -> String {
    use leptos::prelude::ServerFnError;
    match e {
        ServerFnError::ServerError(m) => m.clone(),
        ServerFnError::Request(_) | ServerFnError::Response(_) => {
            "The server could not be reached. Check your connection and try again.".into()
        }
        other => other.to_string(),
    }
}

/// A row of the Orders page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRow {
    pub id: i64,
    pub order_number: String,
    pub placed_at: String,
    /// Masked for managers.
    pub customer_email: String,
    pub account_kind: String,
    pub total: String,
    pub state: String,
    pub state_detail: String,
    pub attempts: i64,
    pub updated_at: String,
    /// `vpn`, `datacenter`, `tor` or `residential`.
    pub network: String,
    /// "VPN (Example VPN)", "residential / unknown".
    pub network_label: String,
    pub risk_score: Option<i64>,
    /// Gmail, Yahoo, Microsoft or other.
    pub provider: String,
    /// How the receipt first reached the customer, if it has.
    pub reached_via: Option<String>,
}

/// The email-health risk scored at intake, with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskDetail {
    pub score: Option<i64>,
    pub high: bool,
    pub network_label: String,
    pub asn: Option<i64>,
    pub country: Option<String>,
    /// The pool the routing policy chose for the first attempt.
    pub routed_to: Option<String>,
    /// (reason, points), largest first.
    pub factors: Vec<(String, i64)>,
    /// "ann@gmail.com" when the address looks like a typo (masked for managers).
    pub suggested_email: Option<String>,
}

/// One page of VPN/datacenter/Tor-flagged orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlaggedPage {
    pub rows: Vec<OrderRow>,
    /// Cursor of the next page (`score.id`).
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrdersPage {
    pub rows: Vec<OrderRow>,
    pub next_before: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRow {
    /// 1, 2, 3… in the order's own sequence (receipts and secure-link
    /// re-sends together, by time).
    pub attempt_no: i64,
    /// What it sent, in words ("Receipt", "Secure link through the masked sender").
    #[serde(default)]
    pub what: String,
    pub pool: String,
    pub message_id: String,
    pub started_at: String,
    pub outcome: String,
    pub smtp: String,
    pub reason: String,
    pub class: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    pub at: String,
    pub kind: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDetail {
    pub order: OrderRow,
    pub customer_name: String,
    pub customer_phone: Option<String>,
    pub client_ip: Option<String>,
    /// name, quantity, unit price, line total (formatted).
    pub items: Vec<(String, u32, String, String)>,
    /// label, amount (formatted).
    pub totals: Vec<(String, String)>,
    pub attempts: Vec<AttemptRow>,
    pub bounces: Vec<BounceRow>,
    pub timeline: Vec<EventRow>,
    /// Soft bounces to the customer's address since its last good delivery.
    pub soft_bounces: i64,
    pub risk: RiskDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRow {
    pub id: i64,
    pub created_at: String,
    pub pool: String,
    pub to: String,
    pub subject: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub row: OutboxRow,
    pub envelope_from: String,
    pub message_id: String,
    pub headers: Vec<(String, String)>,
    pub html: Option<String>,
    pub text: Option<String>,
    pub raw: String,
}

/// A captured SMS or call on the Outbox page (full number: a dev page for admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapturedSmsRow {
    pub id: i64,
    pub created_at: String,
    /// `sms`, `whatsapp` or `call`.
    pub kind: String,
    pub to: String,
    pub body: String,
    pub order_number: Option<String>,
    pub requested_by: String,
}

/// A shop webhook event on the Webhooks page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEventRow {
    pub id: i64,
    pub event_type: String,
    pub created_at: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub delivered_at: Option<String>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEventsPage {
    pub rows: Vec<WebhookEventRow>,
    pub next_before: Option<i64>,
    /// Where events go; none: they are stored, not sent.
    pub url: Option<String>,
}

/// One delivery try of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDeliveryRow {
    pub attempt: i64,
    pub at: String,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// An event with its JSON body and every delivery try.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEventDetail {
    pub row: WebhookEventRow,
    pub body: String,
    pub deliveries: Vec<WebhookDeliveryRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolRow {
    pub id: i64,
    pub name: String,
    pub role: PoolRole,
    pub from: String,
    /// Credentials removed.
    pub relay: String,
    pub enabled: bool,
    pub max_per_second: i64,
    pub position: i64,
    /// Last 7 days: messages the receiving side accepted through this pool.
    pub accepted_7d: i64,
    /// Last 7 days: complaints tied to this pool's sends.
    pub complaints_7d: i64,
    /// Complaints per accepted message, e.g. `0.12 %` (`—` when nothing was accepted).
    pub complaint_rate: String,
    /// `ok`, `warning` (at least 0.1 %) or `critical` (at least 0.3 %).
    pub complaint_level: String,
    /// Last 7 days: bounces by class, most first.
    pub bounces_7d: Vec<(String, i64)>,
    /// `ok`, `demoted` or `paused` (the health guard's state).
    pub health_state: String,
    /// Why the guard demoted or paused it.
    pub health_reason: Option<String>,
    /// Set while the relay gives no SMTP answer: since when and why.
    pub relay_down: Option<String>,
    /// Rolling rates over 1 h, 24 h and 7 d (since the last resume).
    pub health: Vec<HealthWindowView>,
    /// Set in `rebound.toml` (`[[pools]]`): changed there, not on the page.
    pub from_file: bool,
    /// Its relay path carries SMTPUTF8 (RFC 6531): addresses with a non-ASCII
    /// part before @ can be sent through it.
    pub smtputf8: bool,
}

/// One window of a pool's (or pool × provider pair's) rolling rates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthWindowView {
    pub label: String,
    pub sends: i64,
    /// `4.00 %`, or `—` with nothing sent.
    pub bounce: String,
    pub deferral: String,
    pub complaint: String,
    /// `ok`, `warning` (over a demotion threshold) or `critical` (over a pause threshold).
    pub level: String,
}

/// The Sender pools page's health section: thresholds, pool × provider rates and
/// pairs slowed by traffic shaping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolHealthView {
    /// The thresholds in words.
    pub thresholds: String,
    pub pairs: Vec<PoolPairRow>,
    pub slowed: Vec<SlowedPairRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolPairRow {
    pub pool: String,
    pub provider: String,
    pub windows: Vec<HealthWindowView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlowedPairRow {
    pub pool: String,
    pub provider: String,
    /// `4× slower until 2026-11-28 21:00 UTC`.
    pub how: String,
    pub rule: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: String,
    pub created_by: String,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

/// The API keys page: the keys, and a just-created secret shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeysView {
    pub keys: Vec<ApiKeyRow>,
    pub fresh_secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BounceRow {
    pub received_at: String,
    pub source: String,
    pub matched_by: String,
    pub recipient: String,
    pub reason: String,
    pub class: String,
    pub hard: bool,
    pub status: String,
    pub diagnostic: String,
    pub rule: String,
    /// The raw message; absent for managers (it carries personal data).
    pub raw: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppressionRow {
    pub email: String,
    pub reason: String,
    pub source: String,
    pub created_at: String,
}

/// One line of a receipt on the customer page.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PublicItem {
    pub name: String,
    pub quantity: u32,
    pub unit_price: String,
    pub line_total: String,
}

/// The receipt as the customer sees it at `/r/{token}` (amounts formatted).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PublicReceipt {
    pub shop_name: String,
    pub logo_url: Option<String>,
    pub support_email: String,
    pub footer: String,
    pub order_number: String,
    pub placed_at: String,
    pub customer_name: String,
    pub billing_address: Vec<String>,
    pub items: Vec<PublicItem>,
    pub subtotal: String,
    pub discount: Option<String>,
    pub shipping: Option<String>,
    pub tax: String,
    pub total: String,
    pub pdf_url: String,
    pub link_expires: String,
}

/// What `/r/{token}` shows.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum ReceiptLinkPage {
    Receipt(Box<PublicReceipt>),
    /// Expired, revoked or unknown: the same page for all three.
    Unavailable {
        shop_name: String,
        support_email: String,
    },
    /// Too many requests from this address or for this link.
    Limited {
        shop_name: String,
    },
}

/// `/r/{token}` in the customer's language: the page and its words.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReceiptLinkReply {
    pub words: Words,
    pub page: ReceiptLinkPage,
}

/// A customer page's words in the customer's language (from the engine's
/// catalogue, `engine/locales/*.ftl`), by message key.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Words {
    /// BCP 47 tag for `<html lang>`: `id-ID`, `en`.
    pub lang: String,
    pub text: std::collections::BTreeMap<String, String>,
}

impl Words {
    /// The message `key`; the key itself when the server sent none.
    pub fn get(&self, key: &str) -> String {
        self.text
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_owned())
    }
}

/// A row of the held queue (open support cases).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HeldRow {
    pub order_number: String,
    /// 1 critical, 2 high value.
    pub priority: i64,
    pub reason: String,
    pub age: String,
    /// "due in 42 min" / "overdue by 5 min".
    pub sla: String,
    pub overdue: bool,
    pub working_by: Option<String>,
    pub account_kind: String,
    pub customer_email: String,
    pub has_phone: bool,
    /// "Send link on WhatsApp" is offered: the customer opted in and a
    /// WhatsApp provider is configured.
    #[serde(default)]
    pub whatsapp: bool,
    pub total: String,
    pub fallback: String,
    pub reached: bool,
    /// The address cannot take e-mail (suppressed, or held as dead): links
    /// go by phone instead.
    #[serde(default)]
    pub email_dead: bool,
}

/// A sender pool an agent may re-send a fresh link through.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PoolChoice {
    pub id: i64,
    pub name: String,
    pub role: PoolRole,
}

/// A rate on the dashboard, with where it stands against its thresholds (as
/// text, not colour alone).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RateView {
    pub label: String,
    /// "4.2 %", or "–" when there was nothing to measure.
    pub value: String,
    /// "42 of 1,000 sent".
    pub detail: String,
    /// `ok`, `warning`, `critical`, or `none` for rates without thresholds.
    pub level: String,
    /// "OK", "Warning", "Critical" (empty for `none`).
    pub level_label: String,
    /// "Warning at 5 %, critical at 10 % of sent" (empty for `none`).
    pub threshold: String,
}

/// The overview numbers for one period (today, 7 days, 30 days).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OverviewWindow {
    pub label: String,
    pub orders: i64,
    pub sent: i64,
    pub accepted: i64,
    pub bounce: RateView,
    /// Per class: recipient permanent, sender reputation, transient, content.
    pub classes: Vec<RateView>,
    pub complaints: RateView,
    pub reach: RateView,
    pub ttr_median: String,
    pub ttr_p90: String,
}

/// The dashboard overview (managers and agents).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OverviewView {
    pub windows: Vec<OverviewWindow>,
    pub held_now: i64,
    /// "held for 3 h 5 min (since 2026-11-27 21:00 UTC)".
    pub oldest_held: Option<String>,
    /// When the rollups were last brought up to date.
    pub refreshed: Option<String>,
    /// Any generated demo history in the database.
    pub demo_data: bool,
    /// Pools the health guard demoted or paused, and pairs slowed by shaping, in words.
    pub pool_alerts: Vec<String>,
    /// The tiles on top: reach, bounce, complaint rate, median time to
    /// receipt, cases needing an agent.
    pub kpis: Vec<KpiTile>,
}

/// One headline number of the Overview with its 30-day sparkline and where it
/// stands against its thresholds, in words as well as colour.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct KpiTile {
    /// `reach`, `bounce`, `complaint`, `ttr`, `cases` (a stable test id).
    pub key: String,
    pub label: String,
    /// "97.2 %", "4 min", "2", or "–".
    pub value: String,
    /// `ok`, `warning`, `critical`, or `none` (not rated: too few to say).
    pub level: String,
    /// "OK", "Warning", "Critical", "Too few to rate".
    pub level_label: String,
    /// "3 of 1,204 sent, last 7 days".
    pub detail: String,
    /// "Warning from 5 %, critical from 10 % of sent".
    pub threshold: String,
    /// The sparkline (an SVG drawn on the server, with its text alternative).
    pub spark_svg: String,
    /// What the sparkline shows: "Daily, last 30 days".
    pub spark_note: String,
    /// Where to act on it (href, text), if the role may.
    pub link: Option<(String, String)>,
}

/// One trend chart as the Trends page links it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TrendChart {
    pub name: String,
    pub title: String,
    pub description: String,
    /// The chart's numbers over the range in words.
    pub summary: String,
    /// The chart drawn inline (a point's sample size on hover), for desktop
    /// widths and for phones; the page shows one of them.
    pub svg_wide: String,
    pub svg_narrow: String,
}

/// The Trends page (managers).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TrendsView {
    /// The preset, or the custom range's length.
    pub days: i64,
    /// A custom `from`–`to` range rather than a preset.
    pub custom: bool,
    pub from: String,
    pub to: String,
    pub charts: Vec<TrendChart>,
}
