//! Retention: personal data is kept only as long as `[privacy]` says. A pass
//! blanks raw bounce messages, cuts orders' client IPs to their network, and
//! deletes delivered orders with everything tied to them. Worker processes run
//! it every few minutes, one at a time (a lease in `privacy_state`);
//! `rebound privacy retention` runs it at once.

use serde::Serialize;
use std::net::IpAddr;

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
    Ok(RetentionReport {
        bounce_raw_blanked: blank_bounce_raw(db, now - cfg.bounce_raw_days * DAY_MS).await?,
        ips_truncated: truncate_ips(db, now - cfg.ip_truncate_days * DAY_MS).await?,
        orders_deleted: delete_delivered(db, now - cfg.delivered_order_days * DAY_MS).await?,
    })
}

/// The raw message of a bounce (headers, quoted receipt, addresses) goes; the
/// classification (reason, class, code, diagnostic) stays for the dashboards.
async fn blank_bounce_raw(db: &Db, before: Millis) -> Result<u64> {
    Ok(exec_on_pool!(db, p => sqlx::query(
        "UPDATE bounces SET raw = NULL WHERE raw IS NOT NULL AND received_at < $1"
    ).bind(before).execute(p).await)?)
}

async fn truncate_ips(db: &Db, before: Millis) -> Result<u64> {
    let mut total = 0;
    loop {
        let rows: Vec<(i64, String)> = on_pool!(db, p => sqlx::query_as(
            "SELECT id, client_ip FROM orders
             WHERE client_ip IS NOT NULL AND client_ip NOT LIKE '%/%' AND created_at < $1
             ORDER BY id LIMIT $2"
        ).bind(before).bind(BATCH).fetch_all(p).await)?;
        let n = rows.len() as i64;
        on_pool!(db, p => {
            let mut tx = p.begin().await?;
            for (id, ip) in &rows {
                // Not an address at all: nothing worth keeping.
                sqlx::query("UPDATE orders SET client_ip = $1 WHERE id = $2")
                    .bind(truncate_ip(ip)).bind(id).execute(&mut *tx).await?;
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
/// dashboard rollups are aggregates and stay.
async fn delete_delivered(db: &Db, before: Millis) -> Result<u64> {
    let mut total = 0;
    loop {
        let ids: Vec<i64> = on_pool!(db, p => sqlx::query_scalar(
            "SELECT o.id FROM orders o
             WHERE o.created_at < $1 AND (o.state = 'accepted' OR o.reached_at IS NOT NULL)
               AND NOT EXISTS (SELECT 1 FROM support_cases s WHERE s.order_id = o.id AND s.status = 'open')
               AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.order_id = o.id AND j.state <> 'done')
             ORDER BY o.id LIMIT $2"
        ).bind(before).bind(BATCH).fetch_all(p).await)?;
        if ids.is_empty() {
            return Ok(total);
        }
        // Ids come from the database as integers: safe to write into the statement.
        let list = format!(
            "({})",
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        );
        let n = on_pool!(db, p => {
            let mut tx = p.begin().await?;
            let mut deleted = 0;
            for s in ORDER_CHILDREN {
                deleted = sqlx::query(&s.replace("{IDS}", &list)).execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            deleted
        });
        total += n;
        if (ids.len() as i64) < BATCH {
            return Ok(total);
        }
    }
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
