//! Dashboard numbers: daily rollups per sender pool and recipient mailbox
//! provider (`stats_daily`, `stats_attempts_daily`), and the rates, thresholds
//! and percentiles read from them.
//!
//! # How the rollups stay current
//!
//! [`refresh`] recomputes whole days, and only the days that can have changed
//! since the last run (the watermark in `stats_state`):
//!
//! - send counters are dated by when an attempt ended or a bounce arrived,
//!   which is "now" when they are written, so only the days between the
//!   watermark (minus `lookback`) and now can change;
//! - order counters are a cohort by the order's arrival day; an old order
//!   changes its day when it is reached (`reached_at`) or held (`state`,
//!   `updated_at`), both indexed, so those days are found with two range reads.
//!
//! Recomputing a day is idempotent (delete the day's rows, upsert the new
//! ones), so a crash, an overlap or two processes refreshing at once can never
//! double-count, which incrementing counters on every event could; and no
//! write path elsewhere in the engine has to remember to bump a counter. The
//! cost is re-reading today's rows once a minute (an index range: ~15 k
//! attempts a day at 1 M orders / 90 days), far below the page budgets. The
//! `lookback` covers rows dated slightly in the past when written (a
//! transaction that committed after the watermark moved, and email reach,
//! which is credited at acceptance time up to `fallback.reach_window_seconds`
//! later). A lease in `stats_state` lets one process at a time do the work.
//!
//! Retention deletes old delivered orders with their attempts and bounces;
//! before it does, [`retire_orders`] adds what they counted for to
//! `stats_retired_daily` / `stats_retired_attempts_daily` in the same
//! transaction, and a day is recomputed as its live rows plus those. So a
//! rebuild of an old day (a late change to a held order of that day, a full
//! rebuild after a migration, `rebound demo`) gives the numbers it gave before
//! the deletion, never fewer.
//!
//! Days are UTC days, numbered from 1970-01-01.

pub mod charts;
mod levels;
pub mod risk_history;
pub mod svg;

pub use levels::*;
pub use risk_history::RiskHistory;

pub(crate) use crate::provider::provider_sql;
pub use crate::provider::{PROVIDERS, provider_of};

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::db::{Db, dialect};
use crate::error::Result;
use crate::{exec_on_pool, on_pool};

/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;
/// Upper edges (minutes, exclusive) of the time-to-receipt buckets; the last
/// bucket is "3 days or more".
pub const TTR_EDGES_MIN: [i64; 12] = [1, 2, 5, 10, 15, 30, 60, 120, 240, 720, 1440, 4320];
/// Number of time-to-receipt buckets (`ttr_0` … `ttr_12`).
pub const TTR_BUCKETS: usize = TTR_EDGES_MIN.len() + 1;
/// How often the worker refreshes the rollups.
pub const REFRESH_INTERVAL_MS: i64 = 60_000;
/// A refresh that crashed gives up its lease after this long.
const LEASE_MS: i64 = 10 * 60_000;

/// The bounce classes counted as bounces, in column order (`bounced_<class>`).
pub const BOUNCE_CLASSES: [&str; 4] = [
    "recipient_permanent",
    "sender_reputation",
    "transient",
    "content",
];

/// Counters of one rollup row, or summed over many.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Orders that arrived (cohort counters below are of these orders).
    pub orders: i64,
    /// Send attempts that finished (receipts and masked re-sends).
    pub sent: i64,
    pub accepted: i64,
    /// Bounces by class, in [`BOUNCE_CLASSES`] order: synchronous refusals
    /// plus later bounces.
    pub bounced: [i64; 4],
    pub complaints: i64,
    /// Orders that were held (email failed) …
    pub held: i64,
    /// … and orders the receipt reached by any channel.
    pub reached: i64,
    /// Reached orders by minutes from intake to reach ([`TTR_EDGES_MIN`]).
    pub ttr: [i64; TTR_BUCKETS],
}

