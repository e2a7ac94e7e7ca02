//! Bounces from every source go through here: classified by the one
//! classifier, tied back to the exact send attempt, stored with the raw
//! message, written on the order's timeline, and acted on (suppress a dead
//! address or a complainer, hold or retry an order whose accepted receipt
//! bounced later).

use serde::{Deserialize, Serialize};

use crate::bounce::esp::pipeline::{self, Inbound, Outcome, Refused};
use crate::bounce::esp::{EspEvent, EventKind, Provider, store};
use crate::bounce::{BounceClass, Classifier, RecipientVerdict};
use crate::clock::Millis;
use crate::db::Db;
use crate::delivery::attempts::{ATTEMPT_COLUMNS, Attempt};
use crate::delivery::policy::RetryPolicy;
use crate::delivery::state::{Delivered, ReceiptState};
use crate::error::{Error, Result};
use crate::{exec_on_pool, on_pool};

/// How long after a send a bounce that names only the recipient is still
/// tied to it.
const RECIPIENT_MATCH_WINDOW_MS: i64 = 7 * 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct BounceRecord {
    pub id: i64,
    pub received_at: Millis,
    pub source: String,
    pub order_id: Option<i64>,
    pub attempt_id: Option<i64>,
    /// `verp`, `message_id`, `recipient` or `none` (kept and shown, never dropped).
    pub matched_by: String,
    pub recipient: Option<String>,
    pub reason: String,
    pub class: String,
    pub hard: bool,
    pub status: Option<String>,
    pub reply_code: Option<i64>,
    pub rule: String,
    pub diagnostic: String,
    pub raw: Option<String>,
}

const COLUMNS: &str = "id, received_at, source, order_id, attempt_id, matched_by, recipient, reason, class, \
    hard, status, reply_code, rule, diagnostic, raw";

/// The outcome of ingesting one raw message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ingested {
    pub bounce_ids: Vec<i64>,
    pub matched: usize,
    pub unmatched: usize,
}

/// The newest attempt matching `clause` (which binds `$1` to `value`), and
/// started after `since` when given.
async fn attempt_where(
    db: &Db,
    clause: &str,
    value: &str,
    since: Option<Millis>,
) -> Result<Option<Attempt>> {
    let window = if since.is_some() {
        " AND started_at > $2"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {ATTEMPT_COLUMNS} FROM delivery_attempts WHERE {clause}{window} ORDER BY id DESC LIMIT 1"
    );
    Ok(on_pool!(db, p => {
        let q = sqlx::query_as(&sql).bind(value);
        match since {
            Some(t) => q.bind(t).fetch_optional(p).await,
            None => q.fetch_optional(p).await,
        }
    })?)
}

async fn correlate(
    db: &Db,
    now: Millis,
    v: &RecipientVerdict,
) -> Result<(Option<Attempt>, &'static str)> {
    if let Some(token) = &v.verp_token
        && let Some(a) = attempt_where(db, "verp_token = $1", token, None).await?
    {
        return Ok((Some(a), "verp"));
    }
    if let Some(mid) = &v.original_message_id {
        let mid = mid.trim().trim_start_matches('<').trim_end_matches('>');
        if let Some(a) = attempt_where(db, "message_id = $1", mid, None).await? {
            return Ok((Some(a), "message_id"));
        }
    }
    if let Some(rcpt) = &v.recipient {
        let found = attempt_where(
            db,
            "order_id IN (SELECT id FROM orders WHERE customer_email = $1)",
            &rcpt.to_lowercase(),
            Some(now - RECIPIENT_MATCH_WINDOW_MS),
        )
        .await?;
        if let Some(a) = found {
            return Ok((Some(a), "recipient"));
        }
    }
    Ok((None, "none"))
}

/// Classifies a raw bounce / feedback / auto-reply message and applies it.
pub async fn ingest_message(
    db: &Db,
    now: Millis,
    classifier: &Classifier,
    policy: &RetryPolicy,
    raw: &[u8],
    source: &str,
) -> Result<Ingested> {
    let verdicts = classifier
        .classify_message(raw)
        .map_err(|e| Error::invalid(format!("not a readable message: {e}")))?;
    let raw_text = String::from_utf8_lossy(raw).into_owned();
    let mut out = Ingested {
        bounce_ids: Vec::new(),
        matched: 0,
        unmatched: 0,
    };
    for v in &verdicts {
        let (attempt, matched_by) = correlate(db, now, v).await?;
        let src = match v.verdict.class {
            BounceClass::Complaint => "arf",
            BounceClass::AutoReply => "autoreply",
            _ => source,
        };
        let id = record(
            db,
            now,
            src,
            attempt.as_ref(),
            matched_by,
            v,
            Some(&raw_text),
        )
        .await?;
        out.bounce_ids.push(id);
        if attempt.is_some() {
            out.matched += 1
        } else {
            out.unmatched += 1
        }
        apply(db, now, policy, attempt.as_ref(), v, src).await?;
    }
    Ok(out)
}

