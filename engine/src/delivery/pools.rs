//! Sender pools: who a receipt is sent as, and through which relay. Retries
//! walk the chain of primary then backup pools; the masked pool sends
//! fallback re-sends under a neutral name.

use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor};
use crate::clock::Millis;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::{exec_on_pool, on_pool};

pub use shared::PoolRole;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct SenderPool {
    pub id: i64,
    pub name: String,
    pub role: PoolRole,
    pub from_name: String,
    pub from_address: String,
    /// `smtp://…`, `smtps://…` or `capture://`; may hold credentials, so it
    /// is never shown whole (see `delivery::relay_url::RelayUrl::redacted`).
    pub relay_url: String,
    pub enabled: bool,
    pub max_per_second: i64,
    pub position: i64,
    pub created_at: Millis,
    /// `ok`, `demoted` (tried after the healthy pools) or `paused` (set by the
    /// health guard, `delivery::guard`, together with `enabled = false`).
    pub health_state: String,
    /// Why the guard demoted or paused it, in words.
    pub health_reason: Option<String>,
    pub health_changed_at: Option<Millis>,
    /// Health rates count traffic from here (an admin's resume resets it).
    pub health_since: Millis,
    /// Since when the relay gives no SMTP answer (`guard::relays`): the pool is
    /// tried after every other until a probe gets a greeting. `None`: it answers.
    pub relay_down_since: Option<Millis>,
    /// What the relay did, in words.
    pub relay_reason: Option<String>,
    /// The relay path carries SMTPUTF8 (RFC 6531): a customer address with a
    /// non-ASCII local part is accepted at intake only when a pool of the send
    /// chain says so, and is sent only through such pools.
    #[sqlx(default)]
    #[serde(default)]
    pub smtputf8: bool,
}

pub struct NewPool<'a> {
    pub name: &'a str,
    pub role: PoolRole,
    pub from_name: &'a str,
    pub from_address: &'a str,
    pub relay_url: &'a str,
    pub max_per_second: i64,
    pub position: i64,
}

const COLUMNS: &str = "id, name, role, from_name, from_address, relay_url, enabled, max_per_second, position, created_at, \
    health_state, health_reason, health_changed_at, health_since, relay_down_since, relay_reason, smtputf8";

pub async fn create(db: &Db, now: Millis, p: NewPool<'_>) -> Result<SenderPool> {
    insert(db, now, p, None).await
}

/// [`create`] by a staff member or the CLI, audited as `pool.add` (the pool's
/// name and role, never its relay URL) in the same transaction.
pub async fn create_by(db: &Db, now: Millis, actor: &Actor, p: NewPool<'_>) -> Result<SenderPool> {
    insert(db, now, p, Some(actor)).await
}

async fn insert(db: &Db, now: Millis, p: NewPool<'_>, actor: Option<&Actor>) -> Result<SenderPool> {
    validate(&p)?;
    let relay_url = super::relay_url::seal_relay_url(p.relay_url)?;
    let sql = format!(
        "INSERT INTO sender_pools (name, role, from_name, from_address, relay_url, enabled, max_per_second, position, created_at)
         VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7, $8) RETURNING {COLUMNS}"
    );
    on_pool!(db, q => async {
        let mut tx = q.begin().await?;
        let pool: SenderPool = sqlx::query_as(&sql)
            .bind(p.name.trim()).bind(p.role).bind(p.from_name).bind(p.from_address).bind(&relay_url)
            .bind(p.max_per_second).bind(p.position).bind(now)
            .fetch_one(&mut *tx).await?;
        if let Some(actor) = actor {
            let detail = format!("role {}", pool.role);
            audit::in_tx!(tx, now, actor, "pool.add", &pool.name, &detail)?;
        }
        tx.commit().await?;
        Ok::<SenderPool, sqlx::Error>(pool)
    }.await)
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
    change(db, id, p, keep_relay, None).await
}

/// [`update`] by a staff member or the CLI, audited as `pool.update` (name
/// and role) in the same transaction.
pub async fn update_by(
    db: &Db,
    now: Millis,
    actor: &Actor,
    id: i64,
    p: NewPool<'_>,
    keep_relay: bool,
) -> Result<SenderPool> {
    change(db, id, p, keep_relay, Some((now, actor))).await
}

