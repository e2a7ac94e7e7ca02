//! Retention: personal data is kept only as long as `[privacy]` says. A pass
//! blanks raw bounce messages, cuts client IPs (orders, audit log) to their
//! network, deletes delivered orders with everything tied to them, deletes
//! finished shop webhook events and stale sign-in throttle keys, and
//! anonymises staff accounts disabled long ago. Worker processes run it every
//! few minutes, one at a time (a lease in `privacy_state`);
//! `rebound privacy retention` runs it at once.

use serde::Serialize;
use std::net::IpAddr;

use crate::audit::Actor;
use crate::clock::Millis;
use crate::config::PrivacyConfig;
use crate::db::Db;
use crate::error::Result;
use crate::{exec_on_pool, on_pool};

/// How often a pass runs across all processes.
pub const INTERVAL_MS: i64 = 5 * 60_000;
/// How often a worker looks whether a pass is due (cheap: one UPDATE).
pub const CHECK_INTERVAL_MS: i64 = 60_000;
/// A pass that crashed gives up its lease after this long.
const LEASE_MS: i64 = 10 * 60_000;
/// Rows per transaction, so a first pass over a big backlog never holds long locks.
const BATCH: i64 = 500;
const DAY_MS: i64 = 86_400_000;

/// What one pass changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    pub bounce_raw_blanked: u64,
    pub ips_truncated: u64,
    pub orders_deleted: u64,
    pub audit_ips_truncated: u64,
    pub webhook_events_deleted: u64,
    pub webhook_rejections_deleted: u64,
    pub login_throttles_deleted: u64,
    pub users_anonymised: u64,
}

