//! Shop API keys. The secret is shown once at creation and stored only as a
//! SHA-256 hash (a 256-bit random key needs no slow hash).

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::{self, Actor};
use crate::clock::Millis;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::{exec_on_pool, on_pool};

/// How long a key found live is trusted without reading it again. A key
/// revoked in this process stops working at once; one revoked by another
/// process (a second server, the CLI) stops working here within this time.
pub const LIVE_KEY_TTL_MS: Millis = 5_000;

/// Keys recently found live, by hash, with when they were read: a checkout
/// is not worth a database read for its key every time. Only live keys are
/// kept, so guessing keys cannot grow it.
static LIVE_KEYS: LazyLock<Mutex<HashMap<String, (Millis, ApiKey)>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn forget(id: i64) {
    if let Ok(mut live) = LIVE_KEYS.lock() {
        live.retain(|_, (_, k)| k.id != id);
    }
}

/// Every key starts with this, so leaked keys are easy to grep for.
pub const KEY_PREFIX: &str = "rbk_";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    /// The first characters of the key, to tell keys apart in lists.
    pub prefix: String,
    pub created_at: Millis,
    pub created_by: String,
    pub last_used_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
}

/// A freshly created key with its secret (shown once, never stored).
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub key: ApiKey,
    pub secret: String,
}

pub fn hash_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

const COLUMNS: &str = "id, name, prefix, created_at, created_by, last_used_at, revoked_at";

pub async fn create(db: &Db, now: Millis, name: &str, created_by: &str) -> Result<NewApiKey> {
    let (name, secret, prefix) = new_secret(name)?;
    let key: ApiKey = on_pool!(db, p => sqlx::query_as(&insert_sql())
        .bind(name).bind(&prefix).bind(hash_key(&secret)).bind(now).bind(created_by)
        .fetch_one(p).await)?;
    Ok(NewApiKey { key, secret })
}

/// [`create`] by a staff member or the CLI, audited as `apikey.create` in
/// the same transaction.
pub async fn create_by(db: &Db, now: Millis, actor: &Actor, name: &str) -> Result<NewApiKey> {
    let (name, secret, prefix) = new_secret(name)?;
    let key: ApiKey = on_pool!(db, p => {
        let mut tx = p.begin().await?;
        let key: ApiKey = sqlx::query_as(&insert_sql())
            .bind(name).bind(&prefix).bind(hash_key(&secret)).bind(now).bind(&actor.name)
            .fetch_one(&mut *tx).await?;
        audit::in_tx!(tx, now, actor, "apikey.create", &key.prefix, &key.name)?;
        tx.commit().await?;
        key
    });
    Ok(NewApiKey { key, secret })
}

/// The trimmed name, a new secret and its shown prefix.
fn new_secret(name: &str) -> Result<(&str, String, String)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("key name must be 1 to 100 characters"));
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{KEY_PREFIX}{}", hex::encode(bytes));
    let prefix: String = secret.chars().take(KEY_PREFIX.len() + 6).collect();
    Ok((name, secret, prefix))
}

fn insert_sql() -> String {
    format!(
        "INSERT INTO api_keys (name, prefix, key_hash, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
    )
}

pub async fn list(db: &Db) -> Result<Vec<ApiKey>> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys ORDER BY id");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).fetch_all(p).await)?)
}

/// [`revoke`] by a staff member or the CLI, audited as `apikey.revoke` in
/// the same transaction.
pub async fn revoke_by(db: &Db, now: Millis, actor: &Actor, id: i64) -> Result<ApiKey> {
    forget(id);
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1");
    let key: Option<ApiKey> = on_pool!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now).bind(id).execute(&mut *tx).await?;
        let key: Option<ApiKey> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut *tx).await?;
        if let Some(k) = &key {
            audit::in_tx!(tx, now, actor, "apikey.revoke", &k.prefix, &k.name)?;
        }
        tx.commit().await?;
        key
    });
    key.ok_or_else(|| Error::NotFound(format!("API key {id}")))
}

pub async fn revoke(db: &Db, id: i64, now: Millis) -> Result<ApiKey> {
    forget(id);
    let n = exec_on_pool!(db, p => sqlx::query(
        "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL"
    ).bind(now).bind(id).execute(p).await)?;
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1");
    let key: Option<ApiKey> =
        on_pool!(db, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await)?;
    match key {
        Some(k) if n == 1 || k.revoked_at.is_some() => Ok(k),
        _ => Err(Error::NotFound(format!("API key {id}"))),
    }
}

/// The live key matching `presented`, recording its use (at most once a
/// minute, to keep hot paths free of writes).
pub async fn authenticate(db: &Db, now: Millis, presented: &str) -> Result<Option<ApiKey>> {
    if !presented.starts_with(KEY_PREFIX) || presented.len() > 200 {
        return Ok(None);
    }
    let hash = hash_key(presented);
    let cached = LIVE_KEYS.lock().ok().and_then(|live| {
        live.get(&hash)
            .filter(|(at, _)| (0..LIVE_KEY_TTL_MS).contains(&(now - at)))
            .map(|(_, k)| k.clone())
    });
    if cached.is_some() {
        return Ok(cached);
    }
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL");
    let key: Option<ApiKey> =
        on_pool!(db, p => sqlx::query_as(&sql).bind(&hash).fetch_optional(p).await)?;
    if let Ok(mut live) = LIVE_KEYS.lock() {
        match &key {
            Some(k) => {
                live.insert(hash, (now, k.clone()));
            }
            None => {
                live.remove(&hash);
            }
        }
    }
    if let Some(k) = &key
        && k.last_used_at.is_none_or(|t| now - t > 60_000)
    {
        exec_on_pool!(db, p => sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(now).bind(k.id).execute(p).await)?;
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key read once is trusted for the TTL without a read; revoking it in
    /// this process ends that at once, revoking it elsewhere (a plain update,
    /// as another process would) within the TTL.
    #[tokio::test]
    async fn live_keys_are_cached_briefly_and_revocation_wins() {
        for t in crate::testing::all_backends().await {
            let db = &t.db;
            let t0 = 1_800_000_000_000;
            let a = create(db, t0, "a", "test").await.expect("create");
            let b = create(db, t0, "b", "test").await.expect("create");
            for k in [&a, &b] {
                assert!(
                    authenticate(db, t0, &k.secret)
                        .await
                        .expect("auth")
                        .is_some()
                );
            }
            revoke(db, a.key.id, t0 + 1).await.expect("revoke");
            assert_eq!(
                authenticate(db, t0 + 2, &a.secret).await.expect("auth"),
                None
            );

            exec_on_pool!(db, p => sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2")
                .bind(t0 + 3).bind(b.key.id).execute(p).await)
            .expect("revoke behind the cache's back");
            let within = authenticate(db, t0 + LIVE_KEY_TTL_MS - 1, &b.secret).await;
            assert!(within.expect("auth").is_some(), "cached for the TTL");
            let after = authenticate(db, t0 + LIVE_KEY_TTL_MS, &b.secret).await;
            assert_eq!(after.expect("auth"), None, "read again after the TTL");
            assert_eq!(
                authenticate(db, t0 + 1, "rbk_never-issued")
                    .await
                    .expect("auth"),
                None
            );
            t.cleanup().await;
        }
    }
}