/// The counter columns of `stats_daily`, in [`Counts`] order.
fn count_columns() -> Vec<String> {
    let mut cols: Vec<String> = ["orders", "sent", "accepted"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    cols.extend(BOUNCE_CLASSES.iter().map(|c| format!("bounced_{c}")));
    cols.extend(
        ["complaints", "held", "reached"]
            .iter()
            .map(|s| s.to_string()),
    );
    cols.extend((0..TTR_BUCKETS).map(|i| format!("ttr_{i}")));
    cols
}

impl Counts {
    fn to_vec(&self) -> Vec<i64> {
        let mut v = vec![self.orders, self.sent, self.accepted];
        v.extend(self.bounced);
        v.extend([self.complaints, self.held, self.reached]);
        v.extend(self.ttr);
        v
    }

    fn from_slice(v: &[i64]) -> Self {
        let at = |i: usize| v.get(i).copied().unwrap_or(0);
        let mut c = Counts {
            orders: at(0),
            sent: at(1),
            accepted: at(2),
            bounced: [at(3), at(4), at(5), at(6)],
            complaints: at(7),
            held: at(8),
            reached: at(9),
            ttr: [0; TTR_BUCKETS],
        };
        for (i, b) in c.ttr.iter_mut().enumerate() {
            *b = at(10 + i);
        }
        c
    }

    pub fn add(&mut self, o: &Counts) {
        let sum: Vec<i64> = self
            .to_vec()
            .iter()
            .zip(o.to_vec())
            .map(|(a, b)| a + b)
            .collect();
        *self = Counts::from_slice(&sum);
    }

    /// Bounces of the four classes added up.
    pub fn bounces(&self) -> i64 {
        self.bounced.iter().sum()
    }

    /// Bounces per sent attempt; `None` when nothing was sent.
    pub fn bounce_rate(&self) -> Option<f64> {
        ratio(self.bounces(), self.sent)
    }

    /// Bounces of class `BOUNCE_CLASSES[i]` per sent attempt.
    pub fn class_rate(&self, i: usize) -> Option<f64> {
        ratio(self.bounced.get(i).copied().unwrap_or(0), self.sent)
    }

    /// Complaints per accepted message (the providers' definition).
    pub fn complaint_rate(&self) -> Option<f64> {
        ratio(self.complaints, self.accepted)
    }

    /// Reached orders per order.
    pub fn reach_rate(&self) -> Option<f64> {
        ratio(self.reached, self.orders)
    }

    /// The `q`-quantile (0..1) of time to receipt, from the histogram.
    pub fn ttr_quantile(&self, q: f64) -> Option<Ttr> {
        ttr_quantile(&self.ttr, q)
    }
}

fn ratio(n: i64, of: i64) -> Option<f64> {
    (of > 0).then(|| n as f64 / of as f64)
}

/// A time to receipt read off the histogram.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ttr {
    /// Minutes, interpolated linearly inside the bucket.
    pub minutes: f64,
    /// In the last, open bucket: "3 days or more".
    pub open: bool,
}

impl Ttr {
    /// "45 s", "12 min", "3.5 h", "2.1 days", "3 days or more".
    pub fn text(&self) -> String {
        let m = self.minutes;
        if self.open {
            "3 days or more".into()
        } else if m < 1.0 {
            format!("{:.0} s", (m * 60.0).max(1.0))
        } else if m < 120.0 {
            format!("{m:.0} min")
        } else if m < 2880.0 {
            format!("{:.1} h", m / 60.0)
        } else {
            format!("{:.1} days", m / 1440.0)
        }
    }
}

