//! Spreading and shaping: how fast one sender pool may send to one recipient
//! provider (Gmail, Yahoo, Microsoft, other).
//!
//! Spreading is a token bucket kept as one timestamp per (pool, provider) in
//! `send_pace` (GCRA: `next_at` is when the bucket is next empty-handed). A
//! send that finds no token is not held in memory: its job goes back to the
//! durable queue due at the slot it reserved, so a burst of risky orders
//! leaves as an even stream, across every process sharing the database.
//!
//! Shaping: a provider's deferral texts that mean "you are sending too fast"
//! (rules as data in `engine/rules/shaping_rules.toml`) slow that pair by a
//! factor for a while, with the rule and the reason kept on the pair.

use regex::Regex;
use serde::Deserialize;

use crate::clock::Millis;
use crate::config::PaceConfig;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::{exec_on_pool, on_pool};

/// What a send may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Send now.
    Go,
    /// A slot is reserved at this time: wait in the queue until then.
    At(Millis),
}

/// Milliseconds between sends for one pair at full speed.
pub fn interval_ms(cfg: &PaceConfig) -> i64 {
    ((1000.0 / cfg.per_provider_per_second).ceil() as i64).max(1)
}

/// The statement that reserves slots for a send batch, every (pool, provider)
/// pair at once: `$1` is now, `$2` a JSON list of (pool, provider, count ×
/// interval) rows (`db::json_param`). One upsert, so concurrent workers and
/// processes each get their own slots; it returns each pair's row after the
/// reservation, for [`slots`]. Run it in the transaction that records the
/// batch's attempts (one commit for both).
pub fn reserve_sql(db: &Db) -> String {
    use crate::db::dialect::{JsonType::*, json_rows};
    let rows = json_rows(
        db,
        2,
        &[("pool_id", Int), ("provider", Text), ("amount", Int)],
    );
    // `excluded.next_at - $1` is the pair's amount; a slowed pair pays it
    // times its factor.
    format!(
        "INSERT INTO send_pace (pool_id, provider, next_at)
         SELECT pool_id, provider, $1 + amount FROM ({rows}) AS v WHERE TRUE
         ON CONFLICT (pool_id, provider) DO UPDATE SET next_at =
             (CASE WHEN send_pace.next_at > $1 THEN send_pace.next_at ELSE $1 END)
             + (excluded.next_at - $1) * (CASE WHEN send_pace.slow_until > $1 THEN send_pace.slow_factor ELSE 1 END)
         RETURNING pool_id, provider, next_at, slow_factor, slow_until"
    )
}

/// A pair's `send_pace` row as [`reserve_sql`] returns it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Reserved {
    pub pool_id: i64,
    pub provider: String,
    pub next_at: Millis,
    pub slow_factor: i64,
    pub slow_until: Millis,
}

/// What [`reserve_sql`] reserves for `count` sends of one pair: count ×
/// interval (the `amount` of its row).
pub fn reserve_amount(count: usize, cfg: &PaceConfig) -> Result<i64> {
    let count =
        i64::try_from(count).map_err(|_| Error::invalid("too many sends to pace at once"))?;
    Ok(interval_ms(cfg) * count)
}

/// The slots of the `count` sends a pair reserved, in order, from the row
/// the reservation returned. While a shaping rule holds the pair slowed, the
/// spacing is multiplied by its factor and there is no burst allowance.
pub fn slots(now: Millis, reserved: &Reserved, count: usize, cfg: &PaceConfig) -> Vec<Slot> {
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    let interval = interval_ms(cfg);
    let tolerance = interval * (cfg.burst.max(1) - 1);
    let slowed = reserved.slow_until > now;
    let spacing = if slowed {
        interval * reserved.slow_factor
    } else {
        interval
    };
    let allowance = if slowed { 0 } else { tolerance };
    // The i-th send's slot is the (count - i)-th before the new next_at.
    (0..count)
        .map(|i| {
            let slot = reserved.next_at - (count - i) * spacing - allowance;
            if slot <= now {
                Slot::Go
            } else {
                Slot::At(slot)
            }
        })
        .collect()
}

/// One shaping rule: provider texts that mean "slow down".
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShapingRule {
    pub id: String,
    /// `gmail`, `yahoo`, `microsoft`, `other`; none: any provider.
    pub provider: Option<String>,
    /// Regular expression over the SMTP reply text (code included).
    pub pattern: String,
    /// The pair's spacing is multiplied by this.
    pub slow_factor: i64,
    /// For this long.
    pub minutes: i64,
    /// What the provider means, in a line.
    pub doc: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rule: Vec<ShapingRule>,
}

/// The shaping rules, compiled.
#[derive(Debug, Clone)]
pub struct Shaper {
    rules: Vec<(ShapingRule, Regex)>,
}

/// The rules shipped with Rebound.
pub const BUILTIN_SHAPING_RULES: &str = include_str!("../../rules/shaping_rules.toml");

impl Shaper {
    pub fn builtin() -> Result<Self> {
        Self::parse(BUILTIN_SHAPING_RULES)
    }

