//! Carries out fallback decisions for held orders, and credits email reach.

use crate::clock::Millis;
use crate::config::Config;
use crate::db::Db;
use crate::error::Result;
use crate::orders::Order;
use crate::{exec_on_pool, on_pool};

use super::decide::{Facts, decide};

/// A claimed decision not finished within this long (its process died) is
/// taken over by another.
const CLAIM_LEASE_MS: i64 = 120_000;

/// Decides and acts for held orders that have no decision yet. Returns how
/// many orders it handled.
pub async fn run_due(db: &Db, now: Millis, config: &Config) -> Result<usize> {
    let ids: Vec<i64> = on_pool!(db, p => sqlx::query_scalar(
        // The second line is the condition of the `orders_held_undecided` index
        // (SQLite uses a partial index only for a term written as in it); with the
        // third it is the same as "undecided, or claimed and the claim expired".
        // Without it every round read every held order ever.
        "SELECT id FROM orders WHERE state = 'held'
           AND (fallback_at IS NULL OR fallback_path = 'pending')
           AND (fallback_at IS NULL OR fallback_at < $1)
         ORDER BY updated_at LIMIT 50"
    ).bind(now - CLAIM_LEASE_MS).fetch_all(p).await)?;
    let mut done = 0;
    for id in ids {
        // Claim: only one process acts on an order.
        let claimed = exec_on_pool!(db, p => sqlx::query(
            "UPDATE orders SET fallback_at = $1, fallback_path = 'pending'
             WHERE id = $2 AND state = 'held'
               AND (fallback_at IS NULL OR (fallback_path = 'pending' AND fallback_at < $3))"
        ).bind(now).bind(id).bind(now - CLAIM_LEASE_MS).execute(p).await)?;
        if claimed != 1 {
            continue;
        }
        let Some(order) = crate::orders::get(db, id).await? else {
            continue;
        };
        act(db, now, config, &order, false).await?;
        done += 1;
    }
    Ok(done)
}

/// The customer (or an agent on their behalf) reports the receipt missing:
/// the order goes to support as critical, whatever state it is in.
pub async fn customer_reported(
    db: &Db,
    now: Millis,
    config: &Config,
    order: &Order,
    by: &str,
) -> Result<()> {
    crate::orders::add_event(
        db,
        order.id,
        now,
        "customer_reported",
        &format!("receipt reported missing (recorded by {by})"),
    )
    .await?;
    act(db, now, config, order, true).await
}

async fn facts(
    db: &Db,
    now: Millis,
    config: &Config,
    order: &Order,
    reported: bool,
) -> Result<Facts> {
    let dead = crate::suppression::active(db, now, &order.customer_email)
        .await?
        .is_some()
        || order.state_detail.contains("dead");
    let soft: i64 = on_pool!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM delivery_attempts WHERE order_id = $1 AND class IN ('transient', 'sender_reputation')"
    ).bind(order.id).fetch_one(p).await)?;
    Ok(Facts {
        account_kind: order.account_kind.clone(),
        has_customer_ref: order.customer_ref.as_deref().is_some_and(|r| !r.is_empty()),
        dead_address: dead,
        soft_failures: soft,
        total_minor: order.total_minor,
        currency: order.currency.clone(),
        customer_reported: reported,
        whatsapp: config.whatsapp.enabled() && crate::sms::whatsapp::refusal(order).is_none(),
    })
}

async fn act(db: &Db, now: Millis, config: &Config, order: &Order, reported: bool) -> Result<()> {
    let f = facts(db, now, config, order, reported).await?;
    let d = decide(&f, &config.fallback);
    if d.notify_account
        && let Some(customer_ref) = order.customer_ref.as_deref()
    {
        let message = account_message(config, order);
        let (n, new) =
            super::notifications::post_receipt_held(db, now, order, customer_ref, &message).await?;
        if new {
            crate::orders::add_event(
                db,
                order.id,
                now,
                "notification",
                &format!("account notification #{} posted", n.id),
            )
            .await?;
            let payload = serde_json::json!({
                "order_number": order.order_number,
                "customer_ref": customer_ref,
                "notification_id": n.id,
                "message": n.message,
                "reason": order.state_detail,
                "receipt_url": format!("/api/v1/orders/{}/receipt", order.order_number),
                "receipt_pdf_url": format!("/api/v1/orders/{}/receipt.pdf", order.order_number),
            });
            crate::shop_webhooks::enqueue(db, now, "receipt.held", payload).await?;
        }
    }
    if d.masked_link {
        exec_on_pool!(db, p => sqlx::query(
            "INSERT INTO jobs (kind, order_id, attempt_no, due_at, state, created_at)
             VALUES ('masked_link', $1, 1, $2, 'queued', $2) ON CONFLICT DO NOTHING"
        ).bind(order.id).bind(now).execute(p).await)?;
    }
    if d.whatsapp_link {
        super::whatsapp::send_fallback_link(db, now, config, order).await?;
    }
    if let Some(priority) = d.support_priority {
        super::support::open(db, now, order.id, priority, &d.why, &config.fallback).await?;
    }
    if reported {
        // A report adds to an earlier decision, it does not replace it.
        if order.fallback_path.is_some() && order.fallback_path.as_deref() != Some("pending") {
            return Ok(());
        }
    }
    exec_on_pool!(db, p => sqlx::query(
        "UPDATE orders SET fallback_at = $1, fallback_path = $2, fallback_why = $3 WHERE id = $4"
    ).bind(now).bind(&d.path).bind(&d.why).bind(order.id).execute(p).await)?;
    crate::orders::add_event(db, order.id, now, "fallback", &d.why).await?;
    crate::metrics::fallback(&d.path);
    Ok(())
}

