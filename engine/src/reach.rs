//! Reach: the moment the customer actually had the receipt, by any channel
//! (accepted email that did not bounce within the window, link opened, PDF
//! downloaded, notification seen, SMS delivered). Reach rate and
//! time-to-receipt are the product's headline numbers.

use crate::clock::Millis;
use crate::db::Db;
use crate::error::Result;
use crate::exec_on_pool;

/// Channels that can reach a customer (stored in `orders.reached_via`).
pub const CHANNELS: &[&str] = &[
    "email",
    "link_opened",
    "pdf_downloaded",
    "notification_seen",
    "sms_delivered",
    "support_call",
];

/// Records that the customer had the receipt via `channel` at `now`. Only the
/// first reach counts; later ones return `false` and change nothing.
pub async fn mark(db: &Db, order_id: i64, now: Millis, channel: &str) -> Result<bool> {
    debug_assert!(
        CHANNELS.contains(&channel),
        "unknown reach channel {channel}"
    );
    let changed = exec_on_pool!(db, p => sqlx::query(
        "UPDATE orders SET reached_at = $1, reached_via = $2 WHERE id = $3 AND reached_at IS NULL"
    ).bind(now).bind(channel).bind(order_id).execute(p).await)?;
    let first = changed == 1;
    if first {
        crate::orders::add_event(
            db,
            order_id,
            now,
            "reached",
            &format!("receipt reached the customer: {channel}"),
        )
        .await?;
        // The customer has it: an open support case for it is done.
        exec_on_pool!(db, p => sqlx::query(
            "UPDATE support_cases SET status = 'resolved', resolved_at = $1, resolved_by = 'rebound',
             resolution_note = $2, working_by = NULL, working_since = NULL WHERE order_id = $3 AND status = 'open'"
        ).bind(now).bind(format!("the customer was reached ({channel})")).bind(order_id).execute(p).await)?;
    }
    Ok(first)
}