/// The `q`-quantile of a time-to-receipt histogram (linear inside a bucket).
pub fn ttr_quantile(ttr: &[i64; TTR_BUCKETS], q: f64) -> Option<Ttr> {
    let total: i64 = ttr.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = q.clamp(0.0, 1.0) * total as f64;
    let mut below = 0.0;
    for (i, &n) in ttr.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let n = n as f64;
        if below + n >= rank {
            let lo = if i == 0 { 0 } else { TTR_EDGES_MIN[i - 1] } as f64;
            let Some(&hi) = TTR_EDGES_MIN.get(i) else {
                return Some(Ttr {
                    minutes: lo,
                    open: true,
                });
            };
            let frac = ((rank - below) / n).clamp(0.0, 1.0);
            return Some(Ttr {
                minutes: lo + frac * (hi as f64 - lo),
                open: false,
            });
        }
        below += n;
    }
    None
}

/// The UTC day number of a time.
pub fn day_of(t: Millis) -> i64 {
    t.div_euclid(DAY_MS)
}

/// `2026-11-27` for a day number.
pub fn day_text(day: i64) -> String {
    chrono::DateTime::from_timestamp_millis(day * DAY_MS)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The day number of a `2026-11-27` date (`None` if it is not one).
pub fn day_from_text(text: &str) -> Option<i64> {
    let date = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
    let start = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis();
    Some(day_of(start))
}

// ---------------------------------------------------------------------------
// Refresh

/// Brings the rollups up to date if another process is not doing it already
/// (then `Ok(None)`); returns how many days were recomputed. The first run
/// rebuilds every day since the oldest order.
pub async fn refresh(db: &Db, now: Millis, lookback_ms: i64) -> Result<Option<usize>> {
    refresh_claimed(db, now, lookback_ms, Millis::MAX).await
}

/// [`refresh`], unless some process refreshed less than `interval_ms` ago (then
/// `Ok(None)`): what every worker calls, so several processes share the work.
pub async fn refresh_if_stale(
    db: &Db,
    now: Millis,
    lookback_ms: i64,
    interval_ms: i64,
) -> Result<Option<usize>> {
    refresh_claimed(db, now, lookback_ms, now - interval_ms).await
}

async fn refresh_claimed(
    db: &Db,
    now: Millis,
    lookback_ms: i64,
    refreshed_before: Millis,
) -> Result<Option<usize>> {
    let claimed: Option<i64> = on_pool!(db, p => sqlx::query_scalar(
        "UPDATE stats_state SET lease_until = $1
         WHERE id = 1 AND lease_until <= $2 AND refreshed_at <= $3 RETURNING watermark"
    ).bind(now + LEASE_MS).bind(now).bind(refreshed_before).fetch_optional(p).await)?;
    let Some(watermark) = claimed else {
        return Ok(None);
    };
    let result = refresh_days(db, now, watermark, lookback_ms).await;
    let new_mark = if result.is_ok() { now } else { watermark };
    exec_on_pool!(db, p => sqlx::query(
        "UPDATE stats_state SET lease_until = 0, watermark = $1, refreshed_at = $2 WHERE id = 1"
    ).bind(new_mark).bind(now).execute(p).await)?;
    result.map(Some)
}

async fn refresh_days(db: &Db, now: Millis, watermark: Millis, lookback_ms: i64) -> Result<usize> {
    let today = day_of(now);
    let mut days: BTreeSet<i64> = BTreeSet::new();
    if watermark <= 0 {
        let oldest: Option<i64> = on_pool!(db, p => sqlx::query_scalar(
            "SELECT MIN(created_at) FROM orders"
        ).fetch_one(p).await)?;
        // Days whose orders retention deleted are rebuilt from what they left.
        let retired: Option<i64> = on_pool!(db, p => sqlx::query_scalar(
            "SELECT MIN(day) FROM stats_retired_daily"
        ).fetch_one(p).await)?;
        let first = [oldest.map(day_of), retired].into_iter().flatten().min();
        days.extend(first.unwrap_or(today).min(today)..=today);
    } else {
        let since = (watermark - lookback_ms.max(0)).max(0);
        days.extend(day_of(since).min(today)..=today);
        let cohorts: Vec<i64> = on_pool!(db, p => sqlx::query_scalar(
            "SELECT created_at / 86400000 FROM orders WHERE reached_at >= $1
             UNION SELECT created_at / 86400000 FROM orders WHERE state = 'held' AND updated_at >= $1"
        ).bind(since).fetch_all(p).await)?;
        days.extend(cohorts);
    }
    // Runs of consecutive days are rebuilt together: one pass over their rows.
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for &day in &days {
        match runs.last_mut() {
            Some((_, to)) if *to + 1 == day => *to = day,
            _ => runs.push((day, day)),
        }
    }
    for (from, to) in runs {
        rebuild(db, from, to).await?;
    }
    Ok(days.len())
}

/// When the rollups were last refreshed (`None`: never).
pub async fn refreshed_at(db: &Db) -> Result<Option<Millis>> {
    let at: Option<i64> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT refreshed_at FROM stats_state WHERE id = 1"
    ).fetch_optional(p).await)?;
    Ok(at.filter(|t| *t > 0))
}

