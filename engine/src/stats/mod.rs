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
//! Days are UTC days, numbered from 1970-01-01.

pub mod charts;

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
/// Bounce rates at or above 5 % of sent are a warning (mailbox providers' guidance).
pub const BOUNCE_RATE_WARNING: f64 = 0.05;
/// Bounce rates at or above 10 % of sent are critical.
pub const BOUNCE_RATE_CRITICAL: f64 = 0.10;
pub use crate::delivery::pools::{COMPLAINT_RATE_CRITICAL, COMPLAINT_RATE_WARNING};
/// How often the worker refreshes the rollups.
pub const REFRESH_INTERVAL_MS: i64 = 60_000;
/// A refresh that crashed gives up its lease after this long.
const LEASE_MS: i64 = 10 * 60_000;

/// The recipient mailbox providers the dashboard tells apart.
pub const PROVIDERS: [&str; 4] = ["gmail", "yahoo", "microsoft", "other"];
/// The bounce classes counted as bounces, in column order (`bounced_<class>`).
pub const BOUNCE_CLASSES: [&str; 4] = [
    "recipient_permanent",
    "sender_reputation",
    "transient",
    "content",
];

/// A provider: exact domains and domain prefixes (`yahoo.` matches `yahoo.co.uk`).
struct ProviderRule {
    name: &'static str,
    exact: &'static [&'static str],
    prefixes: &'static [&'static str],
}

/// AOL mail runs on Yahoo's platform (same postmaster), so it counts as Yahoo.
const PROVIDER_RULES: [ProviderRule; 3] = [
    ProviderRule {
        name: "gmail",
        exact: &["gmail.com", "googlemail.com"],
        prefixes: &[],
    },
    ProviderRule {
        name: "yahoo",
        exact: &["ymail.com", "rocketmail.com", "aol.com", "aim.com"],
        prefixes: &["yahoo."],
    },
    ProviderRule {
        name: "microsoft",
        exact: &["msn.com", "passport.com", "windowslive.com"],
        prefixes: &["outlook.", "hotmail.", "live."],
    },
];

/// The mailbox provider of an email address, from its domain.
pub fn provider_of(email: &str) -> &'static str {
    let domain = email
        .split_once('@')
        .map(|(_, d)| d)
        .unwrap_or(email)
        .to_ascii_lowercase();
    PROVIDER_RULES
        .iter()
        .find(|r| {
            r.exact.contains(&domain.as_str()) || r.prefixes.iter().any(|p| domain.starts_with(p))
        })
        .map(|r| r.name)
        .unwrap_or("other")
}

/// The same decision as [`provider_of`] as an SQL expression over `col`.
/// Built only from the constant lists above (no input reaches it).
pub(crate) fn provider_sql(db: &Db, col: &str) -> String {
    let d = dialect::email_domain(db, col);
    let mut out = String::from("CASE");
    for r in &PROVIDER_RULES {
        let mut tests: Vec<String> = Vec::new();
        if !r.exact.is_empty() {
            let list: Vec<String> = r.exact.iter().map(|e| format!("'{e}'")).collect();
            tests.push(format!("{d} IN ({})", list.join(", ")));
        }
        for p in r.prefixes {
            tests.push(format!("{d} LIKE '{p}%'"));
        }
        out.push_str(&format!(" WHEN {} THEN '{}'", tests.join(" OR "), r.name));
    }
    out.push_str(" ELSE 'other' END");
    out
}

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

/// Where a rate stands against its thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Level {
    Ok,
    Warning,
    Critical,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Critical => "critical",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warning => "Warning",
            Level::Critical => "Critical",
        }
    }

    fn of(rate: Option<f64>, warning: f64, critical: f64) -> Level {
        match rate {
            Some(r) if r >= critical => Level::Critical,
            Some(r) if r >= warning => Level::Warning,
            _ => Level::Ok,
        }
    }
}

