//! Fixed-window rate limits kept in the database, so every process behind a
//! load balancer counts against the same limit.

use crate::clock::Millis;
use crate::db::Db;
use crate::error::Result;
use crate::on_pool;

/// Counts one hit on `key`; `true` while the key is within `limit` hits per
/// `window_ms`.
pub async fn allow(db: &Db, now: Millis, key: &str, limit: i64, window_ms: i64) -> Result<bool> {
    let stale = now - window_ms;
    let hits: i64 = on_pool!(db, p => sqlx::query_scalar(
        "INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, $2, 1)
         ON CONFLICT (key) DO UPDATE SET
           hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END,
           window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END
         RETURNING hits"
    ).bind(key).bind(now).bind(stale).fetch_one(p).await)?;
    Ok(hits <= limit)
}

/// Drops windows that ended long ago (called by the housekeeping tick).
pub async fn prune(db: &Db, now: Millis, older_than_ms: i64) -> Result<u64> {
    Ok(
        crate::exec_on_pool!(db, p => sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
        .bind(now - older_than_ms).execute(p).await)?,
    )
}