/// The decode of `COUNT`/`SUM` columns from `start` on, into [`Counts`].
fn counts_at<R>(row: &R, start: usize, n: usize) -> std::result::Result<Vec<i64>, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    (start..start + n)
        .map(|i| row.try_get::<Option<i64>, _>(i).map(|v| v.unwrap_or(0)))
        .collect()
}

/// A rollup row's key: day, sender pool, recipient provider, order network.
type Key = (i64, i64, String, String);

/// What some rows add to the rollups: `stats_daily` counters per [`Key`] and
/// `stats_attempts_daily` (sent, accepted) per (day, attempt number).
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    rows: BTreeMap<Key, Counts>,
    attempts: BTreeMap<(i64, i64), (i64, i64)>,
}

/// Which raw rows a read covers: those of the days `from..=to` (a rebuild) or
/// some orders' (their retirement before retention deletes them).
#[derive(Clone, Copy)]
enum Scope<'a> {
    Days {
        from: i64,
        to: i64,
    },
    /// `(1,2,3)`: integers from the database, written into the statement.
    Orders(&'a str),
}

/// One read of a [`Tally`]: a statement and its arguments. `Keyed` reads return
/// the [`Key`] and then every counter in [`count_columns`] order; `Attempts`
/// reads return day, attempt number, sent, accepted.
struct Read {
    sql: String,
    args: Vec<i64>,
    keyed: bool,
}