impl RetentionReport {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Runs a pass when none ran in the last `interval_ms` and no other process
/// holds the lease; `None` when it was not this process's turn.
pub async fn run_due(
    db: &Db,
    now: Millis,
    cfg: &PrivacyConfig,
    interval_ms: i64,
) -> Result<Option<RetentionReport>> {
    let claimed: Option<i64> = on_pool!(db, p => sqlx::query_scalar(
        "UPDATE privacy_state SET lease_until = $1
         WHERE id = 1 AND lease_until <= $2 AND last_run_at <= $3 RETURNING id"
    ).bind(now + LEASE_MS).bind(now).bind(now - interval_ms).fetch_optional(p).await)?;
    if claimed.is_none() {
        return Ok(None);
    }
    let result = run(db, now, cfg).await;
    // Released even after a failure: the next pass retries in `interval_ms`.
    exec_on_pool!(db, p => sqlx::query(
        "UPDATE privacy_state SET lease_until = 0, last_run_at = $1 WHERE id = 1"
    ).bind(now).execute(p).await)?;
    result.map(Some)
}

/// Runs a pass now (the CLI), unless another process is in the middle of one.
pub async fn run_now(db: &Db, now: Millis, cfg: &PrivacyConfig) -> Result<Option<RetentionReport>> {
    run_due(db, now, cfg, 0).await
}

async fn run(db: &Db, now: Millis, cfg: &PrivacyConfig) -> Result<RetentionReport> {
    let ip_before = now - cfg.ip_truncate_days * DAY_MS;
    let webhooks_before = now - cfg.webhook_days * DAY_MS;
    Ok(RetentionReport {
        bounce_raw_blanked: blank_bounce_raw(db, now - cfg.bounce_raw_days * DAY_MS).await?,
        ips_truncated: truncate_ips(db, IpColumn::ORDERS, ip_before).await?,
        orders_deleted: delete_delivered(db, now - cfg.delivered_order_days * DAY_MS).await?,
        audit_ips_truncated: truncate_ips(db, IpColumn::AUDIT, ip_before).await?,
        webhook_events_deleted: delete_finished_webhook_events(db, webhooks_before).await?,
        webhook_rejections_deleted: exec_on_pool!(db, p => sqlx::query(
            "DELETE FROM webhook_rejections WHERE last_at < $1"
        ).bind(webhooks_before).execute(p).await)?,
        login_throttles_deleted: crate::accounts::forget_stale(db, now).await?,
        users_anonymised: anonymise_disabled_users(db, now, cfg.disabled_user_days).await?,
    })
}

/// The raw message of a bounce (headers, quoted receipt, addresses) goes; the
/// classification (reason, class, code, diagnostic) stays for the dashboards.
async fn blank_bounce_raw(db: &Db, before: Millis) -> Result<u64> {
    Ok(exec_on_pool!(db, p => sqlx::query(
        "UPDATE bounces SET raw = NULL WHERE raw IS NOT NULL AND received_at < $1"
    ).bind(before).execute(p).await)?)
}

/// A column holding client IP addresses, and the time column that dates it.
/// Constants only: they are written into the statements.
struct IpColumn {
    table: &'static str,
    ip: &'static str,
    at: &'static str,
}

impl IpColumn {
    const ORDERS: IpColumn = IpColumn {
        table: "orders",
        ip: "client_ip",
        at: "created_at",
    };
    /// The address a staff member acted from.
    const AUDIT: IpColumn = IpColumn {
        table: "audit_log",
        ip: "ip",
        at: "at",
    };
}

/// Oldest first, through the index of rows not yet cut (`orders_ip_untruncated`):
/// in id order PostgreSQL walked the primary key past every row already cut,
/// again for each batch (1 M orders: 290 ms a batch of 500 and growing,
/// against 6 ms).
async fn truncate_ips(db: &Db, c: IpColumn, before: Millis) -> Result<u64> {
    let IpColumn { table, ip, at } = c;
    let select = format!(
        "SELECT id, {ip} FROM {table}
         WHERE {ip} IS NOT NULL AND {ip} NOT LIKE '%/%' AND {at} < $1
         ORDER BY {at} LIMIT $2"
    );
    let update = format!("UPDATE {table} SET {ip} = $1 WHERE id = $2");
    let mut total = 0;
    loop {
        let rows: Vec<(i64, String)> = on_pool!(db, p => sqlx::query_as(&select)
            .bind(before).bind(BATCH).fetch_all(p).await)?;
        let n = rows.len() as i64;
        on_pool!(db, p => {
            let mut tx = p.begin().await?;
            for (id, addr) in &rows {
                // Not an address at all: nothing worth keeping.
                sqlx::query(&update)
                    .bind(truncate_ip(addr)).bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        total += n as u64;
        if n < BATCH {
            return Ok(total);
        }
    }
}

/// `203.0.113.7` → `203.0.113.0/24`, `2001:db8:1:2::7` → `2001:db8:1::/48`:
/// enough for "same network" questions, no longer one subscriber.
pub fn truncate_ip(ip: &str) -> Option<String> {
    let ip: IpAddr = ip.trim().parse().ok()?;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    Some(match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
            format!("{net}/48")
        }
    })
}

/// Tables that hold rows of an order, children first (foreign keys).
const ORDER_CHILDREN: &[&str] = &[
    "DELETE FROM link_uses WHERE link_id IN (SELECT id FROM receipt_links WHERE order_id IN {IDS})",
    "DELETE FROM receipt_links WHERE order_id IN {IDS}",
    "DELETE FROM notifications WHERE order_id IN {IDS}",
    "DELETE FROM sms_messages WHERE order_id IN {IDS}",
    "DELETE FROM support_cases WHERE order_id IN {IDS}",
    "DELETE FROM bounces WHERE order_id IN {IDS}",
    "DELETE FROM outbox WHERE order_id IN {IDS}",
    "DELETE FROM jobs WHERE order_id IN {IDS}",
    "DELETE FROM order_events WHERE order_id IN {IDS}",
    "DELETE FROM delivery_attempts WHERE order_id IN {IDS}",
    "DELETE FROM orders WHERE id IN {IDS}",
];

/// Orders whose receipt reached the customer (accepted or reached by any
/// channel) and that are older than `before`, with nothing left open. The
/// dashboard rollups are aggregates and keep counting them.
///
/// Each batch starts after the last one's highest id: the orders kept (held,
/// a case open) are not read again for every batch.
async fn delete_delivered(db: &Db, before: Millis) -> Result<u64> {
    let mut total = 0;
    let mut after = 0_i64;
    loop {
        let ids: Vec<i64> = on_pool!(db, p => sqlx::query_scalar(
            "SELECT o.id FROM orders o
             WHERE o.created_at < $1 AND o.id > $3 AND (o.state = 'accepted' OR o.reached_at IS NOT NULL)
               AND NOT EXISTS (SELECT 1 FROM support_cases s WHERE s.order_id = o.id AND s.status = 'open')
               AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.order_id = o.id AND j.state <> 'done')
             ORDER BY o.id LIMIT $2"
        ).bind(before).bind(BATCH).bind(after).fetch_all(p).await)?;
        let Some(&last) = ids.last() else {
            return Ok(total);
        };
        after = last;
        // The rollups keep what these orders counted for.
        let n = crate::stats::retire_orders(db, &ids, ORDER_CHILDREN).await?;
        total += n;
        if (ids.len() as i64) < BATCH {
            return Ok(total);
        }
    }
}

/// Shop webhook events created before `before` that are no longer pending
/// (delivered, or given up after the last retry), with their delivery tries.
/// A pending event is never deleted, however old.
async fn delete_finished_webhook_events(db: &Db, before: Millis) -> Result<u64> {
    let mut total = 0;
    let mut after = 0_i64;
    loop {
        // After the last batch's highest id: pending ones are not read again.
        let ids: Vec<i64> = on_pool!(db, p => sqlx::query_scalar(
            "SELECT id FROM webhook_events WHERE state <> 'pending' AND created_at < $1 AND id > $3
             ORDER BY id LIMIT $2"
        ).bind(before).bind(BATCH).bind(after).fetch_all(p).await)?;
        let Some(&last) = ids.last() else {
            return Ok(total);
        };
        after = last;
        // Ids come from the database as integers: safe to write into the statement.
        let list = id_list(&ids);
        total += on_pool!(db, p => {
            let mut tx = p.begin().await?;
            sqlx::query(&format!("DELETE FROM webhook_deliveries WHERE event_id IN {list}"))
                .execute(&mut *tx).await?;
            // Re-checked in the statement itself: a pending event is never deleted.
            let n = sqlx::query(&format!(
                "DELETE FROM webhook_events WHERE id IN {list} AND state <> 'pending'"
            )).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            n
        });
        if (ids.len() as i64) < BATCH {
            return Ok(total);
        }
    }
}

fn id_list(ids: &[i64]) -> String {
    format!(
        "({})",
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    )
}

/// What an anonymised staff account's email becomes.
pub fn anonymised_email(user_id: i64) -> String {
    format!("deleted-user-{user_id}@deleted.invalid")
}

/// Columns that hold a staff member's email as "who did it" (exact values).
const STAFF_EMAIL_COLUMNS: &[(&str, &str)] = &[
    ("api_keys", "created_by"),
    ("receipt_links", "created_by"),
    ("support_cases", "working_by"),
    ("support_cases", "resolved_by"),
    ("suppressions", "released_by"),
    ("sms_messages", "requested_by"),
];

/// Free texts that may quote a staff member's email.
const STAFF_EMAIL_TEXTS: &[(&str, &str)] = &[
    ("audit_log", "actor"),
    ("audit_log", "target"),
    ("audit_log", "detail"),
    ("order_events", "detail"),
];

/// Staff accounts disabled more than `days` ago lose their email and name
/// (replaced by placeholders, wherever the email was written down) and their
/// password hash; the row stays, so the audit log still points at it. Each
/// one is audited. Accounts disabled before their date was kept count from
/// the first pass that sees them.
async fn anonymise_disabled_users(db: &Db, now: Millis, days: i64) -> Result<u64> {
    exec_on_pool!(db, p => sqlx::query(
        "UPDATE users SET disabled_at = $1 WHERE disabled AND disabled_at IS NULL"
    ).bind(now).execute(p).await)?;
    let due: Vec<(i64, String)> = on_pool!(db, p => sqlx::query_as(
        "SELECT id, email FROM users
         WHERE disabled AND anonymised_at IS NULL AND disabled_at < $1 ORDER BY id"
    ).bind(now - days * DAY_MS).fetch_all(p).await)?;
    let mut total = 0;
    for (id, email) in due {
        let placeholder = anonymised_email(id);
        let email = email.to_lowercase();
        let quoted = regex::Regex::new(&format!("(?i){}", regex::escape(&email)))
            .map_err(|e| crate::Error::Internal(e.to_string()))?;
        let pattern = format!("%{email}%");
        let actor = Actor::system();
        let detail = format!("disabled for more than {days} days: email and name replaced");
        on_pool!(db, p => {
            let mut tx = p.begin().await?;
            // Re-checked: an admin may have enabled it since.
            let n = sqlx::query(
                "UPDATE users SET email = $1, display_name = $2, password_hash = '!', anonymised_at = $3
                 WHERE id = $4 AND disabled AND anonymised_at IS NULL"
            ).bind(&placeholder).bind(format!("Deleted user {id}")).bind(now).bind(id)
            .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                tx.rollback().await?;
                continue;
            }
            for (table, col) in STAFF_EMAIL_COLUMNS {
                sqlx::query(&format!("UPDATE {table} SET {col} = $1 WHERE LOWER({col}) = $2"))
                    .bind(&placeholder).bind(&email).execute(&mut *tx).await?;
            }
            for (table, col) in STAFF_EMAIL_TEXTS {
                let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
                    "SELECT id, {col} FROM {table} WHERE LOWER({col}) LIKE $1"
                )).bind(&pattern).fetch_all(&mut *tx).await?;
                for (row, value) in rows {
                    let replaced = quoted.replace_all(&value, regex::NoExpand(&placeholder));
                    sqlx::query(&format!("UPDATE {table} SET {col} = $1 WHERE id = $2"))
                        .bind(replaced.as_ref()).bind(row).execute(&mut *tx).await?;
                }
            }
            sqlx::query("DELETE FROM login_throttle WHERE key = $1")
                .bind(format!("account:{email}")).execute(&mut *tx).await?;
            // In the same transaction: no anonymisation goes unaudited.
            sqlx::query(
                "INSERT INTO audit_log (at, actor_user_id, actor, action, target, detail, ip)
                 VALUES ($1, $2, $3, 'user.anonymise', $4, $5, NULL)"
            ).bind(now).bind(actor.user_id).bind(&actor.name).bind(&placeholder).bind(&detail)
            .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        tracing::info!(user_id = id, "disabled staff account anonymised");
        total += 1;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::truncate_ip;

    #[test]
    fn truncates_to_the_network() {
        assert_eq!(
            truncate_ip("203.0.113.7").as_deref(),
            Some("203.0.113.0/24")
        );
        assert_eq!(
            truncate_ip("2001:db8:1:2::7").as_deref(),
            Some("2001:db8:1::/48")
        );
        assert_eq!(
            truncate_ip("::ffff:198.51.100.9").as_deref(),
            Some("198.51.100.0/24")
        );
        assert_eq!(truncate_ip(" 10.1.2.3 ").as_deref(), Some("10.1.2.0/24"));
        assert_eq!(truncate_ip("not an ip"), None);
    }
}
