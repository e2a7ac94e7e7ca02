//! Signed events pushed to the shop (`receipt.held`, …).
//!
//! [`enqueue`] stores an event in `webhook_events`; [`deliver_due`] (run every
//! second by `rebound serve`, in any number of processes) POSTs due events to
//! `shop_webhook.url` as JSON
//! `{"id": 17, "type": "receipt.held", "created": <unix seconds>, "data": {…}}`
//! with the header
//! `Rebound-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
//! (the Stripe scheme; [`verify_signature`] is the shop's side). Every try is
//! a row in `webhook_deliveries`. A non-2xx answer, a timeout or a refused
//! connection is retried after 30 s, 1 min, 2 min, … (doubling, at most 1 h)
//! until `shop_webhook.max_attempts` tries, then the event is `failed`.
//!
//! With no `shop_webhook.url` configured, events are stored and stay
//! `pending` (the shop may read them through the API); once a URL is set,
//! the pending backlog is delivered.
//!
//! Claiming is one `UPDATE … RETURNING` that moves the claimed events'
//! `next_attempt_at` past the delivery timeout (a lease): the statement
//! re-checks `state` and `next_attempt_at` on the row it updates, so on
//! PostgreSQL a process that raced for the same row finds it no longer due
//! and skips it; SQLite runs one writer at a time. A process that dies
//! mid-delivery leaves the event due again once the lease passes.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::clock::{Clock, Millis};
use crate::config::ShopWebhookConfig;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::{exec_on_pool, on_pool};

/// The request header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Rebound-Signature";
/// Events claimed by one `deliver_due` call (sent concurrently).
pub const BATCH: i64 = 16;
/// The first retry waits this long; each further one twice as long…
pub const FIRST_RETRY_MS: i64 = 30_000;
/// …but never longer than this.
pub const MAX_RETRY_MS: i64 = 3_600_000;
/// Most of a shop's error answer kept in the delivery log.
const MAX_ERROR_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct WebhookEvent {
    pub id: i64,
    pub event_type: String,
    /// The event's `data`, as JSON text.
    pub payload: String,
    pub created_at: Millis,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Millis,
    pub delivered_at: Option<Millis>,
    pub last_error: Option<String>,
}

const EVENT_COLUMNS: &str = "id, event_type, payload, created_at, state, attempts, \
    next_attempt_at, delivered_at, last_error";

/// One delivery try.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct WebhookDelivery {
    pub id: i64,
    pub event_id: i64,
    pub attempt: i64,
    pub at: Millis,
    /// The shop's HTTP status; none when no answer came.
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is missing or malformed")]
    Malformed,
    #[error("the signature's timestamp is outside the tolerance")]
    Expired,
    #[error("no signature matches")]
    Mismatch,
}

/// Stores an event for the shop and returns its id. It is delivered by the
/// next [`deliver_due`] (at once when a URL is configured).
pub async fn enqueue(
    db: &Db,
    now: Millis,
    event_type: &str,
    payload: serde_json::Value,
) -> Result<i64> {
    if event_type.is_empty()
        || event_type.len() > 100
        || !event_type
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(Error::invalid(format!(
            "bad webhook event type `{event_type}`"
        )));
    }
    let payload = payload.to_string();
    let id: i64 = on_pool!(db, p => sqlx::query_scalar(
        "INSERT INTO webhook_events (event_type, payload, created_at, state, attempts, next_attempt_at)
         VALUES ($1, $2, $3, 'pending', 0, $3) RETURNING id"
    ).bind(event_type).bind(&payload).bind(now).fetch_one(p).await)?;
    Ok(id)
}

/// An HTTP client for [`deliver_due`] with `timeout_seconds` per delivery and
/// no redirects followed (a redirect is an answer that is not 2xx).
pub fn http_client(cfg: &ShopWebhookConfig) -> Result<reqwest::Client> {
    let timeout = Duration::from_secs(cfg.timeout_seconds.clamp(1, 300) as u64);
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Rebound-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Internal(format!("HTTP client: {e}")))
}

/// Delivers the events that are due at `now` (a batch of up to [`BATCH`]).
/// Returns how many delivery tries were made (0 with no URL configured).
pub async fn deliver_due(
    db: &Db,
    now: Millis,
    cfg: &ShopWebhookConfig,
    client: &reqwest::Client,
) -> Result<usize> {
    let Some(url) = cfg.url.as_deref() else {
        return Ok(0);
    };
    let secret = cfg
        .secret
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Error::Config("`shop_webhook.secret` is required when shop_webhook.url is set".into())
        })?;
    // The lease: longer than one delivery may take, so no one else sends meanwhile.
    let lease_until = now + cfg.timeout_seconds.clamp(1, 300) * 1000 + 30_000;
    let sql = format!(
        "UPDATE webhook_events SET next_attempt_at = $1, attempts = attempts + 1
         WHERE id IN (SELECT id FROM webhook_events WHERE state = 'pending' AND next_attempt_at <= $2
                      ORDER BY next_attempt_at, id LIMIT $3)
           AND state = 'pending' AND next_attempt_at <= $2
         RETURNING {EVENT_COLUMNS}"
    );
    let claimed: Vec<WebhookEvent> = on_pool!(db, p => sqlx::query_as(&sql)
        .bind(lease_until).bind(now).bind(BATCH).fetch_all(p).await)?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let tries = claimed.len();
    let results = futures::future::join_all(
        claimed
            .into_iter()
            .map(|event| deliver_one(db, now, cfg, client, url, secret, event)),
    )
    .await;
    for r in results {
        r?;
    }
    Ok(tries)
}