impl Scope<'_> {
    /// The condition on a time column (days) or an order-id column (orders),
    /// and its arguments.
    fn filter(&self, time_col: &str, order_col: &str) -> (String, Vec<i64>) {
        match self {
            Scope::Days { from, to } => (
                format!("{time_col} >= $1 AND {time_col} < $2"),
                vec![from * DAY_MS, (to + 1) * DAY_MS],
            ),
            Scope::Orders(ids) => (format!("{order_col} IN {ids}"), Vec::new()),
        }
    }

    /// Everything the rollups count, as reads of raw rows (and, for a day,
    /// of what retired orders had added to it).
    fn reads(&self, db: &Db) -> Vec<Read> {
        let zero = "CAST(0 AS BIGINT)";
        let zeros = |n: usize| vec![zero; n].join(", ");
        let sum = |cond: &str| format!("SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)");
        let mut reads = Vec::new();

        // Sends, by the pool that sent and the recipient's provider.
        let (f, args) = self.filter("a.finished_at", "a.order_id");
        let classes: Vec<String> = BOUNCE_CLASSES
            .iter()
            .map(|c| {
                sum(&format!(
                    "a.outcome IN ('rejected', 'deferred') AND a.class = '{c}'"
                ))
            })
            .collect();
        reads.push(Read {
            sql: format!(
                "SELECT a.finished_at / {DAY_MS}, a.pool_id, {}, o.network_kind,
                    {zero}, COUNT(*), {}, {}, {}
                 FROM delivery_attempts a JOIN orders o ON o.id = a.order_id
                 WHERE {f} AND a.finished_at IS NOT NULL AND a.outcome IS NOT NULL
                 GROUP BY 1, 2, 3, 4",
                provider_sql(db, "o.customer_email"),
                sum("a.outcome = 'accepted'"),
                classes.join(", "),
                zeros(3 + TTR_BUCKETS),
            ),
            args,
            keyed: true,
        });

        // Later bounces and complaints, by the pool of the attempt they are tied to.
        let (f, args) = self.filter("b.received_at", "b.order_id");
        let classes: Vec<String> = BOUNCE_CLASSES
            .iter()
            .chain(&["complaint"])
            .map(|c| sum(&format!("b.class = '{c}'")))
            .collect();
        reads.push(Read {
            sql: format!(
                "SELECT b.received_at / {DAY_MS}, COALESCE(a.pool_id, 0), {},
                    COALESCE(o.network_kind, 'residential'), {}, {}, {}
                 FROM bounces b LEFT JOIN delivery_attempts a ON a.id = b.attempt_id
                 LEFT JOIN orders o ON o.id = b.order_id
                 WHERE {f} AND b.class IN ('recipient_permanent', 'sender_reputation', 'transient', 'content', 'complaint')
                 GROUP BY 1, 2, 3, 4",
                provider_sql(db, "COALESCE(o.customer_email, b.recipient, '')"),
                zeros(3),
                classes.join(", "),
                zeros(2 + TTR_BUCKETS),
            ),
            args,
            keyed: true,
        });

        // The orders (a cohort by arrival day): held, reached, time to receipt (pool 0).
        let (f, args) = self.filter("o.created_at", "o.id");
        let ttr: Vec<String> = (0..TTR_BUCKETS)
            .map(|i| {
                let mut cond = String::from("o.reached_at IS NOT NULL");
                if i > 0 {
                    cond.push_str(&format!(
                        " AND o.reached_at - o.created_at >= {}",
                        TTR_EDGES_MIN[i - 1] * 60_000
                    ));
                }
                if let Some(hi) = TTR_EDGES_MIN.get(i) {
                    cond.push_str(&format!(
                        " AND o.reached_at - o.created_at < {}",
                        hi * 60_000
                    ));
                }
                sum(&cond)
            })
            .collect();
        reads.push(Read {
            sql: format!(
                "SELECT o.created_at / {DAY_MS}, {zero}, {}, o.network_kind, COUNT(*), {}, {}, {}, {}
                 FROM orders o WHERE {f} GROUP BY 1, 3, 4",
                provider_sql(db, "o.customer_email"),
                zeros(7),
                sum("o.state = 'held' OR o.fallback_at IS NOT NULL"),
                sum("o.reached_at IS NOT NULL"),
                ttr.join(", "),
            ),
            args,
            keyed: true,
        });

        // Receipt attempts by number (retry success).
        let (f, args) = self.filter("finished_at", "order_id");
        reads.push(Read {
            sql: format!(
                "SELECT finished_at / {DAY_MS}, attempt_no, COUNT(*), CAST({} AS BIGINT)
                 FROM delivery_attempts
                 WHERE {f} AND finished_at IS NOT NULL AND outcome IS NOT NULL AND purpose = 'receipt'
                 GROUP BY 1, 2",
                sum("outcome = 'accepted'")
            ),
            args,
            keyed: false,
        });

        if let Scope::Days { from, to } = self {
            reads.push(Read {
                sql: format!(
                    "SELECT day, pool_id, provider, network, {} FROM stats_retired_daily
                     WHERE day >= $1 AND day <= $2",
                    count_columns().join(", ")
                ),
                args: vec![*from, *to],
                keyed: true,
            });
            reads.push(Read {
                sql: "SELECT day, attempt_no, sent, accepted FROM stats_retired_attempts_daily
                      WHERE day >= $1 AND day <= $2"
                    .into(),
                args: vec![*from, *to],
                keyed: false,
            });
        }
        reads
    }
}

