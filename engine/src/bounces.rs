//! Bounces from every source go through here: classified by the one
//! classifier, tied back to the exact send attempt, stored with the raw
//! message, written on the order's timeline, and acted on (suppress a dead
//! address or a complainer, hold or retry an order whose accepted receipt
//! bounced later).

use serde::{Deserialize, Serialize};

use crate::bounce::{BounceClass, Classifier, RecipientVerdict};
use crate::clock::Millis;
use crate::db::Db;
use crate::delivery::policy::RetryPolicy;
use crate::delivery::worker::{ATTEMPT_COLUMNS, Attempt};
use crate::error::Result;
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
        .map_err(|e| crate::Error::invalid(format!("not a readable message: {e}")))?;
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
        let _ = crate::suppression::suppress(db, now, rcpt, reason, source, None).await;
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
    let order = crate::orders::get(db, a.order_id).await?;
    let accepted = order.as_ref().is_some_and(|o| o.state == "accepted");
    if !accepted
        || v.report
            .action
            .as_deref()
            .is_some_and(|x| x.eq_ignore_ascii_case("delayed"))
    {
        return Ok(());
    }
    // The receipt was accepted, and now it has come back.
    let next = match class {
        BounceClass::RecipientPermanent if v.hard_bounce => Some(None),
        BounceClass::Transient | BounceClass::SenderReputation => {
            Some(policy.delay_after(a.attempt_no))
        }
        BounceClass::Content => Some(None),
        _ => None,
    };
    let Some(next) = next else { return Ok(()) };
    match next {
        Some(delay) => {
            exec_on_pool!(db, p => sqlx::query(
                "UPDATE orders SET state = 'retry_scheduled', state_detail = $1, updated_at = $2 WHERE id = $3 AND state = 'accepted'"
            ).bind(format!("bounced after acceptance: {reason}")).bind(now).bind(a.order_id).execute(p).await)?;
            exec_on_pool!(db, p => sqlx::query(
                "INSERT INTO jobs (kind, order_id, attempt_no, due_at, state, created_at)
                 VALUES ('send', $1, $2, $3, 'queued', $4) ON CONFLICT DO NOTHING"
            ).bind(a.order_id).bind(a.attempt_no + 1).bind(now + delay).bind(now).execute(p).await)?;
            crate::orders::add_event(
                db,
                a.order_id,
                now,
                "retry_scheduled",
                &format!("attempt {} after a late bounce", a.attempt_no + 1),
            )
            .await?;
        }
        None => {
            exec_on_pool!(db, p => sqlx::query(
                "UPDATE orders SET state = 'held', state_detail = $1, updated_at = $2 WHERE id = $3 AND state = 'accepted'"
            ).bind(format!("bounced after acceptance: {reason}")).bind(now).bind(a.order_id).execute(p).await)?;
            crate::orders::add_event(
                db,
                a.order_id,
                now,
                "held",
                &format!("the accepted receipt bounced: {reason}"),
            )
            .await?;
        }
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