/// Applies verified, normalised ESP webhook events ([`crate::bounce::esp`]) exactly like
/// DSNs: each is classified by the one classifier, tied to the send it answers (by our
/// Message-ID when the provider echoes it, else by the recipient within the window), stored
/// with the provider's JSON for that event as the raw message under `source` (`ses`,
/// `sendgrid`, `postmark`, `mailgun`), written on the order's timeline and acted on (hard
/// bounces and complaints suppress; sender-reputation blocks and passing failures never do).
///
/// A `delivered` event is not a bounce: it stores no bounce row and only writes a
/// `delivered` line on the order's timeline, so only failures count as soft bounces.
pub async fn ingest_esp_events(
    db: &Db,
    now: Millis,
    classifier: &Classifier,
    policy: &RetryPolicy,
    events: &[EspEvent],
    source: &str,
) -> Result<Ingested> {
    let mut out = Ingested {
        bounce_ids: Vec::new(),
        matched: 0,
        unmatched: 0,
    };
    for ev in events {
        let v = classifier.classify_esp(ev);
        let (attempt, matched_by) = correlate(db, now, &v).await?;
        if attempt.is_some() {
            out.matched += 1
        } else {
            out.unmatched += 1
        }
        if ev.kind == EventKind::Delivered {
            // A good delivery ends the recipient's run of soft bounces.
            if let Some(rcpt) = &v.recipient {
                crate::soft_bounces::reset(db, rcpt).await?;
            }
            if let Some(a) = &attempt {
                let detail = match v.reply.text.trim() {
                    "" => format!("{source}: delivered to the recipient's mail server"),
                    reply => {
                        format!("{source}: delivered to the recipient's mail server ({reply})")
                    }
                };
                crate::orders::add_event(db, a.order_id, now, "delivered", &detail).await?;
            }
            continue;
        }
        let raw = serde_json::to_string(&ev.raw).ok();
        let id = record(
            db,
            now,
            source,
            attempt.as_ref(),
            matched_by,
            &v,
            raw.as_deref(),
        )
        .await?;
        out.bounce_ids.push(id);
        apply(db, now, policy, attempt.as_ref(), &v, source).await?;
    }
    Ok(out)
}

/// One ESP webhook request, the whole path: [`pipeline::receive`] verifies, parses,
/// normalises, dedupes and classifies it, then its fresh events are applied
/// ([`ingest_esp_events`], with the retry `policy` for a receipt that came back). When
/// applying fails, the events' dedupe claims are released so the provider's retry
/// applies them.
pub async fn handle_esp_request(
    cx: &pipeline::Context<'_>,
    policy: &RetryPolicy,
    p: Provider,
    req: &Inbound<'_>,
) -> std::result::Result<Outcome, Refused> {
    let pipeline::Received {
        outcome: mut out,
        fresh,
        claimed,
    } = pipeline::receive(cx, p, req).await?;
    if out.subscription.is_some() {
        return Ok(out);
    }
    let applied = ingest_esp_events(cx.db, cx.now, cx.classifier, policy, &fresh, p.as_str()).await;
    let got = match applied {
        Ok(got) => got,
        Err(e) => {
            // Not applied: forget the claims so the provider's retry applies them.
            if let Err(e2) = store::release(cx.db, p, &claimed).await {
                tracing::error!(provider = %p, error = %e2, "releasing webhook event claims failed");
            }
            return Err(e.into());
        }
    };
    out.matched = got.matched;
    out.unmatched = got.unmatched;
    out.bounce_ids = got.bounce_ids;
    Ok(out)
}

/// Webhook requests refused for one provider and reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct WebhookRejections {
    pub provider: String,
    /// `missing`, `bad_signature`, `stale`, `untrusted_certificate`, `unknown_topic`.
    pub reason: String,
    pub rejected: i64,
    pub first_at: Millis,
    pub last_at: Millis,
}