/// Runs `reads` on the open transaction `$tx` (either backend's) and adds
/// their rows to the [`Tally`] `$tally`.
macro_rules! tally_reads {
    ($tx:expr, $reads:expr, $tally:expr) => {
        for read in $reads {
            let mut q = sqlx::query(&read.sql);
            for a in &read.args {
                q = q.bind(*a);
            }
            for r in q.fetch_all(&mut *$tx).await? {
                use sqlx::Row;
                let day: i64 = r.try_get(0)?;
                if read.keyed {
                    let key: Key = (day, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
                    let v = counts_at(&r, 4, count_columns().len())?;
                    $tally
                        .rows
                        .entry(key)
                        .or_default()
                        .add(&Counts::from_slice(&v));
                } else {
                    let v = counts_at(&r, 1, 3)?;
                    let e = $tally.attempts.entry((day, v[0])).or_default();
                    e.0 += v[1];
                    e.1 += v[2];
                }
            }
        }
    };
}

/// Recomputes the days `from..=to` (after history was written or
/// removed directly, e.g. by `rebound demo`). Safe beside a running refresh.
///
/// Each read covers the whole range and groups by day, so a long range is a
/// few scans instead of one index walk per day (at 10 M orders on PostgreSQL
/// per-day reads were random IO: up to a minute a day).
pub async fn rebuild(db: &Db, from: i64, to: i64) -> Result<()> {
    if from > to {
        return Ok(());
    }
    let reads = Scope::Days { from, to }.reads(db);
    let mut tally = Tally::default();
    // One snapshot for every read: an order that retention retires meanwhile
    // is counted once, either from its rows or from the retired tables.
    on_pool!(db, p => {
        let mut tx = p.begin_with(dialect::begin_read_snapshot(db)).await?;
        tally_reads!(tx, &reads, tally);
        tx.commit().await?;
    });

    let cols = count_columns();
    let placeholders: Vec<String> = (5..5 + cols.len()).map(|i| format!("${i}")).collect();
    let updates: Vec<String> = cols.iter().map(|c| format!("{c} = excluded.{c}")).collect();
    let insert = format!(
        "INSERT INTO stats_daily (day, pool_id, provider, network, {}) VALUES ($1, $2, $3, $4, {})
         ON CONFLICT (day, pool_id, provider, network) DO UPDATE SET {}",
        cols.join(", "),
        placeholders.join(", "),
        updates.join(", ")
    );
    on_pool!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("DELETE FROM stats_daily WHERE day >= $1 AND day <= $2")
            .bind(from).bind(to).execute(&mut *tx).await?;
        for ((day, pool, provider, network), c) in &tally.rows {
            let mut q = sqlx::query(&insert).bind(*day).bind(*pool).bind(provider.as_str()).bind(network.as_str());
            for v in c.to_vec() {
                q = q.bind(v);
            }
            q.execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM stats_attempts_daily WHERE day >= $1 AND day <= $2")
            .bind(from).bind(to).execute(&mut *tx).await?;
        for ((day, attempt_no), (sent, accepted)) in &tally.attempts {
            sqlx::query(
                "INSERT INTO stats_attempts_daily (day, attempt_no, sent, accepted) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (day, attempt_no) DO UPDATE SET sent = excluded.sent, accepted = excluded.accepted"
            ).bind(*day).bind(*attempt_no).bind(*sent).bind(*accepted).execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM stats_risk_daily WHERE day >= $1 AND day <= $2")
            .bind(from).bind(to).execute(&mut *tx).await?;
        sqlx::query(&crate::risk::calibration::rollup_days_sql())
            .bind(from).bind(to).bind(from * DAY_MS).bind((to + 1) * DAY_MS)
            .execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Deletes orders (`ids`) by running `delete` (statements with `{IDS}` for
/// the id list) in one transaction, after adding everything those orders
/// count for in the rollups to the retired tables, so that rebuilding any
/// day later gives the same numbers as before. Returns the rows the last
/// statement removed.
pub(crate) async fn retire_orders(db: &Db, ids: &[i64], delete: &[&str]) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let list = format!(
        "({})",
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    );
    let reads = Scope::Orders(&list).reads(db);
    let cols = count_columns();
    let placeholders: Vec<String> = (5..5 + cols.len()).map(|i| format!("${i}")).collect();
    let adds: Vec<String> = cols
        .iter()
        .map(|c| format!("{c} = stats_retired_daily.{c} + excluded.{c}"))
        .collect();
    let insert = format!(
        "INSERT INTO stats_retired_daily (day, pool_id, provider, network, {}) VALUES ($1, $2, $3, $4, {})
         ON CONFLICT (day, pool_id, provider, network) DO UPDATE SET {}",
        cols.join(", "),
        placeholders.join(", "),
        adds.join(", ")
    );
    let deleted = on_pool!(db, p => {
        // What is counted is exactly what is deleted: a row written meanwhile
        // (a late bounce) cannot vanish uncounted.
        let mut tx = p.begin_with(dialect::begin_write_snapshot(db)).await?;
        let mut tally = Tally::default();
        tally_reads!(tx, &reads, tally);
        for ((day, pool, provider, network), c) in &tally.rows {
            let mut q = sqlx::query(&insert).bind(*day).bind(*pool).bind(provider.as_str()).bind(network.as_str());
            for v in c.to_vec() {
                q = q.bind(v);
            }
            q.execute(&mut *tx).await?;
        }
        for ((day, attempt_no), (sent, accepted)) in &tally.attempts {
            sqlx::query(
                "INSERT INTO stats_retired_attempts_daily (day, attempt_no, sent, accepted) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (day, attempt_no) DO UPDATE SET
                     sent = stats_retired_attempts_daily.sent + excluded.sent,
                     accepted = stats_retired_attempts_daily.accepted + excluded.accepted"
            ).bind(*day).bind(*attempt_no).bind(*sent).bind(*accepted).execute(&mut *tx).await?;
        }
        let risk: Vec<(i64, i64, i64, i64, i64, i64)> =
            sqlx::query_as(&crate::risk::calibration::retire_sql(&list)).fetch_all(&mut *tx).await?;
        for (day, decile, orders, score_sum, bounced, held) in &risk {
            sqlx::query(
                "INSERT INTO stats_retired_risk (day, decile, orders, score_sum, bounced, held)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (day, decile) DO UPDATE SET
                     orders = stats_retired_risk.orders + excluded.orders,
                     score_sum = stats_retired_risk.score_sum + excluded.score_sum,
                     bounced = stats_retired_risk.bounced + excluded.bounced,
                     held = stats_retired_risk.held + excluded.held"
            ).bind(*day).bind(*decile).bind(*orders).bind(*score_sum).bind(*bounced).bind(*held)
            .execute(&mut *tx).await?;
        }
        let mut deleted = 0;
        for s in delete {
            deleted = sqlx::query(&s.replace("{IDS}", &list)).execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        deleted
    });
    Ok(deleted)
}

// ---------------------------------------------------------------------------
// Reading

/// How rollup rows are grouped when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// One row per day (key `""`).
    Day,
    /// Per day and recipient provider (key: the provider).
    DayProvider,
    /// Per day and sender pool (key: the pool id; 0 = no pool).
    DayPool,
    /// Per day and the order's network (key: `vpn`, `datacenter`, `tor`, `residential`).
    DayNetwork,
}

/// Summed counters for `from_day..=to_day`, grouped, in day order.
pub async fn by_day(
    db: &Db,
    from_day: i64,
    to_day: i64,
    group: Group,
) -> Result<Vec<(i64, String, Counts)>> {
    let key = match group {
        Group::Day => "''",
        Group::DayProvider => "provider",
        Group::DayPool => "CAST(pool_id AS TEXT)",
        Group::DayNetwork => "network",
    };
    let sums: Vec<String> = count_columns()
        .iter()
        .map(|c| format!("CAST(SUM({c}) AS BIGINT)"))
        .collect();
    let sql = format!(
        "SELECT day, {key}, {} FROM stats_daily WHERE day >= $1 AND day <= $2
         GROUP BY 1, 2 ORDER BY 1, 2",
        sums.join(", ")
    );
    let n = count_columns().len();
    let rows: Vec<(i64, String, Vec<i64>)> = on_pool!(db, p => {
        let found = sqlx::query(&sql).bind(from_day).bind(to_day).fetch_all(p).await?;
        found.iter().map(|r| {
            use sqlx::Row;
            Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?, counts_at(r, 2, n)?))
        }).collect::<std::result::Result<Vec<_>, _>>()?
    });
    Ok(rows
        .into_iter()
        .map(|(d, k, v)| (d, k, Counts::from_slice(&v)))
        .collect())
}

/// Counters for `from_day..=to_day` per (sender pool, recipient provider,
/// order network), summed over the days: what the risk score learns from.
pub async fn by_pool_provider_network(
    db: &Db,
    from_day: i64,
    to_day: i64,
) -> Result<Vec<(i64, String, String, Counts)>> {
    let sums: Vec<String> = count_columns()
        .iter()
        .map(|c| format!("CAST(SUM({c}) AS BIGINT)"))
        .collect();
    let sql = format!(
        "SELECT pool_id, provider, network, {} FROM stats_daily WHERE day >= $1 AND day <= $2
         GROUP BY 1, 2, 3",
        sums.join(", ")
    );
    let n = count_columns().len();
    let rows: Vec<(i64, String, String, Vec<i64>)> = on_pool!(db, p => {
        let found = sqlx::query(&sql).bind(from_day).bind(to_day).fetch_all(p).await?;
        found.iter().map(|r| {
            use sqlx::Row;
            Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, counts_at(r, 3, n)?))
        }).collect::<std::result::Result<Vec<_>, _>>()?
    });
    Ok(rows
        .into_iter()
        .map(|(pool, prov, net, v)| (pool, prov, net, Counts::from_slice(&v)))
        .collect())
}

