//! Account notifications for logged-in customers. The shop reads them with
//! its API key (`GET /api/v1/customers/{ref}/notifications`) and shows them
//! in the customer's account; the receipt itself is fetched through the
//! shop (`/api/v1/orders/{n}/receipt`), so no link secret is stored here.

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::{exec_on_pool, on_pool};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Notification {
    pub id: i64,
    pub order_id: i64,
    pub order_number: String,
    pub customer_ref: String,
    /// `receipt_held`.
    pub kind: String,
    pub message: String,
    pub created_at: Millis,
    pub seen_at: Option<Millis>,
}

const SELECT: &str = "SELECT n.id, n.order_id, o.order_number, n.customer_ref, n.kind, n.message, n.created_at, n.seen_at
    FROM notifications n JOIN orders o ON o.id = n.order_id";

/// Posts the order's `receipt_held` notification unless it already exists.
/// Returns it and whether it is new.
pub async fn post_receipt_held(
    db: &Db,
    now: Millis,
    order: &crate::orders::Order,
    customer_ref: &str,
    message: &str,
) -> Result<(Notification, bool)> {
    // (A high-risk order may already hold a `receipt_ready` one from intake.)
    let held = for_order(db, order.id)
        .await?
        .into_iter()
        .find(|n| n.kind == "receipt_held");
    if let Some(n) = held {
        return Ok((n, false));
    }
    let id: i64 = on_pool!(db, p => sqlx::query_scalar(
        "INSERT INTO notifications (order_id, customer_ref, kind, message, created_at)
         VALUES ($1, $2, 'receipt_held', $3, $4) RETURNING id"
    ).bind(order.id).bind(customer_ref).bind(message).bind(now).fetch_one(p).await)?;
    let n = get(db, id)
        .await?
        .ok_or_else(|| Error::Internal("notification vanished".into()))?;
    Ok((n, true))
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Notification>> {
    let sql = format!("{SELECT} WHERE n.id = $1");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await)?)
}

pub async fn for_order(db: &Db, order_id: i64) -> Result<Vec<Notification>> {
    let sql = format!("{SELECT} WHERE n.order_id = $1 ORDER BY n.id");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(order_id).fetch_all(p).await)?)
}

/// A customer's notifications, newest first.
pub async fn for_customer(db: &Db, customer_ref: &str, limit: i64) -> Result<Vec<Notification>> {
    let sql = format!("{SELECT} WHERE n.customer_ref = $1 ORDER BY n.id DESC LIMIT $2");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(customer_ref).bind(limit).fetch_all(p).await)?)
}

/// The customer saw it: that is reach. Only the customer's own notification
/// can be marked (the reference must match).
pub async fn mark_seen(db: &Db, now: Millis, customer_ref: &str, id: i64) -> Result<Notification> {
    let n = get(db, id)
        .await?
        .filter(|n| n.customer_ref == customer_ref)
        .ok_or_else(|| Error::NotFound(format!("notification {id}")))?;
    let changed = exec_on_pool!(db, p => sqlx::query(
        "UPDATE notifications SET seen_at = $1 WHERE id = $2 AND seen_at IS NULL"
    ).bind(now).bind(id).execute(p).await)?;
    if changed == 1 {
        crate::orders::add_event(
            db,
            n.order_id,
            now,
            "notification_seen",
            "the customer saw the account notification",
        )
        .await?;
        crate::reach::mark(db, n.order_id, now, "notification_seen").await?;
    }
    get(db, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("notification {id}")))
}
