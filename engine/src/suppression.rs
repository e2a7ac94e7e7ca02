//! The suppression list: addresses that must not be mailed (a hard bounce or
//! a complaint put them there). A send to a suppressed address never reaches
//! SMTP; the order goes straight to the fallback path.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::accounts::normalize_email;
use crate::audit::{self, Actor};
use crate::clock::Millis;
use crate::db::{Db, dialect};
use crate::error::{Error, Result};
use crate::{exec_on_pool, on_pool};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Suppression {
    pub id: i64,
    pub email: String,
    /// Bounce reason (`userunknown`, `feedback`, …) or `manual`.
    pub reason: String,
    /// What put it there: `smtp`, `dsn`, `arf`, `admin`, …
    pub source: String,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub released_at: Option<Millis>,
    pub released_by: Option<String>,
}

const COLUMNS: &str = "id, email, reason, source, created_at, expires_at, released_at, released_by";

/// Adds or re-activates the suppression of a normalised address: `$1` email,
/// `$2` reason, `$3` source, `$4` now, `$5` expiry.
pub(crate) const SUPPRESS_SQL: &str = "INSERT INTO suppressions (email, reason, source, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (email) DO UPDATE SET reason = $2, source = $3, created_at = $4, expires_at = $5, \
         released_at = NULL, released_by = NULL";

/// Adds (or re-activates) a suppression.
pub async fn suppress(
    db: &Db,
    now: Millis,
    email: &str,
    reason: &str,
    source: &str,
    expires_at: Option<Millis>,
) -> Result<Suppression> {
    let email = normalize_email(email)?;
    let sql = format!("{SUPPRESS_SQL} RETURNING {COLUMNS}");
    Ok(on_pool!(db, p => sqlx::query_as(&sql)
        .bind(&email).bind(reason).bind(source).bind(now).bind(expires_at)
        .fetch_one(p).await)?)
}

/// A staff member suppresses an address by hand (the customer asked):
/// audited as `suppression.add` in the same transaction.
pub async fn add_by(db: &Db, now: Millis, actor: &Actor, email: &str) -> Result<Suppression> {
    let email = normalize_email(email)?;
    let sql = format!("{SUPPRESS_SQL} RETURNING {COLUMNS}");
    Ok(on_pool!(db, p => {
        let mut tx = p.begin().await?;
        let s: Suppression = sqlx::query_as(&sql)
            .bind(&email).bind("manual").bind("admin").bind(now).bind(None::<i64>)
            .fetch_one(&mut *tx).await?;
        audit::in_tx!(tx, now, actor, "suppression.add", &s.email, "manual")?;
        tx.commit().await?;
        s
    }))
}

/// A staff member lets a suppressed address be mailed again: audited as
/// `suppression.release` in the same transaction. Unknown or already
/// released: not found, nothing written.
pub async fn release_by(db: &Db, now: Millis, actor: &Actor, email: &str) -> Result<()> {
    let email = normalize_email(email)?;
    let released = on_pool!(db, p => {
        let mut tx = p.begin().await?;
        let n = sqlx::query(RELEASE_SQL)
            .bind(now).bind(&actor.name).bind(&email).bind(crate::erasure::suppression_key(&email))
            .execute(&mut *tx).await?.rows_affected();
        if n > 0 {
            audit::in_tx!(tx, now, actor, "suppression.release", &email, "")?;
            tx.commit().await?;
        }
        n > 0
    });
    if !released {
        return Err(not_suppressed(&email));
    }
    Ok(())
}

/// The active suppression for `email`, if any.
pub async fn active(db: &Db, now: Millis, email: &str) -> Result<Option<Suppression>> {
    Ok(active_many(db, now, &[email])
        .await?
        .for_email(email)
        .cloned())
}