/// The account notification's text in the order's language (its
/// `customer.locale`, else `shop.default_locale`, else English): the
/// catalogue's `notification-receipt-held`.
pub fn account_message(config: &Config, order: &Order) -> String {
    crate::i18n::Lang::for_customer(
        order.customer_locale.as_deref(),
        config.shop.default_locale.as_deref(),
    )
    .t(
        "notification-receipt-held",
        &[
            ("order", order.order_number.as_str()),
            ("shop", config.shop.name.as_str()),
        ],
    )
}

/// How far before its previous look [`escalate_bounced_masked`] looks again: a
/// bounce stored by a transaction still open then, or by a process whose clock
/// is behind, is dated a little earlier than it became visible.
const ESCALATION_OVERLAP_MS: i64 = 10 * 60_000;

/// A masked re-send that was accepted and then bounced (a DSN or ESP event
/// tied to its attempt) means the fallback failed too: critical support.
/// Looks at bounces received since the process's `previous_look` less
/// [`ESCALATION_OVERLAP_MS`] (all of them on its first look): every round
/// reading every bounce ever grew with the history (1 M orders: 8–15 ms a
/// round, four rounds a second). An order already escalated for a bounce is
/// not escalated again, so looking twice is harmless.
pub async fn escalate_bounced_masked(
    db: &Db,
    previous_look: Option<Millis>,
    now: Millis,
    config: &Config,
) -> Result<usize> {
    let since = previous_look.map_or(0, |at| at - ESCALATION_OVERLAP_MS);
    // Not `DISTINCT`: SQLite would then walk every bounce in order-id order
    // instead of the recent ones by time; duplicates are dropped here.
    let mut ids: Vec<i64> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT b.order_id FROM bounces b
           JOIN delivery_attempts a ON a.id = b.attempt_id
           JOIN orders o ON o.id = b.order_id
         WHERE b.received_at >= $1 AND a.purpose = 'masked_link' AND o.reached_at IS NULL
           AND b.class IN ('recipient_permanent', 'sender_reputation', 'content')
           AND NOT EXISTS (SELECT 1 FROM support_cases c WHERE c.order_id = b.order_id AND c.opened_at >= b.received_at)"
    ).bind(since).fetch_all(p).await)?;
    ids.sort_unstable();
    ids.dedup();
    for &order_id in &ids {
        super::support::open(
            db,
            now,
            order_id,
            super::decide::PRIORITY_CRITICAL,
            "the masked re-send bounced after it was accepted",
            &config.fallback,
        )
        .await?;
    }
    Ok(ids.len())
}

/// Credits email reach: an accepted receipt with no bounce within the
/// window reached the customer when it was accepted. A delay notice
/// (transient) does not count against it: a real transient failure of an
/// accepted receipt moves it out of `accepted` (a retry) anyway.
pub async fn sweep_email_reach(db: &Db, now: Millis, window_ms: i64) -> Result<u64> {
    Ok(exec_on_pool!(db, p => sqlx::query(
        "UPDATE orders SET reached_via = 'email',
            reached_at = (SELECT MAX(a.finished_at) FROM delivery_attempts a
                          WHERE a.order_id = orders.id AND a.outcome = 'accepted')
         WHERE state = 'accepted' AND reached_at IS NULL AND updated_at < $1
           AND EXISTS (SELECT 1 FROM delivery_attempts a WHERE a.order_id = orders.id AND a.outcome = 'accepted')
           AND NOT EXISTS (SELECT 1 FROM bounces b WHERE b.order_id = orders.id AND b.received_at >= orders.updated_at
                           AND b.class NOT IN ('auto_reply', 'delivered', 'transient'))"
    ).bind(now - window_ms).execute(p).await)?)
}
