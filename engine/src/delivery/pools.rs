//! Sender pools: who a receipt is sent as, and through which relay. Retries
//! walk the chain of primary then backup pools; the masked pool sends
//! fallback re-sends under a neutral name.

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::{exec_on_pool, on_pool};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct SenderPool {
    pub id: i64,
    pub name: String,
    /// `primary`, `backup` or `masked`.
    pub role: String,
    pub from_name: String,
    pub from_address: String,
    /// `smtp://…`, `smtps://…` or `capture://`; may hold credentials, so it
    /// is never shown whole (see `delivery::transport::RelayUrl::redacted`).
    pub relay_url: String,
    pub enabled: bool,
    pub max_per_second: i64,
    pub position: i64,
    pub created_at: Millis,
}

pub struct NewPool<'a> {
    pub name: &'a str,
    pub role: &'a str,
    pub from_name: &'a str,
    pub from_address: &'a str,
    pub relay_url: &'a str,
    pub max_per_second: i64,
    pub position: i64,
}

const COLUMNS: &str = "id, name, role, from_name, from_address, relay_url, enabled, max_per_second, position, created_at";

pub async fn create(db: &Db, now: Millis, p: NewPool<'_>) -> Result<SenderPool> {
    validate(&p)?;
    let sql = format!(
        "INSERT INTO sender_pools (name, role, from_name, from_address, relay_url, enabled, max_per_second, position, created_at)
         VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7, $8) RETURNING {COLUMNS}"
    );
    on_pool!(db, q => sqlx::query_as(&sql)
        .bind(p.name.trim()).bind(p.role).bind(p.from_name).bind(p.from_address).bind(p.relay_url)
        .bind(p.max_per_second).bind(p.position).bind(now)
        .fetch_one(q).await)
    .map_err(unique_name)
}

fn unique_name(e: sqlx::Error) -> Error {
    match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            Error::Conflict("a sender pool with that name already exists".into())
        }
        other => other.into(),
    }
}

/// Changes a pool. `relay_url: None` keeps the stored relay (and its secret).
pub async fn update(db: &Db, id: i64, p: NewPool<'_>, keep_relay: bool) -> Result<SenderPool> {
    validate(&p)?;
    let n = exec_on_pool!(db, q => sqlx::query(
        "UPDATE sender_pools SET name = $1, role = $2, from_name = $3, from_address = $4,
         relay_url = CASE WHEN $5 THEN relay_url ELSE $6 END, max_per_second = $7, position = $8
         WHERE id = $9"
    ).bind(p.name.trim()).bind(p.role).bind(p.from_name).bind(p.from_address).bind(keep_relay)
    .bind(p.relay_url).bind(p.max_per_second).bind(p.position).bind(id)
    .execute(q).await)
    .map_err(unique_name)?;
    if n == 0 {
        return Err(Error::NotFound(format!("sender pool {id}")));
    }
    get(db, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("sender pool {id}")))
}

pub async fn get(db: &Db, id: i64) -> Result<Option<SenderPool>> {
    let sql = format!("SELECT {COLUMNS} FROM sender_pools WHERE id = $1");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await)?)
}

fn validate(p: &NewPool<'_>) -> Result<()> {
    if !matches!(p.role, "primary" | "backup" | "masked") {
        return Err(Error::invalid("role must be primary, backup or masked"));
    }
    if p.name.trim().is_empty() || p.name.chars().count() > 60 {
        return Err(Error::invalid("name must be 1 to 60 characters"));
    }
    if crate::accounts::normalize_email(p.from_address).is_err() {
        return Err(Error::invalid("From address must be a valid email address"));
    }
    if !(1..=10_000).contains(&p.max_per_second) {
        return Err(Error::invalid("max messages per second must be 1 to 10000"));
    }
    if let Err(e) = super::transport::RelayUrl::parse(p.relay_url) {
        return Err(Error::invalid(format!("relay URL: {e}")));
    }
    Ok(())
}