/// Everything in `from_day..=to_day` added up.
pub async fn totals(db: &Db, from_day: i64, to_day: i64) -> Result<Counts> {
    let mut total = Counts::default();
    for (_, _, c) in by_day(db, from_day, to_day, Group::Day).await? {
        total.add(&c);
    }
    Ok(total)
}

/// Receipt attempts and how many were accepted, by attempt number, over the days.
pub async fn retries(db: &Db, from_day: i64, to_day: i64) -> Result<Vec<(i64, i64, i64)>> {
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT attempt_no, CAST(SUM(sent) AS BIGINT), CAST(SUM(accepted) AS BIGINT)
         FROM stats_attempts_daily WHERE day >= $1 AND day <= $2
         GROUP BY attempt_no ORDER BY attempt_no"
    ).bind(from_day).bind(to_day).fetch_all(p).await)?)
}

/// Support cases waiting for an agent right now: open cases, and how many of
/// them are past their SLA. Live, an index range (`support_cases_open`).
pub async fn cases_needing_agent(db: &Db, now: Millis) -> Result<(i64, i64)> {
    let (open, overdue): (i64, Option<i64>) = on_pool!(db, p => sqlx::query_as(
        "SELECT COUNT(*), CAST(SUM(CASE WHEN due_at < $1 THEN 1 ELSE 0 END) AS BIGINT)
         FROM support_cases WHERE status = 'open'"
    ).bind(now).fetch_one(p).await)?;
    Ok((open, overdue.unwrap_or(0)))
}

/// Orders held right now that have not reached the customer yet, and since
/// when the oldest of them is held. Live, not a rollup (read from the
/// `orders_held_unreached` partial index).
pub async fn held_now(db: &Db) -> Result<(i64, Option<Millis>)> {
    let sql = format!(
        "SELECT COUNT(*), MIN(updated_at) FROM orders{} WHERE state = 'held' AND reached_at IS NULL",
        dialect::held_unreached_index(db)
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql).fetch_one(p).await)?)
}

#[cfg(test)]
mod tests;