    pub fn parse(text: &str) -> Result<Self> {
        let file: RuleFile =
            toml::from_str(text).map_err(|e| Error::Config(format!("shaping rules: {e}")))?;
        let mut rules = Vec::with_capacity(file.rule.len());
        for r in file.rule {
            let re = Regex::new(&r.pattern)
                .map_err(|e| Error::Config(format!("shaping rule {}: {e}", r.id)))?;
            if r.slow_factor < 2 || r.minutes < 1 {
                return Err(Error::Config(format!(
                    "shaping rule {}: slow_factor must be at least 2 and minutes at least 1",
                    r.id
                )));
            }
            rules.push((r, re));
        }
        Ok(Self { rules })
    }

    /// The first rule for `provider` whose pattern is in `reply`.
    pub fn matching(&self, provider: &str, reply: &str) -> Option<&ShapingRule> {
        self.rules
            .iter()
            .find(|(r, re)| {
                r.provider.as_deref().is_none_or(|p| p == provider) && re.is_match(reply)
            })
            .map(|(r, _)| r)
    }

    pub fn rules(&self) -> impl Iterator<Item = &ShapingRule> {
        self.rules.iter().map(|(r, _)| r)
    }
}

/// Slows `pool_id` → `provider` under `rule`. Returns false when the pair was
/// already slowed at least as hard for at least as long (nothing new to log).
pub async fn slow(
    db: &Db,
    now: Millis,
    pool_id: i64,
    provider: &str,
    rule: &ShapingRule,
    reason: &str,
) -> Result<bool> {
    let until = now + rule.minutes * 60_000;
    exec_on_pool!(db, p => sqlx::query(
        "INSERT INTO send_pace (pool_id, provider) VALUES ($1, $2) ON CONFLICT (pool_id, provider) DO NOTHING"
    ).bind(pool_id).bind(provider).execute(p).await)?;
    let reason: String = reason.chars().take(300).collect();
    let n = exec_on_pool!(db, p => sqlx::query(
        "UPDATE send_pace SET slow_factor = $3, slow_until = $4, slow_rule = $5, slow_reason = $6
         WHERE pool_id = $1 AND provider = $2
           AND NOT (slow_until >= $4 AND slow_factor >= $3)"
    ).bind(pool_id).bind(provider).bind(rule.slow_factor).bind(until).bind(&rule.id).bind(&reason)
        .execute(p).await)?;
    Ok(n > 0)
}

/// A pool → provider pair slowed by a shaping rule now.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Slowed {
    pub pool_id: i64,
    pub provider: String,
    pub slow_factor: i64,
    pub slow_until: Millis,
    pub slow_rule: Option<String>,
    pub slow_reason: Option<String>,
}

/// Every pair slowed at `now`.
pub async fn slowed(db: &Db, now: Millis) -> Result<Vec<Slowed>> {
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT pool_id, provider, slow_factor, slow_until, slow_rule, slow_reason FROM send_pace
         WHERE slow_until > $1 ORDER BY pool_id, provider"
    ).bind(now).fetch_all(p).await)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_parse_and_match_provider_texts() {
        let s = Shaper::builtin().expect("builtin shaping rules");
        let gmail = "421 4.7.28 [192.0.2.1] Our system has detected an unusual rate of unsolicited mail originating from your IP address.";
        assert_eq!(
            s.matching("gmail", gmail).map(|r| r.id.as_str()),
            Some("gmail-unusual-rate")
        );
        let yahoo = "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints";
        assert_eq!(
            s.matching("yahoo", yahoo).map(|r| r.id.as_str()),
            Some("yahoo-tss04")
        );
        // A Yahoo text seen on a Gmail pair is not Gmail's rule.
        assert_ne!(
            s.matching("gmail", yahoo).map(|r| r.id.as_str()),
            Some("yahoo-tss04")
        );
        assert!(s.matching("gmail", "450 4.2.1 mailbox busy").is_none());
        for r in s.rules() {
            assert!(!r.doc.is_empty(), "rule {} has no doc line", r.id);
        }
    }

    #[test]
    fn bad_rules_are_refused_with_the_rule_named() {
        let e = Shaper::parse(
            "[[rule]]\nid = \"x\"\npattern = \"(\"\nslow_factor = 2\nminutes = 1\ndoc = \"d\"\n",
        )
        .expect_err("bad regex");
        assert!(e.to_string().contains("shaping rule x"), "{e}");
        let e = Shaper::parse(
            "[[rule]]\nid = \"y\"\npattern = \"a\"\nslow_factor = 1\nminutes = 1\ndoc = \"d\"\n",
        )
        .expect_err("factor 1 slows nothing");
        assert!(e.to_string().contains("shaping rule y"), "{e}");
    }

    #[test]
    fn interval_rounds_up_and_is_never_zero() {
        let cfg = |r| PaceConfig {
            per_provider_per_second: r,
            burst: 1,
        };
        assert_eq!(interval_ms(&cfg(20.0)), 50);
        assert_eq!(interval_ms(&cfg(3.0)), 334);
        assert_eq!(interval_ms(&cfg(5000.0)), 1);
    }
}
