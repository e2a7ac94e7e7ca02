//! Orders placed from a flagged network (VPN, datacenter, Tor): the list the
//! support and manager dashboard filters, sorts and pages by keyset.

use serde::{Deserialize, Serialize};

use super::repo::{Order, READ_COLUMNS, STATE_AS_SEEN};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::on_pool;

/// How the list is ordered; both are keyset-paged (no OFFSET).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlaggedSort {
    /// Newest first.
    #[default]
    Newest,
    /// Highest risk score first, newest first among equals.
    Risk,
}

impl FlaggedSort {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "newest" => Some(Self::Newest),
            "risk" => Some(Self::Risk),
            _ => None,
        }
    }
}

/// Filters; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlaggedFilter {
    /// `vpn`, `datacenter` or `tor`.
    pub network: Option<String>,
    /// A receipt state (`queued`, `accepted`, `held`, …).
    pub state: Option<String>,
    /// `gmail`, `yahoo`, `microsoft` or `other`.
    pub provider: Option<String>,
    /// Reached by any channel (`Some(true)`) or not yet (`Some(false)`).
    pub reached: Option<bool>,
    /// At least this risk score.
    pub min_score: Option<i64>,
    pub sort: FlaggedSort,
}

/// Where the next page starts: the last row's (score, id) or id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlaggedCursor {
    pub score: i64,
    pub id: i64,
}

impl FlaggedCursor {
    /// `"<score>.<id>"`, as it travels in a URL.
    pub fn text(&self) -> String {
        format!("{}.{}", self.score, self.id)
    }

    pub fn parse(s: &str) -> Option<Self> {
        let (score, id) = s.split_once('.')?;
        Some(Self {
            score: score.parse().ok()?,
            id: id.parse().ok()?,
        })
    }
}

const STATES: &[&str] = &["queued", "sending", "retry_scheduled", "accepted", "held"];

/// One page of flagged orders and the cursor of the next page.
pub async fn list_flagged(
    db: &Db,
    filter: &FlaggedFilter,
    after: Option<FlaggedCursor>,
    limit: i64,
) -> Result<(Vec<Order>, Option<FlaggedCursor>)> {
    let limit = limit.clamp(1, 200);
    // Each condition binds its value at a fixed place; unused ones compare
    // against NULL so the text (and the plan) stays the same.
    if let Some(n) = filter.network.as_deref()
        && !matches!(n, "vpn" | "datacenter" | "tor")
    {
        return Err(Error::invalid("network must be vpn, datacenter or tor"));
    }
    if let Some(s) = filter.state.as_deref()
        && !STATES.contains(&s)
    {
        return Err(Error::invalid(format!(
            "state must be one of {}",
            STATES.join(", ")
        )));
    }
    if let Some(p) = filter.provider.as_deref()
        && !crate::provider::PROVIDERS.contains(&p)
    {
        return Err(Error::invalid(
            "provider must be gmail, yahoo, microsoft or other",
        ));
    }
    let provider = crate::provider::provider_sql(db, "customer_email");
    let (order_by, keyset) = match filter.sort {
        FlaggedSort::Newest => ("id DESC", "($6 IS NULL OR id < $7)"),
        FlaggedSort::Risk => (
            "COALESCE(risk_score, 0) DESC, id DESC",
            "($6 IS NULL OR COALESCE(risk_score, 0) < $6 OR (COALESCE(risk_score, 0) = $6 AND id < $7))",
        ),
    };
    let sql = format!(
        "SELECT {columns} FROM orders
         WHERE network_kind <> 'residential'
           AND ($1 IS NULL OR network_kind = $1)
           AND ($2 IS NULL OR {STATE_AS_SEEN} = $2)
           AND ($3 IS NULL OR {provider} = $3)
           AND ($4 IS NULL OR (reached_at IS NOT NULL) = $4)
           AND ($5 IS NULL OR COALESCE(risk_score, 0) >= $5)
           AND {keyset}
         ORDER BY {order_by} LIMIT $8",
        columns = *READ_COLUMNS
    );
    let cursor_score = after.map(|c| c.score);
    let cursor_id = after.map(|c| c.id);
    let rows: Vec<Order> = on_pool!(db, p => sqlx::query_as(&sql)
        .bind(filter.network.as_deref()).bind(filter.state.as_deref())
        .bind(filter.provider.as_deref()).bind(filter.reached).bind(filter.min_score)
        .bind(cursor_score).bind(cursor_id).bind(limit)
        .fetch_all(p).await)?;
    let next = (rows.len() as i64 == limit)
        .then(|| {
            rows.last().map(|o| FlaggedCursor {
                score: o.risk_score.unwrap_or(0),
                id: o.id,
            })
        })
        .flatten();
    Ok((rows, next))
}