async fn change(
    db: &Db,
    id: i64,
    p: NewPool<'_>,
    keep_relay: bool,
    by: Option<(Millis, &Actor)>,
) -> Result<SenderPool> {
    validate(&p)?;
    let relay_url = if keep_relay {
        String::new()
    } else {
        super::relay_url::seal_relay_url(p.relay_url)?
    };
    let detail = format!("role {}", p.role);
    let n = on_pool!(db, q => async {
        let mut tx = q.begin().await?;
        let n = sqlx::query(
            "UPDATE sender_pools SET name = $1, role = $2, from_name = $3, from_address = $4,
             relay_url = CASE WHEN $5 THEN relay_url ELSE $6 END, max_per_second = $7, position = $8
             WHERE id = $9"
        ).bind(p.name.trim()).bind(p.role).bind(p.from_name).bind(p.from_address).bind(keep_relay)
        .bind(&relay_url).bind(p.max_per_second).bind(p.position).bind(id)
        .execute(&mut *tx).await?.rows_affected();
        if n == 1 && let Some((now, actor)) = by {
            audit::in_tx!(tx, now, actor, "pool.update", p.name.trim(), &detail)?;
        }
        tx.commit().await?;
        Ok::<u64, sqlx::Error>(n)
    }.await)
    .map_err(unique_name)?;
    if n == 0 {
        return Err(Error::NotFound(format!("sender pool {id}")));
    }
    get(db, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("sender pool {id}")))
}

/// Says whether the pool's relay path carries SMTPUTF8 (RFC 6531).
pub async fn set_smtputf8(db: &Db, id: i64, on: bool) -> Result<()> {
    flag_smtputf8(db, id, on, None).await
}

/// [`set_smtputf8`] by a staff member or the CLI, audited as `pool.update`
/// (the pool's name, `smtputf8 = true|false`) in the same transaction.
pub async fn set_smtputf8_by(db: &Db, now: Millis, actor: &Actor, id: i64, on: bool) -> Result<()> {
    flag_smtputf8(db, id, on, Some((now, actor))).await
}

async fn flag_smtputf8(db: &Db, id: i64, on: bool, by: Option<(Millis, &Actor)>) -> Result<()> {
    let detail = format!("smtputf8 = {on}");
    let name = on_pool!(db, q => async {
        let mut tx = q.begin().await?;
        let name: Option<String> =
            sqlx::query_scalar("UPDATE sender_pools SET smtputf8 = $1 WHERE id = $2 RETURNING name")
                .bind(on).bind(id).fetch_optional(&mut *tx).await?;
        if let (Some(name), Some((now, actor))) = (&name, by) {
            audit::in_tx!(tx, now, actor, "pool.update", name, &detail)?;
        }
        tx.commit().await?;
        Ok::<Option<String>, sqlx::Error>(name)
    }.await)?;
    if name.is_none() {
        return Err(Error::NotFound(format!("sender pool {id}")));
    }
    Ok(())
}

/// Whether a pool of the send chain (enabled primary or backup) offers
/// SMTPUTF8: what intake asks before it accepts a non-ASCII local part.
pub async fn chain_offers_smtputf8(db: &Db) -> Result<bool> {
    Ok(send_chain(&list(db).await?).iter().any(|p| p.smtputf8))
}

/// Seals the clear-text relay passwords stored before a secrets key was set
/// (run at start-up when there is one); returns how many.
pub async fn seal_stored_passwords(db: &Db) -> Result<usize> {
    if !crate::secrets::has_key() {
        return Ok(0);
    }
    let mut n = 0;
    for pool in list(db).await? {
        let sealed = super::relay_url::seal_relay_url(&pool.relay_url)?;
        if sealed != pool.relay_url {
            exec_on_pool!(db, q => sqlx::query("UPDATE sender_pools SET relay_url = $1 WHERE id = $2 AND relay_url = $3")
                .bind(&sealed).bind(pool.id).bind(&pool.relay_url).execute(q).await)?;
            n += 1;
        }
    }
    Ok(n)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<SenderPool>> {
    let sql = format!("SELECT {COLUMNS} FROM sender_pools WHERE id = $1");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await)?)
}