/// A bounce rate against 5 % (warning) and 10 % (critical).
pub fn bounce_level(rate: Option<f64>) -> Level {
    Level::of(rate, BOUNCE_RATE_WARNING, BOUNCE_RATE_CRITICAL)
}

/// A complaint rate against 0.1 % (warning) and 0.3 % (critical).
pub fn complaint_level(rate: Option<f64>) -> Level {
    Level::of(rate, COMPLAINT_RATE_WARNING, COMPLAINT_RATE_CRITICAL)
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
        days.extend(oldest.map(day_of).unwrap_or(today).min(today)..=today);
    } else {
        let since = (watermark - lookback_ms.max(0)).max(0);
        days.extend(day_of(since).min(today)..=today);
        let cohorts: Vec<i64> = on_pool!(db, p => sqlx::query_scalar(
            "SELECT created_at / 86400000 FROM orders WHERE reached_at >= $1
             UNION SELECT created_at / 86400000 FROM orders WHERE state = 'held' AND updated_at >= $1"
        ).bind(since).fetch_all(p).await)?;
        days.extend(cohorts);
    }
    for &day in &days {
        rebuild_day(db, day).await?;
    }
    Ok(days.len())
}

/// Recomputes the days `from_day..=to_day` (after history was written or
/// removed directly, e.g. by `rebound demo`). Safe beside a running refresh.
pub async fn rebuild(db: &Db, from_day: i64, to_day: i64) -> Result<()> {
    for day in from_day..=to_day {
        rebuild_day(db, day).await?;
    }
    Ok(())
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

async fn rebuild_day(db: &Db, day: i64) -> Result<()> {
    let (from, to) = (day * DAY_MS, (day + 1) * DAY_MS);
    let mut rows: BTreeMap<(i64, String, String), Counts> = BTreeMap::new();

    // Sends, by the pool that sent and the recipient's provider.
    let prov = provider_sql(db, "o.customer_email");
    let class_sums: Vec<String> = BOUNCE_CLASSES
        .iter()
        .map(|c| {
            format!(
                "SUM(CASE WHEN a.outcome IN ('rejected', 'deferred') AND a.class = '{c}' THEN 1 ELSE 0 END)"
            )
        })
        .collect();
    let sql = format!(
        "SELECT a.pool_id, {prov}, o.network_kind, COUNT(*), SUM(CASE WHEN a.outcome = 'accepted' THEN 1 ELSE 0 END), {}
         FROM delivery_attempts a JOIN orders o ON o.id = a.order_id
         WHERE a.finished_at >= $1 AND a.finished_at < $2 AND a.outcome IS NOT NULL
         GROUP BY 1, 2, 3",
        class_sums.join(", ")
    );
    let sends: Vec<(i64, String, String, Vec<i64>)> = on_pool!(db, p => {
        let found = sqlx::query(&sql).bind(from).bind(to).fetch_all(p).await?;
        found.iter().map(|r| {
            use sqlx::Row;
            Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, counts_at(r, 3, 6)?))
        }).collect::<std::result::Result<Vec<_>, _>>()?
    });
    for (pool, provider, network, v) in sends {
        let c = rows.entry((pool, provider, network)).or_default();
        c.sent += v[0];
        c.accepted += v[1];
        for i in 0..4 {
            c.bounced[i] += v[2 + i];
        }
    }

    // Later bounces and complaints, by the pool of the attempt they are tied to.
    let prov = provider_sql(db, "COALESCE(o.customer_email, b.recipient, '')");
    let sql = format!(
        "SELECT COALESCE(a.pool_id, 0), {prov}, COALESCE(o.network_kind, 'residential'), b.class, COUNT(*)
         FROM bounces b LEFT JOIN delivery_attempts a ON a.id = b.attempt_id
         LEFT JOIN orders o ON o.id = b.order_id
         WHERE b.received_at >= $1 AND b.received_at < $2
           AND b.class IN ('recipient_permanent', 'sender_reputation', 'transient', 'content', 'complaint')
         GROUP BY 1, 2, 3, 4"
    );
    let late: Vec<(i64, String, String, String, i64)> = on_pool!(db, p => sqlx::query_as(&sql)
        .bind(from).bind(to).fetch_all(p).await)?;
    for (pool, provider, network, class, n) in late {
        let c = rows.entry((pool, provider, network)).or_default();
        match BOUNCE_CLASSES.iter().position(|k| *k == class) {
            Some(i) => c.bounced[i] += n,
            None => c.complaints += n,
        }
    }

    // The day's orders: held, reached, time to receipt (pool 0).
    let prov = provider_sql(db, "o.customer_email");
    let ttr_sums: Vec<String> = (0..TTR_BUCKETS)
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
            format!("SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)")
        })
        .collect();
    let sql = format!(
        "SELECT {prov}, o.network_kind, COUNT(*),
            SUM(CASE WHEN o.state = 'held' OR o.fallback_at IS NOT NULL THEN 1 ELSE 0 END),
            SUM(CASE WHEN o.reached_at IS NOT NULL THEN 1 ELSE 0 END), {}
         FROM orders o WHERE o.created_at >= $1 AND o.created_at < $2 GROUP BY 1, 2",
        ttr_sums.join(", ")
    );
    let cohort: Vec<(String, String, Vec<i64>)> = on_pool!(db, p => {
        let found = sqlx::query(&sql).bind(from).bind(to).fetch_all(p).await?;
        found.iter().map(|r| {
            use sqlx::Row;
            Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?, counts_at(r, 2, 3 + TTR_BUCKETS)?))
        }).collect::<std::result::Result<Vec<_>, _>>()?
    });
    for (provider, network, v) in cohort {
        let c = rows.entry((0, provider, network)).or_default();
        c.orders += v[0];
        c.held += v[1];
        c.reached += v[2];
        for i in 0..TTR_BUCKETS {
            c.ttr[i] += v[3 + i];
        }
    }

    // Receipt attempts by number (retry success).
    let retries: Vec<(i64, i64, i64)> = on_pool!(db, p => sqlx::query_as(
        "SELECT attempt_no, COUNT(*), CAST(SUM(CASE WHEN outcome = 'accepted' THEN 1 ELSE 0 END) AS BIGINT)
         FROM delivery_attempts
         WHERE finished_at >= $1 AND finished_at < $2 AND outcome IS NOT NULL AND purpose = 'receipt'
         GROUP BY attempt_no"
    ).bind(from).bind(to).fetch_all(p).await)?;

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
        sqlx::query("DELETE FROM stats_daily WHERE day = $1").bind(day).execute(&mut *tx).await?;
        for ((pool, provider, network), c) in &rows {
            let mut q = sqlx::query(&insert).bind(day).bind(*pool).bind(provider.as_str()).bind(network.as_str());
            for v in c.to_vec() {
                q = q.bind(v);
            }
            q.execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM stats_attempts_daily WHERE day = $1").bind(day).execute(&mut *tx).await?;
        for (attempt_no, sent, accepted) in &retries {
            sqlx::query(
                "INSERT INTO stats_attempts_daily (day, attempt_no, sent, accepted) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (day, attempt_no) DO UPDATE SET sent = excluded.sent, accepted = excluded.accepted"
            ).bind(day).bind(*attempt_no).bind(*sent).bind(*accepted).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
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

/// Orders held right now that have not reached the customer yet, and since
/// when the oldest of them is held. Live, not a rollup (an index range on
/// `orders (state, updated_at)`).
pub async fn held_now(db: &Db) -> Result<(i64, Option<Millis>)> {
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT COUNT(*), MIN(updated_at) FROM orders WHERE state = 'held' AND reached_at IS NULL"
    ).fetch_one(p).await)?)
}

#[cfg(test)]
mod tests;