async fn deliver_one(
    db: &Db,
    now: Millis,
    cfg: &ShopWebhookConfig,
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    event: WebhookEvent,
) -> Result<()> {
    let body = event_body(&event);
    let t = now.div_euclid(1000);
    let header = sign(secret, t, body.as_bytes());
    let started = Instant::now();
    let answer = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, header)
        .header("Rebound-Event-Id", event.id.to_string())
        .header("Rebound-Event-Type", event.event_type.as_str())
        .body(body)
        .send()
        .await;
    let (status_code, error) = match answer {
        Ok(response) => {
            let status = response.status();
            if status.is_success() {
                (Some(i64::from(status.as_u16())), None)
            } else {
                let text = response.text().await.unwrap_or_default();
                let snippet: String = text.trim().chars().take(MAX_ERROR_CHARS).collect();
                let error = if snippet.is_empty() {
                    format!("HTTP {}", status.as_u16())
                } else {
                    format!("HTTP {}: {snippet}", status.as_u16())
                };
                (Some(i64::from(status.as_u16())), Some(error))
            }
        }
        Err(e) if e.is_timeout() => (
            None,
            Some(format!("no answer within {} s", cfg.timeout_seconds)),
        ),
        // Without the URL: it may carry a token of the shop's.
        Err(e) => (None, Some(format!("request failed: {}", e.without_url()))),
    };
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    exec_on_pool!(db, p => sqlx::query(
        "INSERT INTO webhook_deliveries (event_id, attempt, at, status_code, error, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6)"
    ).bind(event.id).bind(event.attempts).bind(now).bind(status_code).bind(&error).bind(duration_ms)
        .execute(p).await)?;
    // `attempts = $n` in each WHERE: if our lease ran out and another process
    // took the event over, its outcome wins.
    match error {
        None => {
            exec_on_pool!(db, p => sqlx::query(
                "UPDATE webhook_events SET state = 'delivered', delivered_at = $1, last_error = NULL
                 WHERE id = $2 AND attempts = $3 AND state = 'pending'"
            ).bind(now).bind(event.id).bind(event.attempts).execute(p).await)?;
            tracing::info!(event = event.id, kind = %event.event_type, attempt = event.attempts, "shop webhook delivered");
        }
        Some(error) if event.attempts >= cfg.max_attempts => {
            exec_on_pool!(db, p => sqlx::query(
                "UPDATE webhook_events SET state = 'failed', last_error = $1
                 WHERE id = $2 AND attempts = $3 AND state = 'pending'"
            ).bind(&error).bind(event.id).bind(event.attempts).execute(p).await)?;
            tracing::warn!(event = event.id, kind = %event.event_type, attempt = event.attempts, %error, "shop webhook given up");
        }
        Some(error) => {
            let next = now + retry_delay_ms(event.attempts);
            exec_on_pool!(db, p => sqlx::query(
                "UPDATE webhook_events SET next_attempt_at = $1, last_error = $2
                 WHERE id = $3 AND attempts = $4 AND state = 'pending'"
            ).bind(next).bind(&error).bind(event.id).bind(event.attempts).execute(p).await)?;
            tracing::info!(event = event.id, kind = %event.event_type, attempt = event.attempts, %error, "shop webhook failed; will retry");
        }
    }
    Ok(())
}

/// The wait after the `attempt`-th failed try: 30 s × 2^(attempt − 1), at most 1 h.
pub fn retry_delay_ms(attempt: i64) -> i64 {
    let doublings = attempt.saturating_sub(1).clamp(0, 20) as u32;
    FIRST_RETRY_MS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_RETRY_MS)
}

/// The JSON body sent for `event`.
pub fn event_body(event: &WebhookEvent) -> String {
    let data: serde_json::Value = serde_json::from_str(&event.payload)
        .unwrap_or_else(|_| serde_json::Value::String(event.payload.clone()));
    serde_json::json!({
        "id": event.id,
        "type": event.event_type,
        "created": event.created_at.div_euclid(1000),
        "data": data,
    })
    .to_string()
}

/// [`event_body`] indented for people (the admin Webhooks page).
pub fn event_body_pretty(event: &WebhookEvent) -> String {
    let body = event_body(event);
    serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or(body)
}

