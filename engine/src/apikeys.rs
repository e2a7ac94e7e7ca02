//! Shop API keys. The secret is shown once at creation and stored only as a
//! SHA-256 hash (a 256-bit random key needs no slow hash).

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Millis;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::{exec_on_pool, on_pool};

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
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("key name must be 1 to 100 characters"));
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{KEY_PREFIX}{}", hex::encode(bytes));
    let prefix: String = secret.chars().take(KEY_PREFIX.len() + 6).collect();
    let sql = format!(
        "INSERT INTO api_keys (name, prefix, key_hash, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
    );
    let key: ApiKey = on_pool!(db, p => sqlx::query_as(&sql)
        .bind(name).bind(&prefix).bind(hash_key(&secret)).bind(now).bind(created_by)
        .fetch_one(p).await)?;
    Ok(NewApiKey { key, secret })
}

pub async fn list(db: &Db) -> Result<Vec<ApiKey>> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys ORDER BY id");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).fetch_all(p).await)?)
}

pub async fn revoke(db: &Db, id: i64, now: Millis) -> Result<ApiKey> {
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
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL");
    let key: Option<ApiKey> =
        on_pool!(db, p => sqlx::query_as(&sql).bind(hash_key(presented)).fetch_optional(p).await)?;
    if let Some(k) = &key
        && k.last_used_at.is_none_or(|t| now - t > 60_000)
    {
        exec_on_pool!(db, p => sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(now).bind(k.id).execute(p).await)?;
    }
    Ok(key)
}
