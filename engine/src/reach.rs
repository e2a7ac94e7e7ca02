//! Reach: the moment the customer actually had the receipt, by any channel
//! (accepted email that did not bounce within the window, link opened, PDF
//! downloaded, notification seen, SMS or WhatsApp delivered). Reach rate and
//! time-to-receipt are the product's headline numbers.

use crate::clock::Millis;
use crate::db::Db;
use crate::error::Result;
use crate::on_pool;
use crate::orders::Order;
use crate::orders::agent_log::{self, Agent, EVENT_SQL};

/// Channels that can reach a customer (stored in `orders.reached_via`).
pub const CHANNELS: &[&str] = &[
    "email",
    "link_opened",
    "pdf_downloaded",
    "notification_seen",
    "sms_delivered",
    "whatsapp_delivered",
    "support_call",
];

/// Records that the customer had the receipt via `channel` at `now`. Only the
/// first reach counts; later ones return `false` and change nothing. The
/// reach, its timeline event and the end of an open support case for the
/// order commit together.
pub async fn mark(db: &Db, order_id: i64, now: Millis, channel: &str) -> Result<bool> {
    reach(db, order_id, now, channel, None).await
}

/// An agent's action that reached the customer (a call that got through):
/// [`mark`] and the agent's record of it (`action` on the order with
/// `detail`, audited and on the timeline: `orders::agent_log`) in one
/// transaction. The record is written even when an earlier reach counted.
pub async fn mark_by(
    db: &Db,
    now: Millis,
    agent: &Agent,
    order: &Order,
    channel: &str,
    action: &str,
    detail: &str,
) -> Result<bool> {
    reach(
        db,
        order.id,
        now,
        channel,
        Some((agent, order, action, detail)),
    )
    .await
}

async fn reach(
    db: &Db,
    order_id: i64,
    now: Millis,
    channel: &str,
    by: Option<(&Agent, &Order, &str, &str)>,
) -> Result<bool> {
    debug_assert!(
        CHANNELS.contains(&channel),
        "unknown reach channel {channel}"
    );
    let event = format!("receipt reached the customer: {channel}");
    let resolution = format!("the customer was reached ({channel})");
    Ok(on_pool!(db, p => {
        let mut tx = p.begin().await?;
        let changed = sqlx::query(
            "UPDATE orders SET reached_at = $1, reached_via = $2 WHERE id = $3 AND reached_at IS NULL"
        ).bind(now).bind(channel).bind(order_id).execute(&mut *tx).await?.rows_affected();
        let first = changed == 1;
        if first {
            sqlx::query(EVENT_SQL)
                .bind(order_id).bind(now).bind("reached").bind(&event)
                .execute(&mut *tx).await?;
            // The customer has it: an open support case for it is done.
            sqlx::query(
                "UPDATE support_cases SET status = 'resolved', resolved_at = $1, resolved_by = 'rebound',
                 resolution_note = $2, working_by = NULL, working_since = NULL WHERE order_id = $3 AND status = 'open'"
            ).bind(now).bind(&resolution).bind(order_id).execute(&mut *tx).await?;
        }
        if let Some((agent, order, action, detail)) = by {
            agent_log::in_tx!(tx, now, agent, order, action, detail)?;
        }
        tx.commit().await?;
        first
    }))
}
