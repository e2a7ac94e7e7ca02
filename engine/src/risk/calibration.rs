//! Is the score right? Orders grouped by risk-score decile, next to what
//! actually happened to their receipts: how many had a first-attempt bounce
//! or deferral, and how many ended held. A useful score rises decile by
//! decile. `rebound risk calibration` prints it; Trends charts it.

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::db::Db;
use crate::error::Result;
use crate::on_pool;

/// One decile (scores 0–9, 10–19, … 90–100).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decile {
    /// 0 for scores 0–9, …, 9 for 90–100.
    pub decile: i64,
    pub orders: i64,
    pub mean_score: f64,
    /// Orders whose receipt was refused (bounce or deferral) at least once.
    pub bounced: i64,
    /// Orders that ended held (email gave up).
    pub held: i64,
}

impl Decile {
    pub fn bounce_rate(&self) -> f64 {
        if self.orders == 0 {
            0.0
        } else {
            self.bounced as f64 / self.orders as f64
        }
    }

    pub fn held_rate(&self) -> f64 {
        if self.orders == 0 {
            0.0
        } else {
            self.held as f64 / self.orders as f64
        }
    }

    /// `30–39`.
    pub fn range(&self) -> String {
        if self.decile >= 9 {
            "90–100".into()
        } else {
            format!("{}–{}", self.decile * 10, self.decile * 10 + 9)
        }
    }
}

/// Scored orders created since `since`, by decile (deciles with no orders left out).
pub async fn deciles(db: &Db, since: Millis) -> Result<Vec<Decile>> {
    deciles_between(db, since, Millis::MAX).await
}

/// The decile of a score, as SQL over `o.risk_score`.
const DECILE_SQL: &str = "CASE WHEN o.risk_score >= 90 THEN 9 ELSE o.risk_score / 10 END";

/// Per decile: orders, sum of scores, refused at least once, held. As SQL
/// over scored orders `o` (grouped by the caller).
fn outcome_sums() -> &'static str {
    "COUNT(*), CAST(SUM(o.risk_score) AS BIGINT),
     CAST(SUM(CASE WHEN EXISTS (
              SELECT 1 FROM delivery_attempts a WHERE a.order_id = o.id
              AND a.outcome IN ('rejected', 'deferred', 'failed'))
          OR EXISTS (
              SELECT 1 FROM bounces b WHERE b.order_id = o.id
              AND b.class IN ('recipient_permanent', 'sender_reputation', 'transient', 'content'))
          THEN 1 ELSE 0 END) AS BIGINT),
     CAST(SUM(CASE WHEN o.state = 'held' THEN 1 ELSE 0 END) AS BIGINT)"
}

/// What the orders `ids` (`(1,2,3)`) count for here, per arrival day and
/// decile: read by `stats::retire_orders` before retention deletes them.
pub(crate) fn retire_sql(ids: &str) -> String {
    format!(
        "SELECT o.created_at / 86400000, {DECILE_SQL}, {}
         FROM orders o WHERE o.risk_score IS NOT NULL AND o.id IN {ids}
         GROUP BY 1, 2",
        outcome_sums()
    )
}

/// Scored orders created in `from..until`, by decile, with those retention
/// deleted (counted whole days, by the day they arrived). One statement, so
/// an order being deleted meanwhile is counted once. Reads the orders
/// themselves: for `rebound risk calibration`'s exact window; the Trends
/// chart reads the daily rollup ([`deciles_of_days`]).
pub async fn deciles_between(db: &Db, from: Millis, until: Millis) -> Result<Vec<Decile>> {
    let sql = format!(
        "SELECT {DECILE_SQL}, {} FROM orders o
         WHERE o.risk_score IS NOT NULL AND o.created_at >= $1 AND o.created_at < $2
         GROUP BY 1
         UNION ALL
         SELECT decile, orders, score_sum, bounced, held FROM stats_retired_risk
         WHERE day >= $3 AND day < $4",
        outcome_sums()
    );
    // Days whose start lies in the range.
    let (from_day, until_day) = (
        from.div_euclid(DAY_MS) + i64::from(from.rem_euclid(DAY_MS) > 0),
        until.div_euclid(DAY_MS) + i64::from(until.rem_euclid(DAY_MS) > 0),
    );
    let rows: Vec<(i64, i64, i64, i64, i64)> = on_pool!(db, p => sqlx::query_as(&sql)
        .bind(from).bind(until).bind(from_day).bind(until_day).fetch_all(p).await)?;
    Ok(merge(rows))
}

/// Scored orders that arrived on days `from_day..until_day`, by decile, from
/// the `stats_risk_daily` rollup (a few rows a day, whatever the volume).
pub async fn deciles_of_days(db: &Db, from_day: i64, until_day: i64) -> Result<Vec<Decile>> {
    let rows: Vec<(i64, i64, i64, i64, i64)> = on_pool!(db, p => sqlx::query_as(
        "SELECT decile, orders, score_sum, bounced, held FROM stats_risk_daily
         WHERE day >= $1 AND day < $2"
    ).bind(from_day).bind(until_day).fetch_all(p).await)?;
    Ok(merge(rows))
}

/// Recomputes the arrival days `$1..=$2` of `stats_risk_daily` (`$3..$4` their
/// bounds in ms): live scored orders plus those retention retired. Run after
/// deleting those days' rows, in the same transaction (`stats::rebuild`).
pub(crate) fn rollup_days_sql() -> String {
    format!(
        "WITH r(day, decile, orders, score_sum, bounced, held) AS (
             SELECT o.created_at / {DAY_MS}, {DECILE_SQL}, {} FROM orders o
             WHERE o.risk_score IS NOT NULL AND o.created_at >= $3 AND o.created_at < $4
             GROUP BY 1, 2
             UNION ALL
             SELECT day, decile, orders, score_sum, bounced, held FROM stats_retired_risk
             WHERE day >= $1 AND day <= $2)
         INSERT INTO stats_risk_daily (day, decile, orders, score_sum, bounced, held)
         SELECT day, decile, SUM(orders), SUM(score_sum), SUM(bounced), SUM(held) FROM r
         GROUP BY day, decile",
        outcome_sums()
    )
}

/// Rows of (decile, orders, score sum, bounced, held), summed per decile.
fn merge(rows: Vec<(i64, i64, i64, i64, i64)>) -> Vec<Decile> {
    let mut merged: std::collections::BTreeMap<i64, (i64, i64, i64, i64)> = Default::default();
    for (decile, orders, sum, bounced, held) in rows {
        let m = merged.entry(decile).or_default();
        *m = (m.0 + orders, m.1 + sum, m.2 + bounced, m.3 + held);
    }
    merged
        .into_iter()
        .map(|(decile, (orders, sum, bounced, held))| Decile {
            decile,
            orders,
            mean_score: if orders > 0 {
                sum as f64 / orders as f64
            } else {
                0.0
            },
            bounced,
            held,
        })
        .collect()
}

const DAY_MS: i64 = 86_400_000;

/// The deciles as a text table.
pub fn table(deciles: &[Decile]) -> String {
    let mut out = format!(
        "{:<8} {:>8} {:>10} {:>16} {:>10}\n",
        "score", "orders", "mean score", "bounced/deferred", "held"
    );
    for d in deciles {
        out.push_str(&format!(
            "{:<8} {:>8} {:>10.1} {:>15.1}% {:>9.1}%\n",
            d.range(),
            d.orders,
            d.mean_score,
            d.bounce_rate() * 100.0,
            d.held_rate() * 100.0
        ));
    }
    out
}