pub async fn list(db: &Db) -> Result<Vec<SenderPool>> {
    let sql = format!("SELECT {COLUMNS} FROM sender_pools ORDER BY position, id");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).fetch_all(p).await)?)
}

pub async fn set_enabled(db: &Db, id: i64, enabled: bool) -> Result<()> {
    let n = exec_on_pool!(db, p => sqlx::query("UPDATE sender_pools SET enabled = $1 WHERE id = $2")
        .bind(enabled).bind(id).execute(p).await)?;
    if n == 0 {
        return Err(Error::NotFound(format!("sender pool {id}")));
    }
    Ok(())
}

/// A pool's name for display (`pool <id>` if it is not in `pools`).
pub fn name_of(pools: &[SenderPool], id: i64) -> String {
    pools
        .iter()
        .find(|p| p.id == id)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| format!("pool {id}"))
}

/// The enabled pools receipts may go through, in retry order: primaries
/// first, then backups, each by position.
pub fn send_chain(pools: &[SenderPool]) -> Vec<&SenderPool> {
    let mut chain: Vec<&SenderPool> = pools
        .iter()
        .filter(|p| p.enabled && (p.role == "primary" || p.role == "backup"))
        .collect();
    chain.sort_by_key(|p| (p.role != "primary", p.position, p.id));
    chain
}

/// The pool for the next attempt: the first in the chain for attempt 1, then
/// the one after the pool used last, skipping the last pool when it was
/// blocked for reputation. `None` when no pool can take it.
pub fn pick_pool<'a>(
    chain: &[&'a SenderPool],
    last_pool: Option<i64>,
    avoid_last: bool,
) -> Option<&'a SenderPool> {
    let Some(last) = last_pool else {
        return chain.first().copied();
    };
    let idx = chain.iter().position(|p| p.id == last);
    let start = idx.map(|i| i + 1).unwrap_or(0);
    (0..chain.len())
        .map(|k| chain[(start + k) % chain.len()])
        .find(|p| !(avoid_last && p.id == last))
}

/// On an empty pool table, creates development pools that capture messages
/// instead of sending them (shown on the Outbox page).
pub async fn ensure_dev_pools(db: &Db, now: Millis) -> Result<bool> {
    if !list(db).await?.is_empty() {
        return Ok(false);
    }
    for (i, (name, role)) in [
        ("primary", "primary"),
        ("backup", "backup"),
        ("masked", "masked"),
    ]
    .iter()
    .enumerate()
    {
        create(
            db,
            now,
            NewPool {
                name,
                role,
                from_name: if *role == "masked" {
                    "Receipts"
                } else {
                    "Rebound Demo Shop"
                },
                from_address: &format!("{name}@receipts.rebound.local"),
                relay_url: "capture://",
                max_per_second: 50,
                position: i as i64,
            },
        )
        .await?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(id: i64, role: &str, position: i64) -> SenderPool {
        SenderPool {
            id,
            name: format!("p{id}"),
            role: role.into(),
            from_name: "x".into(),
            from_address: "x@y.z".into(),
            relay_url: "capture://".into(),
            enabled: true,
            max_per_second: 1,
            position,
            created_at: 0,
        }
    }

    #[test]
    fn chain_alternates_and_avoids_a_blocked_pool() {
        let pools = vec![
            pool(3, "backup", 0),
            pool(1, "primary", 1),
            pool(2, "masked", 0),
            pool(4, "backup", 1),
        ];
        let chain = send_chain(&pools);
        assert_eq!(
            chain.iter().map(|p| p.id).collect::<Vec<_>>(),
            vec![1, 3, 4]
        );
        assert_eq!(pick_pool(&chain, None, false).map(|p| p.id), Some(1));
        assert_eq!(pick_pool(&chain, Some(1), false).map(|p| p.id), Some(3));
        assert_eq!(pick_pool(&chain, Some(4), false).map(|p| p.id), Some(1));
        let single = vec![chain[0]];
        assert_eq!(pick_pool(&single, Some(1), true).map(|p| p.id), None);
        assert_eq!(pick_pool(&single, Some(1), false).map(|p| p.id), Some(1));
    }
}