fn validate(p: &NewPool<'_>) -> Result<()> {
    if p.name.trim().is_empty() || p.name.chars().count() > 60 {
        return Err(Error::invalid("name must be 1 to 60 characters"));
    }
    if crate::accounts::normalize_email(p.from_address).is_err() {
        return Err(Error::invalid("From address must be a valid email address"));
    }
    if !(1..=10_000).contains(&p.max_per_second) {
        return Err(Error::invalid("max messages per second must be 1 to 10000"));
    }
    if let Err(e) = super::relay_url::RelayUrl::parse(p.relay_url) {
        return Err(Error::invalid(format!("relay URL: {e}")));
    }
    Ok(())
}

pub async fn list(db: &Db) -> Result<Vec<SenderPool>> {
    let sql = format!("SELECT {COLUMNS} FROM sender_pools ORDER BY position, id");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).fetch_all(p).await)?)
}

/// Pauses or resumes a pool by hand. A resume clears the health guard's state
/// and restarts its rates from `now`, so the pool is not paused again at once
/// for the traffic that paused it.
pub async fn set_enabled(db: &Db, now: Millis, id: i64, enabled: bool) -> Result<()> {
    switch(db, now, id, enabled, None).await
}

/// [`set_enabled`] by a staff member or the CLI, audited as `pool.resume` or
/// `pool.pause` in the same transaction.
pub async fn set_enabled_by(
    db: &Db,
    now: Millis,
    actor: &Actor,
    id: i64,
    enabled: bool,
) -> Result<()> {
    switch(db, now, id, enabled, Some(actor)).await
}

async fn switch(db: &Db, now: Millis, id: i64, enabled: bool, actor: Option<&Actor>) -> Result<()> {
    let action = if enabled { "pool.resume" } else { "pool.pause" };
    let target = format!("pool {id}");
    let n = on_pool!(db, p => {
        let mut tx = p.begin().await?;
        let n = if enabled {
            sqlx::query(
                "UPDATE sender_pools SET enabled = TRUE, health_state = 'ok', health_reason = NULL,
                 health_changed_at = $1, health_since = $1 WHERE id = $2"
            ).bind(now).bind(id).execute(&mut *tx).await?
        } else {
            sqlx::query("UPDATE sender_pools SET enabled = FALSE WHERE id = $1")
                .bind(id).execute(&mut *tx).await?
        }.rows_affected();
        if n == 1 && let Some(actor) = actor {
            audit::in_tx!(tx, now, actor, action, &target, "")?;
        }
        tx.commit().await?;
        n
    });
    if n == 0 {
        return Err(Error::NotFound(format!("sender pool {id}")));
    }
    Ok(())
}

