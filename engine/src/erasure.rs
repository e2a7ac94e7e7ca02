//! Erasure of one customer's personal data (`rebound privacy erase --email`).
//!
//! Orders stay (totals and items are the shop's books) but lose every trace of
//! the person: address, name, phone, account reference, IP, billing address.
//! Raw messages, captured mails, link use logs and soft-bounce counts go; free
//! texts that quote the address (SMTP replies, timelines, support reasons,
//! the audit log) have it replaced. The address stays suppressed, stored only
//! as `sha256:<hex>` of its lower-cased form, so nothing mails it by mistake.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::accounts::normalize_email;
use crate::audit::{self, Actor};
use crate::clock::Millis;
use crate::db::Db;
use crate::error::Result;
use crate::on_pool;
use crate::privacy::mask_email;

/// What stands in for the address in texts that quoted it.
const ERASED: &str = "[erased]";

/// What an erasure changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErasureReport {
    pub orders: u64,
    pub attempts: u64,
    pub bounces: u64,
    pub outbox: u64,
    pub links: u64,
    pub sms: u64,
    pub notifications: u64,
    pub support_cases: u64,
    pub webhook_events: u64,
    pub audit_entries: u64,
    /// The suppression entry kept for the address.
    pub suppressed_as: String,
}

/// What erasure needs to know of each of the customer's orders.
#[derive(sqlx::FromRow)]
struct CustomerOrder {
    id: i64,
    order_number: String,
    customer_phone: Option<String>,
    customer_ref: Option<String>,
}

/// The suppression list's stand-in for an erased address.
pub fn suppression_key(email: &str) -> String {
    let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
    format!("sha256:{}", hex::encode(digest))
}

