//! Login throttling per account and per IP address, kept in the database so
//! every `rebound serve` process sees the same counts.
//!
//! After `threshold` consecutive failures a key is locked for
//! `base × 2^(failures − threshold)` seconds, capped at `max`. Failures older
//! than an hour are forgotten.

use crate::clock::Millis;
use crate::config::LoginConfig;
use crate::db::Db;
use crate::error::Result;
use crate::{exec_on_pool, on_pool};

const FORGET_AFTER_MS: i64 = 60 * 60 * 1000;

/// Seconds until `key` may try again, or `None` when it is not locked.
pub async fn locked_for(db: &Db, now: Millis, key: &str) -> Result<Option<i64>> {
    let until: Option<i64> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT locked_until FROM login_throttle WHERE key = $1"
    ).bind(key).fetch_optional(p).await)?;
    Ok(until.filter(|u| *u > now).map(|u| ((u - now) + 999) / 1000))
}

/// Counts one failure for `key`; locks it once `threshold` is reached.
pub async fn record_failure(
    db: &Db,
    now: Millis,
    cfg: &LoginConfig,
    key: &str,
    threshold: i64,
) -> Result<()> {
    let stale_before = now - FORGET_AFTER_MS;
    let failures: i64 = on_pool!(db, p => sqlx::query_scalar(
        "INSERT INTO login_throttle (key, failures, last_failure_at, locked_until)
         VALUES ($1, 1, $2, 0)
         ON CONFLICT (key) DO UPDATE SET
             failures = CASE WHEN login_throttle.last_failure_at < $3 THEN 1
                             ELSE login_throttle.failures + 1 END,
             last_failure_at = $2
         RETURNING failures"
    ).bind(key).bind(now).bind(stale_before).fetch_one(p).await)?;
    if failures >= threshold {
        let doublings = (failures - threshold).min(20) as u32;
        let secs = cfg
            .base_lockout_seconds
            .saturating_mul(1_i64 << doublings)
            .min(cfg.max_lockout_seconds);
        let until = now + secs * 1000;
        exec_on_pool!(db, p => sqlx::query("UPDATE login_throttle SET locked_until = $1 WHERE key = $2")
            .bind(until).bind(key).execute(p).await)?;
    }
    Ok(())
}

pub async fn clear_failures(db: &Db, key: &str) -> Result<()> {
    exec_on_pool!(db, p => sqlx::query("DELETE FROM login_throttle WHERE key = $1")
        .bind(key).execute(p).await)?;
    Ok(())
}

/// Deletes keys that no longer count (last failure over an hour ago, not
/// locked): they hold sign-in emails and IP addresses, and `record_failure`
/// would start them over anyway. Run by the retention pass.
pub async fn forget_stale(db: &Db, now: Millis) -> Result<u64> {
    Ok(exec_on_pool!(db, p => sqlx::query(
        "DELETE FROM login_throttle WHERE last_failure_at < $1 AND locked_until <= $2"
    ).bind(now - FORGET_AFTER_MS).bind(now).execute(p).await)?)
}
