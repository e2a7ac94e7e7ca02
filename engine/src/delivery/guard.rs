//! The pool health guard: rolling bounce, deferral and complaint rates per
//! sender pool (and per pool × recipient provider) over the last hour, day
//! and week, and the automatic demotion or pause of a pool that crosses the
//! thresholds in `[pool_health]`. A pause is audited and shown on the
//! dashboard; only an admin resumes a pool (`pools::set_enabled`). Retries
//! and fallback re-sends never use a paused pool, because a paused pool is
//! disabled and `pools::send_chain` and the masked-pool pick skip it.

use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor};
use crate::clock::Millis;
use crate::config::PoolHealthConfig;
use crate::db::{Db, dialect};
use crate::error::Result;
use crate::{exec_on_pool, on_pool};

use super::pools::{self, SenderPool};

/// The windows rates are read over: label and length.
pub const WINDOWS: [(&str, i64); 3] = [
    ("1 h", 3_600_000),
    ("24 h", 86_400_000),
    ("7 d", 7 * 86_400_000),
];

/// Counts in one window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowCounts {
    pub label: String,
    /// Send attempts that finished (any outcome).
    pub sends: i64,
    pub accepted: i64,
    /// Bad recipient, reputation block or content refusal.
    pub bounces: i64,
    /// Transient refusals (4xx, timeouts).
    pub deferrals: i64,
    pub complaints: i64,
}

impl WindowCounts {
    pub fn bounce_rate(&self) -> Option<f64> {
        (self.sends > 0).then(|| self.bounces as f64 / self.sends as f64)
    }
    pub fn deferral_rate(&self) -> Option<f64> {
        (self.sends > 0).then(|| self.deferrals as f64 / self.sends as f64)
    }
    pub fn complaint_rate(&self) -> Option<f64> {
        (self.accepted > 0).then(|| self.complaints as f64 / self.accepted as f64)
    }
}

/// A pool's (or a pool × provider pair's) windows, shortest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolRates {
    pub pool_id: i64,
    /// `None`: the whole pool.
    pub provider: Option<String>,
    pub windows: Vec<WindowCounts>,
}

fn empty_windows() -> Vec<WindowCounts> {
    WINDOWS
        .iter()
        .map(|(label, _)| WindowCounts {
            label: (*label).into(),
            ..WindowCounts::default()
        })
        .collect()
}

/// Whether a class counts as a bounce, a deferral or a complaint.
fn bucket(class: &str) -> Option<usize> {
    match class {
        "recipient_permanent" | "sender_reputation" | "content" => Some(0),
        "transient" => Some(1),
        "complaint" => Some(2),
        _ => None,
    }
}