/// Counts one refused webhook request.
pub async fn record_webhook_rejection(
    db: &Db,
    now: Millis,
    provider: &str,
    reason: &str,
) -> Result<()> {
    crate::metrics::webhook_verification_failure(provider);
    exec_on_pool!(db, p => sqlx::query(
        "INSERT INTO webhook_rejections (provider, reason, rejected, first_at, last_at)
         VALUES ($1, $2, 1, $3, $3)
         ON CONFLICT (provider, reason) DO UPDATE
         SET rejected = webhook_rejections.rejected + 1, last_at = $3"
    ).bind(provider).bind(reason).bind(now).execute(p).await)?;
    Ok(())
}

/// Refused webhook requests per provider and reason, by provider.
pub async fn webhook_rejections(db: &Db) -> Result<Vec<WebhookRejections>> {
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT provider, reason, rejected, first_at, last_at FROM webhook_rejections ORDER BY provider, reason"
    ).fetch_all(p).await)?)
}

/// Refused webhook requests per provider (`provider`, total), by provider.
pub async fn webhook_rejection_counts(db: &Db) -> Result<Vec<(String, i64)>> {
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT provider, CAST(SUM(rejected) AS BIGINT) AS n FROM webhook_rejections
         GROUP BY provider ORDER BY provider"
    ).fetch_all(p).await)?)
}

async fn record(
    db: &Db,
    now: Millis,
    source: &str,
    attempt: Option<&Attempt>,
    matched_by: &str,
    v: &RecipientVerdict,
    raw: Option<&str>,
) -> Result<i64> {
    let sql =         "INSERT INTO bounces (received_at, source, order_id, attempt_id, matched_by, recipient, reason, class, hard,
         status, reply_code, rule, diagnostic, raw)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id";
    crate::metrics::bounce(v.verdict.class.as_str());
    Ok(on_pool!(db, p => sqlx::query_scalar(sql)
        .bind(now).bind(source).bind(attempt.map(|a| a.order_id)).bind(attempt.map(|a| a.id)).bind(matched_by)
        .bind(&v.recipient).bind(v.verdict.reason.as_str()).bind(v.verdict.class.as_str()).bind(v.hard_bounce)
        .bind(&v.reply.enhanced).bind(v.reply.code.map(i64::from)).bind(&v.verdict.rule_id).bind(&v.reply.text)
        .bind(raw)
        .fetch_one(p).await)?)
}

/// What a bounce changes: the suppression list, and the order it belongs to.
async fn apply(
    db: &Db,
    now: Millis,
    policy: &RetryPolicy,
    attempt: Option<&Attempt>,
    v: &RecipientVerdict,
    source: &str,
) -> Result<()> {
    let class = v.verdict.class;
    let reason = v.verdict.reason.as_str();
    if (v.hard_bounce || class == BounceClass::Complaint)
        && let Some(rcpt) = &v.recipient
    {
        // A malformed address in a report cannot be suppressed; the bounce is still kept.
        match crate::suppression::suppress(db, now, rcpt, reason, source, None).await {
            Ok(_) => {}
            Err(Error::Invalid(_)) => {
                tracing::warn!(
                    source,
                    "a bounce names an address that cannot be suppressed"
                );
            }
            Err(e) => return Err(e),
        }
    }
    if class == BounceClass::Transient
        && let Some(rcpt) = &v.recipient
    {
        crate::soft_bounces::record(db, now, rcpt).await?;
    }
    let Some(a) = attempt else { return Ok(()) };
    let detail = format!(
        "{source} bounce: {} ({}, {}) rule {}",
        if v.reply.text.is_empty() {
            "no diagnostic"
        } else {
            v.reply.text.as_str()
        },
        reason,
        class.as_str(),
        v.verdict.rule_id
    );
    crate::orders::add_event(db, a.order_id, now, "bounce", &detail).await?;
    let Some(order) = crate::orders::get(db, a.order_id).await? else {
        return Ok(());
    };
    let delayed = v
        .report
        .action
        .as_deref()
        .is_some_and(|x| x.eq_ignore_ascii_case("delayed"));
    let state = ReceiptState::parse(&order.state);
    // The receipt was accepted, and now it has come back (a "delayed" report is not a bounce).
    let late = state
        .and_then(|s| Delivered::begin(a.order_id, s, a.attempt_no))
        .filter(|_| !delayed)
        .and_then(|d| d.bounced(class, v.hard_bounce, policy, now, reason));
    if let Some(t) = late {
        t.write(db, now).await?;
    }
    Ok(())
}