/// The active suppressions of many addresses at once (a send batch): one
/// query. An erased customer's address is kept only as its hash (`erasure`),
/// so both forms are asked for.
pub async fn active_many(db: &Db, now: Millis, emails: &[&str]) -> Result<ActiveSuppressions> {
    let mut keys: Vec<String> = Vec::with_capacity(emails.len() * 2);
    for email in emails {
        if let Ok(e) = normalize_email(email) {
            keys.push(crate::erasure::suppression_key(&e));
            keys.push(e);
        }
    }
    keys.sort();
    keys.dedup();
    if keys.is_empty() {
        return Ok(ActiveSuppressions::default());
    }
    static SQL: crate::db::PerBackend<String> = crate::db::PerBackend::new();
    let sql = SQL.get(db, |db| {
        format!(
            "SELECT {COLUMNS} FROM suppressions WHERE {} AND released_at IS NULL
             AND (expires_at IS NULL OR expires_at > $1) ORDER BY id",
            crate::db::dialect::in_json_list(db, "email", 2, crate::db::dialect::JsonType::Text)
        )
    });
    let keys = crate::db::json_param(&keys)?;
    // Planned at each run (see `dialect::in_json_list`).
    let rows: Vec<Suppression> = on_pool!(db, p => sqlx::query_as(sql)
        .persistent(false).bind(now).bind(&keys).fetch_all(p).await)?;
    let mut by_email = HashMap::with_capacity(rows.len());
    for s in rows {
        // Oldest first, as [`active`] picks.
        by_email.entry(s.email.clone()).or_insert(s);
    }
    Ok(ActiveSuppressions(by_email))
}

/// The result of [`active_many`].
#[derive(Debug, Default)]
pub struct ActiveSuppressions(HashMap<String, Suppression>);

impl ActiveSuppressions {
    /// What [`active`] would answer for `email`.
    pub fn for_email(&self, email: &str) -> Option<&Suppression> {
        let email = normalize_email(email).ok()?;
        let plain = self.0.get(&email);
        let hashed = self.0.get(&crate::erasure::suppression_key(&email));
        match (plain, hashed) {
            (Some(a), Some(b)) => Some(if a.id <= b.id { a } else { b }),
            (a, b) => a.or(b),
        }
    }
}

/// Active suppressions whose address contains `search` (all when empty), newest first.
pub async fn list(db: &Db, now: Millis, search: &str, limit: i64) -> Result<Vec<Suppression>> {
    let pattern = format!("%{}%", search.trim().to_lowercase().replace(['%', '_'], ""));
    let sql = format!(
        "SELECT {COLUMNS} FROM suppressions WHERE released_at IS NULL
         AND (expires_at IS NULL OR expires_at > $1) AND email {} $2
         ORDER BY created_at DESC, id DESC LIMIT $3",
        dialect::ilike(db)
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql)
        .bind(now).bind(&pattern).bind(limit.clamp(1, 10_000)).fetch_all(p).await)?)
}

/// Every active suppression, by address (for the CSV export: no limit).
pub async fn all_active(db: &Db, now: Millis) -> Result<Vec<Suppression>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM suppressions WHERE released_at IS NULL
         AND (expires_at IS NULL OR expires_at > $1) ORDER BY email"
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(now).fetch_all(p).await)?)
}

/// Lets an address be mailed again.
pub async fn release(db: &Db, now: Millis, email: &str, by: &str) -> Result<()> {
    let email = normalize_email(email)?;
    let n = exec_on_pool!(db, p => sqlx::query(RELEASE_SQL)
        .bind(now).bind(by).bind(&email).bind(crate::erasure::suppression_key(&email)).execute(p).await)?;
    if n == 0 {
        return Err(not_suppressed(&email));
    }
    Ok(())
}

/// `$1` now, `$2` by whom, `$3` the address, `$4` its erased form.
const RELEASE_SQL: &str = "UPDATE suppressions SET released_at = $1, released_by = $2 \
     WHERE email IN ($3, $4) AND released_at IS NULL";

fn not_suppressed(email: &str) -> Error {
    Error::NotFound(format!(
        "no active suppression for {}",
        crate::privacy::mask_email(email)
    ))
}
