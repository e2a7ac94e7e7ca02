//! What the risk score learns from ([`History`]): the send chain and the
//! rollups, read here for `risk::Assessor`, which sits in a layer below both
//! and is handed [`RiskHistory`] by its caller.

use crate::clock::Millis;
use crate::db::Db;
use crate::delivery::pools;
use crate::error::Result;
use crate::risk::{ChainPool, History, HistorySource, NetworkKind, Tally};

/// The [`HistorySource`] the intake passes to `risk::Assessor::assess`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RiskHistory;

impl HistorySource for RiskHistory {
    async fn load(&self, db: &Db, now: Millis, learn_days: i64) -> Result<History> {
        load(db, now, learn_days).await
    }
}

/// Reads the send chain and the rollups the score needs.
pub async fn load(db: &Db, now: Millis, learn_days: i64) -> Result<History> {
    let all = pools::list(db).await?;
    let chain = pools::send_chain(&all)
        .into_iter()
        .map(|p| ChainPool {
            id: p.id,
            name: p.name.clone(),
        })
        .collect();
    let today = super::day_of(now);
    let tally = |c: &super::Counts| Tally {
        sent: c.sent,
        bounced: c.bounces(),
        accepted: c.accepted,
    };
    let mut h = History {
        chain,
        ..History::default()
    };
    for (pool, provider, _network, c) in
        super::by_pool_provider_network(db, today - 6, today).await?
    {
        h.recent.entry((pool, provider)).or_default().add(tally(&c));
    }
    for (pool, provider, network, c) in
        super::by_pool_provider_network(db, today - learn_days + 1, today).await?
    {
        let t = tally(&c);
        h.base.entry((pool, provider.clone())).or_default().add(t);
        let kind = NetworkKind::parse(&network).unwrap_or(NetworkKind::Residential);
        h.learned.entry((pool, provider, kind)).or_default().add(t);
    }
    // Region: raw receipt attempts of the last 7 days whose order's country is
    // known (once a minute, grouped in the database; the rollups have no country).
    let domain = crate::db::dialect::email_domain(db, "o.customer_email");
    let sql = format!(
        "SELECT a.pool_id, {domain}, o.ip_country, a.outcome, COUNT(*)
         FROM delivery_attempts a JOIN orders o ON o.id = a.order_id
         WHERE a.finished_at >= $1 AND o.ip_country IS NOT NULL AND a.purpose = 'receipt'
           AND a.outcome IS NOT NULL
         GROUP BY a.pool_id, {domain}, o.ip_country, a.outcome"
    );
    let rows: Vec<(i64, String, String, String, i64)> = crate::on_pool!(db, p => sqlx::query_as(&sql)
        .bind(now - 7 * super::DAY_MS).fetch_all(p).await)?;
    for (pool, domain, country, outcome, n) in rows {
        let provider = crate::provider::provider_of(&format!("x@{domain}")).to_string();
        let t = h.regional.entry((pool, provider, country)).or_default();
        t.sent += n;
        if outcome == "accepted" {
            t.accepted += n;
        } else {
            t.bounced += n;
        }
    }
    Ok(h)
}
