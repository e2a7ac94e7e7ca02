//! Every Prometheus metric Rebound exports, named in one place. The engine only
//! records through the `metrics` facade; the server installs the exporter and
//! serves `/metrics` (without an installed recorder these calls do nothing).
//!
//! Labels are small closed sets (pool names, outcomes, classes): never an
//! address, an order number or anything else that grows without bound.

use crate::clock::Millis;
use crate::db::Db;
use crate::error::Result;
use crate::on_pool;

/// Orders posted to the shop API, by `outcome` (`created`, `duplicate`, `invalid`, `error`).
pub const INTAKE_REQUESTS: &str = "rebound_intake_requests_total";
/// Time to validate, store and queue one posted order (seconds).
pub const INTAKE_SECONDS: &str = "rebound_intake_duration_seconds";
/// Finished send attempts, by `pool` and `outcome` (`accepted`, `deferred`, `rejected`, `failed`).
pub const SENDS: &str = "rebound_sends_total";
/// Bounces stored (at send time and later DSN/ESP reports), by `class`.
pub const BOUNCES: &str = "rebound_bounces_total";
/// Fallback decisions carried out, by `kind` (the decision's path).
pub const FALLBACKS: &str = "rebound_fallbacks_total";
/// Webhook requests refused for a bad or missing signature, by `provider`.
pub const WEBHOOK_VERIFICATION_FAILURES: &str = "rebound_webhook_verification_failures_total";
/// Failed staff sign-ins.
pub const LOGIN_FAILURES: &str = "rebound_login_failures_total";
/// Jobs waiting or being worked, by `state` (refreshed from the database on each scrape).
pub const QUEUE_JOBS: &str = "rebound_queue_jobs";
/// How long the oldest due, unclaimed job has waited past its due time (seconds).
pub const QUEUE_OLDEST_DUE_LAG: &str = "rebound_queue_oldest_due_lag_seconds";
/// Orders held (email failed) right now.
pub const HELD_ORDERS: &str = "rebound_orders_held";

/// Histogram buckets for [`INTAKE_SECONDS`]: intake is a few milliseconds.
pub const INTAKE_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The states counted at each scrape. Not `done`: finished jobs stay until
/// retention removes their order, so counting them scans the whole table
/// (PostgreSQL, 10 M jobs: 0.7–1.1 s a scrape on every core; these two
/// are a range of the `(state, due_at)` index, 0.1 ms).
const JOB_STATES: [&str; 2] = ["queued", "running"];

/// Registers the `# HELP` text of every metric (call once the recorder is installed).
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        INTAKE_REQUESTS,
        "Orders posted to the shop API, by outcome."
    );
    describe_histogram!(
        INTAKE_SECONDS,
        Unit::Seconds,
        "Time to validate, store and queue one posted order."
    );
    describe_counter!(SENDS, "Finished send attempts, by sender pool and outcome.");
    describe_counter!(
        BOUNCES,
        "Bounces (refusals at send time, later DSN/ESP reports), by class."
    );
    describe_counter!(FALLBACKS, "Fallback decisions carried out, by path.");
    describe_counter!(
        WEBHOOK_VERIFICATION_FAILURES,
        "Webhook requests refused by their signature check, by provider."
    );
    describe_counter!(LOGIN_FAILURES, "Failed staff sign-ins.");
    describe_gauge!(
        QUEUE_JOBS,
        "Jobs in the queue, by state (read from the database)."
    );
    describe_gauge!(
        QUEUE_OLDEST_DUE_LAG,
        Unit::Seconds,
        "How late the oldest due, unclaimed job is."
    );
    describe_gauge!(HELD_ORDERS, "Orders held right now (email failed).");
}

/// Counts one finished send attempt.
pub fn send(pool: &str, outcome: &str) {
    metrics::counter!(SENDS, "pool" => pool.to_string(), "outcome" => outcome.to_string())
        .increment(1);
}

/// Counts one stored bounce.
pub fn bounce(class: &str) {
    metrics::counter!(BOUNCES, "class" => class.to_string()).increment(1);
}

/// Counts one fallback decision carried out.
pub fn fallback(kind: &str) {
    metrics::counter!(FALLBACKS, "kind" => kind.to_string()).increment(1);
}

/// Counts one webhook request refused by its signature check.
pub fn webhook_verification_failure(provider: &str) {
    metrics::counter!(WEBHOOK_VERIFICATION_FAILURES, "provider" => provider.to_string())
        .increment(1);
}

/// Counts one failed staff sign-in.
pub fn login_failure() {
    metrics::counter!(LOGIN_FAILURES).increment(1);
}

/// Counts one order intake and its duration.
pub fn intake(outcome: &'static str, seconds: f64) {
    metrics::counter!(INTAKE_REQUESTS, "outcome" => outcome).increment(1);
    metrics::histogram!(INTAKE_SECONDS).record(seconds);
}

/// The queue and held numbers a scrape reports, read from the database.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueGauges {
    /// `(state, jobs)` for every job state, zero included.
    pub depth: Vec<(&'static str, i64)>,
    /// Seconds the oldest due, unclaimed job is late (0 when none is).
    pub oldest_due_lag_seconds: f64,
    pub held: i64,
}

/// Reads the gauges from the database (shared by every process, so any
/// process's scrape shows the whole queue).
pub async fn queue_gauges(db: &Db, now: Millis) -> Result<QueueGauges> {
    let counts: Vec<(String, i64)> = on_pool!(db, p => sqlx::query_as(
        "SELECT state, COUNT(*) FROM jobs WHERE state IN ('queued', 'running') GROUP BY state"
    ).fetch_all(p).await)?;
    let depth = JOB_STATES
        .iter()
        .map(|s| {
            let n = counts
                .iter()
                .find(|(state, _)| state == s)
                .map_or(0, |(_, n)| *n);
            (*s, n)
        })
        .collect();
    let oldest: Option<i64> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT MIN(due_at) FROM jobs WHERE state = 'queued' AND due_at <= $1"
    ).bind(now).fetch_one(p).await)?;
    let held: i64 = on_pool!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders WHERE state = 'held'"
    ).fetch_one(p).await)?;
    Ok(QueueGauges {
        depth,
        oldest_due_lag_seconds: oldest.map_or(0.0, |due| (now - due).max(0) as f64 / 1000.0),
        held,
    })
}

/// Reads the gauges and sets them on the installed recorder.
pub async fn refresh_gauges(db: &Db, now: Millis) -> Result<QueueGauges> {
    let g = queue_gauges(db, now).await?;
    for (state, n) in &g.depth {
        metrics::gauge!(QUEUE_JOBS, "state" => *state).set(*n as f64);
    }
    metrics::gauge!(QUEUE_OLDEST_DUE_LAG).set(g.oldest_due_lag_seconds);
    metrics::gauge!(HELD_ORDERS).set(g.held as f64);
    Ok(g)
}

/// Compares a presented bearer token with the configured one in constant time.
pub fn token_matches(expected: &str, presented: &str) -> bool {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    // Hash both so lengths do not leak through the comparison either.
    let a = Sha256::digest(expected.as_bytes());
    let b = Sha256::digest(presented.as_bytes());
    !expected.is_empty() && bool::from(a.ct_eq(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_exactly() {
        assert!(token_matches("s3cret", "s3cret"));
        assert!(!token_matches("s3cret", "s3cre"));
        assert!(!token_matches("s3cret", "S3CRET"));
        assert!(!token_matches("", ""));
    }
}