/// How many relay connections the send worker opens for a pool whose
/// `max_per_second` is this: one per message per second, 1 to 16.
pub fn relay_connections(max_per_second: i64) -> u32 {
    u32::try_from(max_per_second.clamp(1, 16)).unwrap_or(8)
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
        .filter(|p| p.enabled && matches!(p.role, PoolRole::Primary | PoolRole::Backup))
        .collect();
    // Pools whose relay does not answer go last, whatever their role; before
    // them the ones the health guard demoted.
    chain.sort_by_key(|p| {
        (
            p.relay_down_since.is_some(),
            p.health_state == "demoted",
            p.role != PoolRole::Primary,
            p.position,
            p.id,
        )
    });
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
    for (i, role) in PoolRole::ALL.into_iter().enumerate() {
        let name = role.as_str();
        create(
            db,
            now,
            NewPool {
                name,
                role,
                from_name: if role == PoolRole::Masked {
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

/// How far back pool health looks: the last 7 days.
pub const HEALTH_WINDOW_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// Complaint rates at or above this are a warning (0.1 %, the mailbox providers' guidance).
pub const COMPLAINT_RATE_WARNING: f64 = 0.001;
/// Complaint rates at or above this are critical (0.3 %: providers start rejecting).
pub const COMPLAINT_RATE_CRITICAL: f64 = 0.003;

/// One pool's sending health over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolHealth {
    pub pool_id: i64,
    /// Send attempts the receiving side accepted (receipts and masked re-sends).
    pub accepted: i64,
    /// Complaints (ARF feedback or ESP spam reports) tied to an attempt of this pool.
    pub complaints: i64,
    /// Bounces by decision class (`recipient_permanent`, `transient`,
    /// `sender_reputation`, `content`), most first: synchronous refusals of this pool's
    /// attempts plus later bounces tied to them. Complaints and auto-replies are not here.
    pub bounces: Vec<(String, i64)>,
}

/// Where a complaint rate stands against the thresholds (`ok`, `warning`,
/// `critical` as text).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::Display,
    strum::AsRefStr,
    strum::IntoStaticStr,
)]
#[strum(serialize_all = "lowercase")]
pub enum ComplaintLevel {
    Ok,
    Warning,
    Critical,
}

impl ComplaintLevel {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl PoolHealth {
    /// Complaints per accepted message; `None` when nothing was accepted.
    pub fn complaint_rate(&self) -> Option<f64> {
        (self.accepted > 0).then(|| self.complaints as f64 / self.accepted as f64)
    }

    /// The rate against 0.1 % (warning) and 0.3 % (critical). Complaints with
    /// nothing accepted in the window are critical.
    pub fn complaint_level(&self) -> ComplaintLevel {
        match self.complaint_rate() {
            None if self.complaints > 0 => ComplaintLevel::Critical,
            None => ComplaintLevel::Ok,
            Some(r) if r >= COMPLAINT_RATE_CRITICAL => ComplaintLevel::Critical,
            Some(r) if r >= COMPLAINT_RATE_WARNING => ComplaintLevel::Warning,
            Some(_) => ComplaintLevel::Ok,
        }
    }

    /// Bounces of every class added up.
    pub fn bounce_total(&self) -> i64 {
        self.bounces.iter().map(|(_, n)| n).sum()
    }
}

/// Health of every pool since `since` (normally `now - HEALTH_WINDOW_MS`), in
/// [`list`] order; pools with no traffic have zeros.
pub async fn health(db: &Db, since: Millis) -> Result<Vec<PoolHealth>> {
    let accepted: Vec<(i64, i64)> = on_pool!(db, p => sqlx::query_as(
        "SELECT pool_id, COUNT(*) AS n FROM delivery_attempts
         WHERE outcome = 'accepted' AND finished_at >= $1 GROUP BY pool_id"
    ).bind(since).fetch_all(p).await)?;
    // Later bounces tied to an attempt, and synchronous refusals, by pool and class.
    let by_class: Vec<(i64, String, i64)> = on_pool!(db, p => sqlx::query_as(
        "SELECT pool_id, class, CAST(SUM(n) AS BIGINT) AS n FROM (
             SELECT a.pool_id AS pool_id, b.class AS class, COUNT(*) AS n
             FROM bounces b JOIN delivery_attempts a ON a.id = b.attempt_id
             WHERE b.received_at >= $1 GROUP BY a.pool_id, b.class
             UNION ALL
             SELECT pool_id, class, COUNT(*) AS n FROM delivery_attempts
             WHERE outcome IN ('rejected', 'deferred') AND class IS NOT NULL AND finished_at >= $1
             GROUP BY pool_id, class
         ) AS counted GROUP BY pool_id, class"
    ).bind(since).fetch_all(p).await)?;
    let mut out: Vec<PoolHealth> = list(db)
        .await?
        .into_iter()
        .map(|p| PoolHealth {
            pool_id: p.id,
            accepted: 0,
            complaints: 0,
            bounces: Vec::new(),
        })
        .collect();
    for (pool_id, n) in accepted {
        if let Some(h) = out.iter_mut().find(|h| h.pool_id == pool_id) {
            h.accepted = n;
        }
    }
    for (pool_id, class, n) in by_class {
        let Some(h) = out.iter_mut().find(|h| h.pool_id == pool_id) else {
            continue;
        };
        match class.as_str() {
            "complaint" => h.complaints += n,
            "auto_reply" | "delivered" => {}
            _ => h.bounces.push((class, n)),
        }
    }
    for h in &mut out {
        h.bounces
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(id: i64, role: PoolRole, position: i64) -> SenderPool {
        SenderPool {
            id,
            name: format!("p{id}"),
            role,
            from_name: "x".into(),
            from_address: "x@y.z".into(),
            relay_url: "capture://".into(),
            enabled: true,
            max_per_second: 1,
            position,
            created_at: 0,
            health_state: "ok".into(),
            health_reason: None,
            health_changed_at: None,
            health_since: 0,
            relay_down_since: None,
            relay_reason: None,
            smtputf8: false,
        }
    }

    #[test]
    fn chain_alternates_and_avoids_a_blocked_pool() {
        let pools = vec![
            pool(3, PoolRole::Backup, 0),
            pool(1, PoolRole::Primary, 1),
            pool(2, PoolRole::Masked, 0),
            pool(4, PoolRole::Backup, 1),
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

    #[test]
    fn complaint_levels() {
        let h = |accepted, complaints| PoolHealth {
            pool_id: 1,
            accepted,
            complaints,
            bounces: Vec::new(),
        };
        assert_eq!(h(0, 0).complaint_rate(), None);
        assert_eq!(h(0, 0).complaint_level(), ComplaintLevel::Ok);
        assert_eq!(h(0, 1).complaint_level(), ComplaintLevel::Critical);
        assert_eq!(h(1000, 0).complaint_level(), ComplaintLevel::Ok);
        assert_eq!(h(1001, 1).complaint_level(), ComplaintLevel::Ok);
        assert_eq!(h(1000, 1).complaint_level(), ComplaintLevel::Warning);
        assert_eq!(h(1000, 2).complaint_level(), ComplaintLevel::Warning);
        assert_eq!(h(1000, 3).complaint_level(), ComplaintLevel::Critical);
        assert_eq!(h(1000, 3).complaint_rate(), Some(0.003));
    }

    #[tokio::test]
    async fn smtputf8_by_an_actor_is_audited_with_the_change() {
        const T0: Millis = 1_800_000_000_000;
        for t in crate::testing::all_backends().await {
            let db = &t.db;
            let b = db.backend_name();
            let pool = create(
                db,
                T0,
                NewPool {
                    name: "intl",
                    role: PoolRole::Primary,
                    from_name: "Shop",
                    from_address: "receipts@shop.example",
                    relay_url: "capture://",
                    max_per_second: 10,
                    position: 0,
                },
            )
            .await
            .expect("pool");
            assert!(!pool.smtputf8, "[{b}]");
            assert!(!chain_offers_smtputf8(db).await.expect("chain"), "[{b}]");
            set_smtputf8_by(db, T0 + 1, &Actor::cli(), pool.id, true)
                .await
                .expect("flag");
            assert!(get(db, pool.id).await.expect("get").expect("pool").smtputf8);
            assert!(chain_offers_smtputf8(db).await.expect("chain"), "[{b}]");
            let entries = audit::list(db, None, 10).await.expect("audit");
            let e = entries
                .iter()
                .find(|e| e.action == "pool.update")
                .unwrap_or_else(|| panic!("[{b}] no audit entry: {entries:?}"));
            assert_eq!(
                (e.at, e.actor.as_str(), e.target.as_str(), e.detail.as_str()),
                (T0 + 1, "cli", "intl", "smtputf8 = true"),
                "[{b}]"
            );
            // An unknown pool: not found, and nothing audited.
            let missing = set_smtputf8_by(db, T0 + 2, &Actor::cli(), pool.id + 100, false).await;
            assert!(
                matches!(missing, Err(Error::NotFound(_))),
                "[{b}] {missing:?}"
            );
            assert_eq!(
                audit::list(db, None, 10).await.expect("audit").len(),
                entries.len()
            );
            t.cleanup().await;
        }
    }

    #[tokio::test]
    async fn health_counts_accepted_complaints_and_bounces_per_pool() {
        use crate::bounce::Classifier;
        use crate::clock::{Clock, ManualClock};
        use crate::delivery::policy::RetryPolicy;
        use crate::delivery::worker::Worker;
        use crate::orders::{self, OrderInput};
        use std::sync::Arc;
        const T0: Millis = 1_800_000_000_000;

        for t in crate::testing::all_backends().await {
            let db = &t.db;
            let mk = |name: &'static str, role: PoolRole, position: i64| NewPool {
                name,
                role,
                from_name: "Shop",
                from_address: "receipts@shop.example",
                relay_url: "capture://",
                max_per_second: 100,
                position,
            };
            let primary = create(db, T0, mk("primary", PoolRole::Primary, 0))
                .await
                .expect("pool");
            let backup = create(db, T0, mk("backup", PoolRole::Backup, 1))
                .await
                .expect("pool");
            for (i, email) in ["a@example.com", "b@example.com", "c@example.com"]
                .iter()
                .enumerate()
            {
                let input: OrderInput = serde_json::from_value(serde_json::json!({
                    "order_number": format!("PH-{i}"), "placed_at": "2026-11-27T21:00:00Z",
                    "currency": "EUR", "items": [{ "name": "Mug", "quantity": 1, "unit_price": 500 }],
                    "totals": { "subtotal": 500, "total": 500 },
                    "customer": { "email": email, "name": "Jane", "account_kind": "guest" }
                }))
                .expect("order json");
                orders::intake(db, T0, input.validate().expect("valid"), None)
                    .await
                    .expect("intake");
            }
            let clock = ManualClock::new(T0);
            let worker = Worker::new(
                db.clone(),
                Arc::new(clock) as Arc<dyn Clock>,
                &crate::config::Config::default(),
            )
            .expect("worker");
            assert_eq!(worker.run_once().await.expect("send"), 3);

            // A complaint and a hard bounce tied (by recipient) to primary's sends.
            let events = crate::bounce::esp::sendgrid::parse_events(
                serde_json::json!([
                    { "email": "a@example.com", "timestamp": 1_800_000_000, "event": "spamreport" },
                    { "email": "b@example.com", "timestamp": 1_800_000_000, "event": "bounce",
                      "type": "bounce", "reason": "550 5.1.1 user unknown", "status": "5.1.1" }
                ])
                .to_string()
                .as_bytes(),
            )
            .expect("events");
            crate::bounces::ingest_esp_events(
                db,
                T0 + 1000,
                Classifier::shared(),
                &RetryPolicy::default(),
                &events,
                "sendgrid",
            )
            .await
            .expect("ingest");
            // A synchronous deferral through the backup pool.
            crate::exec_on_pool!(db, p => sqlx::query(
                "INSERT INTO delivery_attempts (order_id, attempt_no, pool_id, message_id, verp_token,
                 started_at, finished_at, outcome, smtp_code, class)
                 SELECT id, 50, $1, 'm-50@x', 'v50', $2, $2, 'deferred', 451, 'transient'
                 FROM orders WHERE order_number = 'PH-2'"
            ).bind(backup.id).bind(T0 + 2000).execute(p).await)
            .expect("attempt");

            let got = health(db, T0 - HEALTH_WINDOW_MS).await.expect("health");
            assert_eq!(got.len(), 2);
            let p = &got[0];
            assert_eq!(
                (p.pool_id, p.accepted, p.complaints, p.bounces.clone()),
                (
                    primary.id,
                    3,
                    1,
                    vec![("recipient_permanent".to_string(), 1)]
                )
            );
            assert_eq!(p.complaint_level(), ComplaintLevel::Critical);
            let b = &got[1];
            assert_eq!(
                (
                    b.pool_id,
                    b.accepted,
                    b.complaints,
                    b.bounces.clone(),
                    b.bounce_total()
                ),
                (backup.id, 0, 0, vec![("transient".to_string(), 1)], 1)
            );
            assert_eq!(b.complaint_level(), ComplaintLevel::Ok);

            // Outside the window: the sends (at T0) no longer count, the later events do.
            let later = health(db, T0 + 1).await.expect("health");
            assert_eq!((later[0].accepted, later[0].complaints), (0, 1));
            assert_eq!(later[0].complaint_level(), ComplaintLevel::Critical);
            let none = health(db, T0 + 10_000).await.expect("health");
            assert!(
                none.iter()
                    .all(|h| h.accepted == 0 && h.complaints == 0 && h.bounces.is_empty())
            );
            t.cleanup().await;
        }
    }
}