/// Rates per pool (`by_provider` false) or per pool × provider, counting each
/// pool's traffic from its `health_since` on.
pub async fn rates(db: &Db, now: Millis, by_provider: bool) -> Result<Vec<PoolRates>> {
    let since = now - WINDOWS[WINDOWS.len() - 1].1;
    let domain = dialect::email_domain(db, "o.customer_email");
    // One scan of the week, bucketed by window with conditional sums.
    let sums = |col: &str| {
        WINDOWS
            .iter()
            .map(|(_, len)| {
                format!(
                    "CAST(SUM(CASE WHEN {col} >= {} THEN 1 ELSE 0 END) AS BIGINT)",
                    now - len
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let attempts_sql = format!(
        "SELECT a.pool_id, {domain} AS domain, a.outcome, COALESCE(a.class, ''), {}
         FROM delivery_attempts a JOIN orders o ON o.id = a.order_id JOIN sender_pools sp ON sp.id = a.pool_id
         WHERE a.finished_at >= $1 AND a.finished_at >= sp.health_since AND a.outcome IS NOT NULL
         GROUP BY a.pool_id, {domain}, a.outcome, COALESCE(a.class, '')",
        sums("a.finished_at")
    );
    let bounces_sql = format!(
        "SELECT a.pool_id, {domain} AS domain, b.class, {}
         FROM bounces b JOIN delivery_attempts a ON a.id = b.attempt_id
         JOIN orders o ON o.id = a.order_id JOIN sender_pools sp ON sp.id = a.pool_id
         WHERE b.received_at >= $1 AND b.received_at >= sp.health_since
         GROUP BY a.pool_id, {domain}, b.class",
        sums("b.received_at")
    );
    type Row = (i64, String, String, String, i64, i64, i64);
    type BRow = (i64, String, String, i64, i64, i64);
    let attempts: Vec<Row> =
        on_pool!(db, p => sqlx::query_as(&attempts_sql).bind(since).fetch_all(p).await)?;
    let later: Vec<BRow> =
        on_pool!(db, p => sqlx::query_as(&bounces_sql).bind(since).fetch_all(p).await)?;
    let mut out: Vec<PoolRates> = Vec::new();
    let mut slot = |pool_id: i64, domain: &str| -> usize {
        let provider =
            by_provider.then(|| crate::provider::provider_of(&format!("x@{domain}")).to_string());
        match out
            .iter()
            .position(|r| r.pool_id == pool_id && r.provider == provider)
        {
            Some(i) => i,
            None => {
                out.push(PoolRates {
                    pool_id,
                    provider,
                    windows: empty_windows(),
                });
                out.len() - 1
            }
        }
    };
    let mut rows: Vec<(usize, [i64; 3], &'static str, String)> = Vec::new();
    for (pool_id, domain, outcome, class, w0, w1, w2) in attempts {
        let i = slot(pool_id, &domain);
        let kind = if outcome == "accepted" {
            "accepted"
        } else {
            "refused"
        };
        rows.push((i, [w0, w1, w2], kind, class));
    }
    for (pool_id, domain, class, w0, w1, w2) in later {
        let i = slot(pool_id, &domain);
        rows.push((i, [w0, w1, w2], "later", class));
    }
    for (i, counts, kind, class) in rows {
        for (w, n) in counts.into_iter().enumerate() {
            let c = &mut out[i].windows[w];
            if kind != "later" {
                c.sends += n;
            }
            if kind == "accepted" {
                c.accepted += n;
                continue;
            }
            match bucket(&class) {
                Some(0) => c.bounces += n,
                Some(1) => c.deferrals += n,
                Some(2) => c.complaints += n,
                _ => {}
            }
        }
    }
    out.sort_by(|a, b| (a.pool_id, &a.provider).cmp(&(b.pool_id, &b.provider)));
    Ok(out)
}

/// What the thresholds say about a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Tried after the healthy pools; why.
    Demote(String),
    /// Takes no sends until an admin resumes it; why.
    Pause(String),
}

fn pct(r: f64) -> String {
    format!("{:.2} %", r * 100.0)
}

/// Judges one pool's windows against the thresholds. A window counts once it
/// holds `min_sends` attempts; the worst verdict of any window wins.
pub fn judge(windows: &[WindowCounts], cfg: &PoolHealthConfig) -> Verdict {
    let mut demote = None;
    for w in windows.iter().filter(|w| w.sends >= cfg.min_sends) {
        let checks = [
            (
                w.bounce_rate(),
                cfg.bounce_demote,
                cfg.bounce_pause,
                "bounce rate",
                w.sends,
                "attempts",
            ),
            (
                w.complaint_rate(),
                cfg.complaint_demote,
                cfg.complaint_pause,
                "complaint rate",
                w.accepted,
                "accepted",
            ),
        ];
        for (rate, demote_at, pause_at, what, of, unit) in checks {
            let Some(rate) = rate else { continue };
            let why = |limit: f64| {
                format!(
                    "{what} {} over the last {} ({of} {unit}) is at or above {}",
                    pct(rate),
                    w.label,
                    pct(limit)
                )
            };
            if rate >= pause_at {
                return Verdict::Pause(why(pause_at));
            }
            if rate >= demote_at && demote.is_none() {
                demote = Some(why(demote_at));
            }
        }
    }
    demote.map_or(Verdict::Ok, Verdict::Demote)
}

/// A change the guard made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub pool_id: i64,
    pub pool: String,
    /// `ok`, `demoted`, `paused` (rates), or `unreachable` / `answering` (relay).
    pub state: &'static str,
    pub reason: String,
}

/// One guard pass: judges every enabled pool and pauses, demotes or restores
/// it. Each change is conditional on the state read, so two processes running
/// the pass at once make (and audit) a change once.
pub async fn run(db: &Db, now: Millis, cfg: &PoolHealthConfig) -> Result<Vec<Change>> {
    if !cfg.enabled {
        return Ok(Vec::new());
    }
    let pools = pools::list(db).await?;
    let rates = rates(db, now, false).await?;
    let mut changes = Vec::new();
    for pool in pools.iter().filter(|p| p.enabled) {
        let windows = rates
            .iter()
            .find(|r| r.pool_id == pool.id)
            .map(|r| r.windows.clone())
            .unwrap_or_default();
        let (state, reason) = match judge(&windows, cfg) {
            Verdict::Pause(why) => ("paused", Some(why)),
            Verdict::Demote(why) => ("demoted", Some(why)),
            Verdict::Ok => ("ok", None),
        };
        if state == pool.health_state {
            continue;
        }
        if apply(db, now, pool, state, reason.as_deref()).await? {
            let reason =
                reason.unwrap_or_else(|| "rates back under the demotion thresholds".into());
            match state {
                "paused" => tracing::warn!(pool = %pool.name, %reason, "pool health: pool paused"),
                "demoted" => {
                    tracing::warn!(pool = %pool.name, %reason, "pool health: pool demoted")
                }
                _ => tracing::info!(pool = %pool.name, "pool health: pool restored"),
            }
            let action = format!(
                "pool.auto_{}",
                if state == "ok" {
                    "restore"
                } else {
                    &state[..state.len() - 1]
                }
            );
            changes.push(audited(db, now, pool, state, &action, reason).await?);
        }
    }
    Ok(changes)
}

/// Writes a change the guard made to the audit log (actor `system`).
async fn audited(
    db: &Db,
    now: Millis,
    pool: &SenderPool,
    state: &'static str,
    action: &str,
    reason: String,
) -> Result<Change> {
    let target = format!("pool {}", pool.name);
    audit::record(db, now, &Actor::system(), action, &target, &reason).await?;
    Ok(Change {
        pool_id: pool.id,
        pool: pool.name.clone(),
        state,
        reason,
    })
}

/// Relay health, the other half of a pass and apart from the rates: a pool
/// whose last `relay_failures` attempts (within the last 15 minutes) all got
/// no SMTP answer at all is marked unreachable (`relay_down_since`) and tried
/// after every other pool; an unreachable pool whose relay answers `probe`
/// (greeting, EHLO) is marked answering again. Each change is conditional on
/// the state read and audited, like [`run`]'s.
pub async fn relays<F, Fut>(
    db: &Db,
    now: Millis,
    cfg: &PoolHealthConfig,
    probe: F,
) -> Result<Vec<Change>>
where
    F: Fn(SenderPool) -> Fut,
    Fut: std::future::Future<Output = std::result::Result<(), String>>,
{
    if !cfg.enabled || cfg.relay_failures <= 0 {
        return Ok(Vec::new());
    }
    let mut changes = Vec::new();
    for pool in pools::list(db).await?.into_iter().filter(|p| p.enabled) {
        let change = if pool.relay_down_since.is_some() {
            if let Err(e) = probe(pool.clone()).await {
                tracing::debug!(pool = %pool.name, error = %e, "relay still unreachable");
                continue;
            }
            let n = exec_on_pool!(db, p => sqlx::query(
                "UPDATE sender_pools SET relay_down_since = NULL, relay_reason = NULL
                 WHERE id = $1 AND relay_down_since IS NOT NULL"
            ).bind(pool.id).execute(p).await)?;
            (n > 0).then(|| {
                tracing::info!(pool = %pool.name, "relay health: the relay answers again");
                (
                    "answering",
                    "the relay answers again (greeting and EHLO)".to_string(),
                    "pool.relay_restored",
                )
            })
        } else {
            let recent: Vec<(Option<String>, Option<String>)> = on_pool!(db, p => sqlx::query_as(
                "SELECT outcome, rule FROM delivery_attempts
                 WHERE pool_id = $1 AND finished_at >= $2
                 ORDER BY finished_at DESC, id DESC LIMIT $3"
            ).bind(pool.id).bind(now - 15 * 60_000).bind(cfg.relay_failures)
                .fetch_all(p).await)?;
            // Only the relay's own failures (connect, greeting, TLS, EHLO, AUTH, a
            // reply that is not SMTP): never a stall mid-transaction, an unknown
            // outcome, or our own wait for a free connection (never an attempt).
            let silent = |(o, r): &(Option<String>, Option<String>)| {
                o.as_deref() == Some("failed")
                    && r.as_deref() == Some(super::outcome::RELAY_FAULT_RULE)
            };
            if recent.len() < cfg.relay_failures as usize || !recent.iter().all(silent) {
                continue;
            }
            let reason = format!(
                "the relay gave no SMTP answer to the last {} attempts (connect refused or timed out, no greeting, TLS, AUTH or protocol failure)",
                recent.len()
            );
            let n = exec_on_pool!(db, p => sqlx::query(
                "UPDATE sender_pools SET relay_down_since = $1, relay_reason = $2
                 WHERE id = $3 AND relay_down_since IS NULL"
            ).bind(now).bind(&reason).bind(pool.id).execute(p).await)?;
            (n > 0).then(|| {
                tracing::warn!(pool = %pool.name, %reason, "relay health: relay unreachable");
                ("unreachable", reason, "pool.relay_unreachable")
            })
        };
        let Some((state, reason, action)) = change else {
            continue;
        };
        changes.push(audited(db, now, &pool, state, action, reason).await?);
    }
    Ok(changes)
}

async fn apply(
    db: &Db,
    now: Millis,
    pool: &SenderPool,
    state: &str,
    reason: Option<&str>,
) -> Result<bool> {
    let enabled = state != "paused";
    let n = exec_on_pool!(db, p => sqlx::query(
        "UPDATE sender_pools SET health_state = $1, health_reason = $2, health_changed_at = $3, enabled = $4
         WHERE id = $5 AND health_state = $6 AND enabled = TRUE"
    ).bind(state).bind(reason).bind(now).bind(enabled).bind(pool.id).bind(&pool.health_state)
        .execute(p).await)?;
    Ok(n > 0)
}

/// Pools the guard has demoted or paused (and not yet restored or resumed),
/// or whose relay does not answer: the dashboard's alerts.
pub async fn alerts(db: &Db) -> Result<Vec<SenderPool>> {
    Ok(pools::list(db)
        .await?
        .into_iter()
        .filter(|p| p.health_state != "ok" || p.relay_down_since.is_some())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(
        label: &str,
        sends: i64,
        accepted: i64,
        bounces: i64,
        complaints: i64,
    ) -> WindowCounts {
        WindowCounts {
            label: label.into(),
            sends,
            accepted,
            bounces,
            deferrals: 0,
            complaints,
        }
    }

    #[test]
    fn thresholds_demote_then_pause_and_thin_windows_do_not_count() {
        let cfg = PoolHealthConfig::default();
        assert_eq!(judge(&[window("1 h", 100, 96, 4, 0)], &cfg), Verdict::Ok);
        assert!(matches!(
            judge(&[window("1 h", 100, 94, 6, 0)], &cfg),
            Verdict::Demote(_)
        ));
        let Verdict::Pause(why) = judge(&[window("24 h", 100, 89, 11, 0)], &cfg) else {
            panic!("11 % bounces must pause");
        };
        assert!(
            why.contains("bounce rate 11.00 % over the last 24 h"),
            "{why}"
        );
        // 3 of 10 bounced, but 10 attempts is below min_sends (50).
        assert_eq!(judge(&[window("1 h", 10, 7, 3, 0)], &cfg), Verdict::Ok);
        // Complaints: 0.2 % demotes, 0.3 % pauses.
        assert!(matches!(
            judge(&[window("7 d", 1000, 1000, 0, 2)], &cfg),
            Verdict::Demote(_)
        ));
        assert!(matches!(
            judge(&[window("7 d", 1000, 1000, 0, 3)], &cfg),
            Verdict::Pause(_)
        ));
        // The worst window wins: a clean hour does not hide a bad day.
        let v = judge(
            &[window("1 h", 60, 60, 0, 0), window("24 h", 200, 170, 30, 0)],
            &cfg,
        );
        assert!(matches!(v, Verdict::Pause(_)), "{v:?}");
    }

    #[test]
    fn classes_land_in_the_right_bucket() {
        assert_eq!(bucket("recipient_permanent"), Some(0));
        assert_eq!(bucket("sender_reputation"), Some(0));
        assert_eq!(bucket("transient"), Some(1));
        assert_eq!(bucket("complaint"), Some(2));
        assert_eq!(bucket("auto_reply"), None);
        assert_eq!(bucket("delivered"), None);
    }
}