fn hmac_hex(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC takes keys of any length; this branch cannot happen.
        Err(_) => return String::new(),
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The `Rebound-Signature` value for `body` sent at `t` (Unix seconds).
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", hmac_hex(secret, t, body))
}

/// The shop's check of a delivery: `header` is the `Rebound-Signature`
/// value, `body` the raw request body. Accepts when one `v1` signature
/// matches (compared in constant time) and `t` is within `tolerance_secs` of
/// `now_secs` (refusing replays).
pub fn verify_signature(
    secret: &str,
    header: &str,
    body: &[u8],
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let mut t: Option<i64> = None;
    let mut candidates: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            return Err(SignatureError::Malformed);
        };
        match k {
            "t" => t = Some(v.parse().map_err(|_| SignatureError::Malformed)?),
            "v1" => candidates.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?),
            _ => {} // other schemes: ignored
        }
    }
    let Some(t) = t else {
        return Err(SignatureError::Malformed);
    };
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now_secs - t).abs() > tolerance_secs {
        return Err(SignatureError::Expired);
    }
    let matches = candidates.iter().any(|given| {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
            return false;
        };
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(given).is_ok()
    });
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

pub async fn get(db: &Db, id: i64) -> Result<Option<WebhookEvent>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM webhook_events WHERE id = $1");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await)?)
}

/// Events newest first, optionally of one state, before `before_id`.
pub async fn list(
    db: &Db,
    state: Option<&str>,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<WebhookEvent>> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM webhook_events
         WHERE id < $1 AND ($2 = '' OR state = $2) ORDER BY id DESC LIMIT $3"
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql)
        .bind(before_id.unwrap_or(i64::MAX)).bind(state.unwrap_or("")).bind(limit.clamp(1, 500))
        .fetch_all(p).await)?)
}

/// An event's delivery tries, oldest first.
pub async fn deliveries(db: &Db, event_id: i64) -> Result<Vec<WebhookDelivery>> {
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT id, event_id, attempt, at, status_code, error, duration_ms FROM webhook_deliveries
         WHERE event_id = $1 ORDER BY id"
    ).bind(event_id).fetch_all(p).await)?)
}

/// The background loop `rebound serve` runs: [`deliver_due`] every second
/// (at once again while there is a backlog), until `stop` turns true.
pub async fn run(
    db: Db,
    clock: Arc<dyn Clock>,
    cfg: ShopWebhookConfig,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    if cfg.url.is_none() {
        tracing::info!("shop_webhook.url is not set: shop events are stored, not sent");
        return;
    }
    let client = match http_client(&cfg) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "shop webhooks are off");
            return;
        }
    };
    loop {
        if *stop.borrow() {
            return;
        }
        let busy = match deliver_due(&db, clock.now_ms(), &cfg, &client).await {
            Ok(n) => n as i64 >= BATCH,
            Err(e) => {
                tracing::warn!(error = %e, "shop webhook delivery round failed");
                false
            }
        };
        if busy {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            changed = stop.changed() => {
                if changed.is_err() {
                    return; // the sender is gone: the server is shutting down
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(retry_delay_ms(1), 30_000);
        assert_eq!(retry_delay_ms(2), 60_000);
        assert_eq!(retry_delay_ms(3), 120_000);
        assert_eq!(retry_delay_ms(8), 3_600_000);
        assert_eq!(retry_delay_ms(60), 3_600_000);
    }

    #[test]
    fn signatures_verify_and_fail() {
        let body = br#"{"id":1,"type":"receipt.held","created":1800000000,"data":{}}"#;
        let header = sign("whsec_test", 1_800_000_000, body);
        assert!(header.starts_with("t=1800000000,v1="));
        assert_eq!(
            verify_signature("whsec_test", &header, body, 1_800_000_100, 300),
            Ok(())
        );
        assert_eq!(
            verify_signature("other", &header, body, 1_800_000_100, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature("whsec_test", &header, b"{}", 1_800_000_100, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature("whsec_test", &header, body, 1_800_001_000, 300),
            Err(SignatureError::Expired)
        );
        assert_eq!(
            verify_signature("whsec_test", "v1=zz", body, 1_800_000_000, 300),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_signature("whsec_test", "nonsense", body, 1_800_000_000, 300),
            Err(SignatureError::Malformed)
        );
        // Several v1 values (during a secret rotation): one match suffices.
        let rotated = format!("{header},v1={}", "00".repeat(32));
        assert_eq!(
            verify_signature("whsec_test", &rotated, body, 1_800_000_000, 300),
            Ok(())
        );
    }

    #[test]
    fn signature_is_hmac_sha256_of_t_dot_body() {
        // Independent check: HMAC-SHA256("key", "1.{}") computed with OpenSSL.
        assert_eq!(
            sign("key", 1, b"{}"),
            "t=1,v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
    }
}