/// Erases `email`'s personal data everywhere, in one transaction, and records
/// it in the audit log (with the address masked).
pub async fn erase(db: &Db, now: Millis, email: &str, actor: &Actor) -> Result<ErasureReport> {
    let email = normalize_email(email)?;
    let key = suppression_key(&email);
    let masked = mask_email(&email);
    let quoted = regex::Regex::new(&format!("(?i){}", regex::escape(&email)))
        .map_err(|e| crate::Error::Internal(e.to_string()))?;
    let orders: Vec<CustomerOrder> = on_pool!(db, p => sqlx::query_as(
        "SELECT id, order_number, customer_phone, customer_ref FROM orders
         WHERE LOWER(customer_email) = $1 ORDER BY id"
    ).bind(&email).fetch_all(p).await)?;
    let phones: Vec<String> = orders
        .iter()
        .filter_map(|o| o.customer_phone.clone())
        .filter(|p| !p.trim().is_empty())
        .collect();
    // Integers from the database: safe to write into the statements.
    let ids = format!(
        "({})",
        std::iter::once("-1".to_string())
            .chain(orders.iter().map(|o| o.id.to_string()))
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut r = ErasureReport {
        orders: orders.len() as u64,
        suppressed_as: key.clone(),
        ..ErasureReport::default()
    };
    on_pool!(db, p => {
        let mut tx = p.begin().await?;
        // Texts that may quote the address (in any letter case): the order's own, and anyone's.
        let scoped = format!(" AND order_id IN {ids}");
        let own = format!(" AND id IN {ids}");
        let texts: [(&str, &str, &str, &str); 8] = [
            ("delivery_attempts", "smtp_text", &scoped, ERASED),
            ("order_events", "detail", &scoped, ERASED),
            ("orders", "state_detail", &own, ERASED),
            ("orders", "fallback_why", &own, ERASED),
            ("support_cases", "reason", &scoped, ERASED),
            ("bounces", "diagnostic", "", ERASED),
            // The audit log keeps what happened, with the address masked.
            ("audit_log", "target", "", &masked),
            ("audit_log", "detail", "", &masked),
        ];
        let pattern = format!("%{email}%");
        for (table, col, scope, with) in texts {
            let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
                "SELECT id, {col} FROM {table} WHERE LOWER({col}) LIKE $1{scope}"
            )).bind(&pattern).fetch_all(&mut *tx).await?;
            for (id, value) in rows {
                let replaced = quoted.replace_all(&value, regex::NoExpand(with));
                sqlx::query(&format!("UPDATE {table} SET {col} = $1 WHERE id = $2"))
                    .bind(replaced.as_ref()).bind(id).execute(&mut *tx).await?;
                match table {
                    "delivery_attempts" => r.attempts += 1,
                    "audit_log" => r.audit_entries += 1,
                    _ => {}
                }
            }
        }
        r.bounces = sqlx::query(&format!(
            "UPDATE bounces SET recipient = NULL, raw = NULL WHERE order_id IN {ids} OR LOWER(recipient) = $1"
        )).bind(&email).execute(&mut *tx).await?.rows_affected();
        r.outbox = sqlx::query(&format!(
            "DELETE FROM outbox WHERE order_id IN {ids} OR LOWER(envelope_to) = $1"
        )).bind(&email).execute(&mut *tx).await?.rows_affected();
        sqlx::query(&format!(
            "DELETE FROM link_uses WHERE link_id IN (SELECT id FROM receipt_links WHERE order_id IN {ids} OR LOWER(email) = $1)"
        )).bind(&email).execute(&mut *tx).await?;
        r.links = sqlx::query(&format!(
            "UPDATE receipt_links SET email = '', revoked_at = COALESCE(revoked_at, $2)
             WHERE order_id IN {ids} OR LOWER(email) = $1"
        )).bind(&email).bind(now).execute(&mut *tx).await?.rows_affected();
        r.notifications = sqlx::query(&format!(
            "UPDATE notifications SET customer_ref = '', message = $1 WHERE order_id IN {ids}"
        )).bind(ERASED).execute(&mut *tx).await?.rows_affected();
        r.sms = sqlx::query(&format!(
            "UPDATE sms_messages SET to_phone = '', body = $1 WHERE order_id IN {ids}"
        )).bind(ERASED).execute(&mut *tx).await?.rows_affected();
        for phone in &phones {
            r.sms += sqlx::query("UPDATE sms_messages SET to_phone = '', body = $1 WHERE to_phone = $2")
                .bind(ERASED).bind(phone).execute(&mut *tx).await?.rows_affected();
        }
        // Agents' notes are about the person.
        r.support_cases = sqlx::query(&format!(
            "UPDATE support_cases SET resolution_note = NULL WHERE order_id IN {ids}"
        )).execute(&mut *tx).await?.rows_affected();
        // Events for the shop carry the customer's account reference.
        for o in &orders {
            let Some(cref) = &o.customer_ref else { continue };
            let number_json = serde_json::to_string(&o.order_number).unwrap_or_default();
            let ref_json = serde_json::to_string(cref).unwrap_or_default();
            r.webhook_events += sqlx::query(
                "UPDATE webhook_events SET payload = REPLACE(payload, $1, $2)
                 WHERE payload LIKE '%' || $3 || '%' AND payload LIKE '%' || $1 || '%'"
            )
            .bind(format!("\"customer_ref\":{ref_json}"))
            .bind("\"customer_ref\":\"\"")
            .bind(format!("\"order_number\":{number_json}"))
            .execute(&mut *tx).await?.rows_affected();
        }
        sqlx::query("DELETE FROM soft_bounces WHERE email = $1").bind(&email).execute(&mut *tx).await?;
        // Nothing more goes out to this order: the address is gone.
        sqlx::query(&format!("UPDATE jobs SET state = 'done', lease_owner = NULL WHERE order_id IN {ids} AND state = 'queued'"))
            .execute(&mut *tx).await?;
        sqlx::query(&format!(
            "UPDATE orders SET customer_email = 'erased-' || CAST(id AS TEXT) || '@erased.invalid',
                 customer_name = $1, customer_phone = NULL, customer_ref = NULL, client_ip = NULL,
                 billing_json = NULL, erased_at = $2, updated_at = $2
             WHERE id IN {ids}"
        )).bind(ERASED).bind(now).execute(&mut *tx).await?;
        for o in &orders {
            sqlx::query("INSERT INTO order_events (order_id, at, kind, detail) VALUES ($1, $2, 'erased', $3)")
                .bind(o.id).bind(now).bind("the customer's personal data was erased").execute(&mut *tx).await?;
        }
        // The address stays suppressed, but only as its hash.
        let reason: Option<String> = sqlx::query_scalar(
            "SELECT reason FROM suppressions WHERE email = $1 AND released_at IS NULL"
        ).bind(&email).fetch_optional(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO suppressions (email, reason, source, created_at) VALUES ($1, $2, 'erasure', $3)
             ON CONFLICT (email) DO UPDATE SET released_at = NULL, released_by = NULL, expires_at = NULL"
        ).bind(&key).bind(reason.as_deref().unwrap_or("erased")).bind(now).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM suppressions WHERE email = $1").bind(&email).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    let detail = format!(
        "{} orders anonymised, {} bounces, {} captured mails, {} links, {} SMS/calls; suppressed as {}",
        r.orders, r.bounces, r.outbox, r.links, r.sms, r.suppressed_as
    );
    audit::record(db, now, actor, "privacy.erase", &masked, &detail).await?;
    tracing::info!(customer = %masked, orders = r.orders, "personal data erased");
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::suppression_key;

    #[test]
    fn the_key_is_the_hash_of_the_lower_cased_address() {
        assert_eq!(
            suppression_key(" Jane@Example.com "),
            suppression_key("jane@example.com")
        );
        // sha256("jane@example.com")
        assert!(suppression_key("jane@example.com").starts_with("sha256:"));
        assert_eq!(suppression_key("jane@example.com").len(), 7 + 64);
    }
}