/// Bounces of one order, oldest first.
pub async fn for_order(db: &Db, order_id: i64) -> Result<Vec<BounceRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM bounces WHERE order_id = $1 ORDER BY id");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(order_id).fetch_all(p).await)?)
}

/// Bounces no send could be tied to, newest first.
pub async fn unmatched(db: &Db, limit: i64) -> Result<Vec<BounceRecord>> {
    let sql =
        format!("SELECT {COLUMNS} FROM bounces WHERE order_id IS NULL ORDER BY id DESC LIMIT $1");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(limit.clamp(1, 500)).fetch_all(p).await)?)
}

/// How often each classifier rule decided a bounce or a synchronous rejection
/// since `since`, most frequent first.
pub async fn rule_counts(db: &Db, since: Millis) -> Result<Vec<(String, i64)>> {
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT rule, COUNT(*) AS n FROM (
             SELECT rule FROM bounces WHERE received_at >= $1
             UNION ALL
             SELECT rule FROM delivery_attempts WHERE rule IS NOT NULL AND finished_at >= $1
         ) AS decided GROUP BY rule ORDER BY n DESC, rule"
    ).bind(since).fetch_all(p).await)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounce::esp::{self, Provider};
    use crate::clock::Clock;
    use crate::delivery::attempts::attempts;
    use crate::delivery::pools::{self, NewPool};
    use crate::delivery::worker::Worker;
    use crate::orders::{self, OrderInput};
    use std::sync::Arc;

    const T0: Millis = 1_800_000_000_000;

    /// An order to `email`, sent (accepted) through a capture pool; returns its id and
    /// the attempt's Message-ID.
    async fn sent_order(db: &Db, number: &str, email: &str) -> (i64, String) {
        if pools::list(db).await.expect("pools").is_empty() {
            pools::create(
                db,
                T0,
                NewPool {
                    name: "primary",
                    role: crate::delivery::pools::PoolRole::Primary,
                    from_name: "Shop",
                    from_address: "receipts@shop.example",
                    relay_url: "capture://",
                    max_per_second: 100,
                    position: 0,
                },
            )
            .await
            .expect("pool");
        }
        let input: OrderInput = serde_json::from_value(serde_json::json!({
            "order_number": number, "placed_at": "2026-11-27T21:00:00Z", "currency": "EUR",
            "items": [{ "name": "Mug", "quantity": 1, "unit_price": 500 }],
            "totals": { "subtotal": 500, "total": 500 },
            "customer": { "email": email, "name": "Jane", "account_kind": "guest" }
        }))
        .expect("order json");
        let o = orders::intake(db, T0, input.validate().expect("valid"), None)
            .await
            .expect("intake");
        let clock = crate::clock::ManualClock::new(T0);
        let worker = Worker::new(
            db.clone(),
            Arc::new(clock) as Arc<dyn Clock>,
            &crate::config::Config::default(),
        )
        .expect("worker");
        worker.run_once().await.expect("send");
        let id = o.order().id;
        let a = attempts(db, id).await.expect("attempts").remove(0);
        (id, a.message_id)
    }

    fn sendgrid(body: serde_json::Value) -> Vec<EspEvent> {
        esp::sendgrid::parse_events(body.to_string().as_bytes()).expect("events")
    }

    #[tokio::test]
    async fn esp_events_are_tied_to_the_send_and_applied_like_dsns() {
        for t in crate::testing::all_backends().await {
            let db = &t.db;
            let policy = RetryPolicy::default();
            let c = Classifier::shared();
            let (dead, dead_mid) = sent_order(db, "E-1", "dead@example.com").await;
            let (blocked, _) = sent_order(db, "E-2", "blocked@example.com").await;
            let (happy, happy_mid) = sent_order(db, "E-3", "happy@example.com").await;
            assert_eq!(
                orders::get(db, dead).await.expect("q").expect("o").state,
                "accepted"
            );

            // A hard bounce echoing our Message-ID: tied by it, held, suppressed.
            let evs = sendgrid(serde_json::json!([{
                "email": "dead@example.com", "timestamp": 1_800_000_000, "event": "bounce",
                "smtp-id": format!("<{dead_mid}>"), "type": "bounce",
                "reason": "550 5.1.1 user unknown", "status": "5.1.1",
                "bounce_classification": "Invalid Address"
            }]));
            let got = ingest_esp_events(db, T0 + 1000, c, &policy, &evs, "sendgrid")
                .await
                .expect("ingest");
            assert_eq!(
                (got.matched, got.unmatched, got.bounce_ids.len()),
                (1, 0, 1)
            );
            let b = for_order(db, dead).await.expect("bounces");
            assert_eq!(
                (
                    b[0].source.as_str(),
                    b[0].matched_by.as_str(),
                    b[0].class.as_str(),
                    b[0].hard
                ),
                ("sendgrid", "message_id", "recipient_permanent", true)
            );
            assert!(
                b[0].raw
                    .as_deref()
                    .unwrap_or("")
                    .contains("Invalid Address"),
                "the event's JSON is kept"
            );
            assert_eq!(
                orders::get(db, dead).await.expect("q").expect("o").state,
                "held"
            );
            assert!(
                crate::suppression::active(db, T0 + 1000, "dead@example.com")
                    .await
                    .expect("q")
                    .is_some()
            );

            // A reputation block tied by recipient: retried, never suppressed.
            let evs = sendgrid(serde_json::json!([{
                "email": "blocked@example.com", "timestamp": 1_800_000_000, "event": "bounce",
                "type": "blocked", "bounce_classification": "Reputation",
                "reason": "554 5.7.1 rejected: poor IP reputation"
            }]));
            ingest_esp_events(db, T0 + 1000, c, &policy, &evs, "sendgrid")
                .await
                .expect("ingest");
            let b = for_order(db, blocked).await.expect("bounces");
            assert_eq!(
                (b[0].matched_by.as_str(), b[0].class.as_str(), b[0].hard),
                ("recipient", "sender_reputation", false)
            );
            assert!(
                crate::suppression::active(db, T0 + 1000, "blocked@example.com")
                    .await
                    .expect("q")
                    .is_none()
            );
            assert_eq!(
                orders::get(db, blocked).await.expect("q").expect("o").state,
                "retry_scheduled"
            );

            // Delivered: a timeline line, no bounce row. Then a complaint suppresses.
            let evs = sendgrid(serde_json::json!([
                { "email": "happy@example.com", "timestamp": 1_800_000_000, "event": "delivered",
                  "smtp-id": format!("<{happy_mid}>"), "response": "250 2.0.0 OK" },
                { "email": "happy@example.com", "timestamp": 1_800_000_001, "event": "spamreport" },
                { "email": "nobody@example.org", "timestamp": 1_800_000_001, "event": "deferred",
                  "response": "451 4.3.0 try again" }
            ]));
            let got = ingest_esp_events(db, T0 + 2000, c, &policy, &evs, "sendgrid")
                .await
                .expect("ingest");
            assert_eq!(
                (got.matched, got.unmatched, got.bounce_ids.len()),
                (2, 1, 2)
            );
            let events = orders::events(db, happy).await.expect("events");
            assert!(
                events
                    .iter()
                    .any(|e| e.kind == "delivered" && e.detail.contains("250 2.0.0 OK")),
                "{events:?}"
            );
            let b = for_order(db, happy).await.expect("bounces");
            assert_eq!(b.len(), 1, "only the complaint is a bounce row");
            assert_eq!(b[0].class, "complaint");
            assert!(
                crate::suppression::active(db, T0 + 2000, "happy@example.com")
                    .await
                    .expect("q")
                    .is_some()
            );
            assert_eq!(unmatched(db, 10).await.expect("u").len(), 1);

            // Rejections are counted per provider.
            for (p, r) in [
                (Provider::Ses, "bad_signature"),
                (Provider::Ses, "bad_signature"),
                (Provider::Ses, "unknown_topic"),
                (Provider::Mailgun, "stale"),
            ] {
                record_webhook_rejection(db, T0 + 3000, p.as_str(), r)
                    .await
                    .expect("count");
            }
            assert_eq!(
                webhook_rejection_counts(db).await.expect("counts"),
                vec![("mailgun".to_string(), 1), ("ses".to_string(), 3)]
            );
            let rows = webhook_rejections(db).await.expect("rows");
            assert_eq!(
                (rows[1].reason.as_str(), rows[1].rejected, rows[1].last_at),
                ("bad_signature", 2, T0 + 3000)
            );
            t.cleanup().await;
        }
    }
}
