//! The email-health risk score (0–100) of one order, computed at intake from
//! what is known before sending, with every factor's contribution in words.
//!
//! Factors (points, capped at 100 in total):
//! - the network: Tor 30, VPN 25, datacenter 20;
//! - the recipient provider's recent (7-day) bounce and deferral rate on the
//!   pool that would send: 2 points per percent, at most 20;
//! - the learned excess bounce rate of orders from this kind of network to this
//!   provider through that pool, smoothed towards the pool×provider rate with a
//!   Beta prior of `prior_strength` pseudo-sends (thin data cannot swing it):
//!   1 point per percent above that rate, at most 30;
//! - a likely typo of a big provider's domain: 20; a disposable domain: 15;
//! - the domain takes no mail (no MX and no address, NXDOMAIN or a null MX,
//!   when DNS checks are on): 50, enough on its own to make the order high risk.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::RiskConfig;
use super::domain::{DisposableDomains, typo_fix};
use super::mx::MailDomain;
use super::network::{NetworkKind, NetworkVerdict};

/// Below this many sends a rate is not trusted on its own.
pub const MIN_SENDS: i64 = 20;
/// The bounce rate assumed where nothing has been measured yet.
pub const DEFAULT_BOUNCE_RATE: f64 = 0.05;

/// One reason the score is what it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// `network`, `provider_recent`, `learned`, `typo`, `disposable`, `no_mx`.
    pub key: String,
    /// The reason in words, with the numbers it came from.
    pub label: String,
    pub points: i64,
}

/// What intake learns about an order's chances by email.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub network: NetworkVerdict,
    pub score: i64,
    pub factors: Vec<Factor>,
    /// The domain the address probably meant (`gmial.com` → `gmail.com`).
    pub typo_fix: Option<String>,
    /// At or above `risk.high_risk_score`.
    pub high: bool,
    /// The pool the routing policy chose for the first attempt (high risk only).
    pub route_pool_id: Option<i64>,
}

/// Sent / bounced (incl. deferrals) / accepted over some window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    pub sent: i64,
    pub bounced: i64,
    pub accepted: i64,
}

impl Tally {
    pub fn add(&mut self, o: Tally) {
        self.sent += o.sent;
        self.bounced += o.bounced;
        self.accepted += o.accepted;
    }

    fn bounce_rate(&self) -> Option<f64> {
        (self.sent > 0).then(|| self.bounced as f64 / self.sent as f64)
    }
}

/// A pool receipts can go through, in send-chain order.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainPool {
    pub id: i64,
    pub name: String,
}

/// Rolled-up history the score reads (refreshed from `stats_daily` about once
/// a minute, so intake never scans raw rows).
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The enabled primary/backup pools in send order.
    pub chain: Vec<ChainPool>,
    /// (pool, provider) over the last 7 days.
    pub recent: HashMap<(i64, String), Tally>,
    /// (pool, provider) over the learning window: the prior's mean.
    pub base: HashMap<(i64, String), Tally>,
    /// (pool, provider, network kind) over the learning window.
    pub learned: HashMap<(i64, String, NetworkKind), Tally>,
    /// (pool, provider, customer country) over the last 7 days, from orders whose
    /// country is known: region-aware routing.
    pub regional: HashMap<(i64, String, String), Tally>,
}

impl History {
    fn recent(&self, pool: i64, provider: &str) -> Tally {
        self.recent
            .get(&(pool, provider.to_string()))
            .copied()
            .unwrap_or_default()
    }

    fn base(&self, pool: i64, provider: &str) -> Tally {
        self.base
            .get(&(pool, provider.to_string()))
            .copied()
            .unwrap_or_default()
    }

    fn learned(&self, pool: i64, provider: &str, kind: NetworkKind) -> Tally {
        self.learned
            .get(&(pool, provider.to_string(), kind))
            .copied()
            .unwrap_or_default()
    }
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

fn provider_name(provider: &str) -> &'static str {
    crate::provider::label(provider)
}

/// Scores one order. Pure: everything it reads is passed in.
pub fn assess(
    cfg: &RiskConfig,
    network: NetworkVerdict,
    email: &str,
    history: &History,
    disposable: &DisposableDomains,
    mail_domain: &MailDomain,
) -> Assessment {
    let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    let provider = crate::provider::provider_of(email);
    let mut factors = Vec::new();

    let network_points = match network.kind {
        NetworkKind::Tor => 30,
        NetworkKind::Vpn => 25,
        NetworkKind::Datacenter => 20,
        NetworkKind::Residential => 0,
    };
    if network_points > 0 {
        let name = network
            .name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        factors.push(Factor {
            key: "network".into(),
            label: format!("ordered from a {} network{name}", network.kind.label()),
            points: network_points,
        });
    }

    if let Some(pool) = history.chain.first() {
        let recent = history.recent(pool.id, provider);
        if recent.sent >= MIN_SENDS
            && let Some(rate) = recent.bounce_rate()
        {
            let points = (rate * 200.0).round().min(20.0) as i64;
            if points > 0 {
                factors.push(Factor {
                    key: "provider_recent".into(),
                    label: format!(
                        "{} on pool {}: {} bounced or deferred in 7 days ({} of {})",
                        provider_name(provider),
                        pool.name,
                        pct(rate),
                        recent.bounced,
                        recent.sent
                    ),
                    points,
                });
            }
        }
        let base = history.base(pool.id, provider);
        let prior = if base.sent >= MIN_SENDS {
            base.bounce_rate().unwrap_or(DEFAULT_BOUNCE_RATE)
        } else {
            DEFAULT_BOUNCE_RATE
        };
        let seen = history.learned(pool.id, provider, network.kind);
        let k = cfg.prior_strength;
        let smoothed = (seen.bounced as f64 + k * prior) / (seen.sent as f64 + k);
        let points = ((smoothed - prior) * 100.0).round().clamp(0.0, 30.0) as i64;
        if points > 0 {
            factors.push(Factor {
                key: "learned".into(),
                label: format!(
                    "{} orders to {} on pool {} bounced {} ({} of {} in {} days; smoothed {} against {} for all orders)",
                    network.kind.label(),
                    provider_name(provider),
                    pool.name,
                    pct(seen.bounce_rate().unwrap_or(0.0)),
                    seen.bounced,
                    seen.sent,
                    cfg.learn_days,
                    pct(smoothed),
                    pct(prior)
                ),
                points,
            });
        }
    }

    let fix = typo_fix(domain);
    if let Some(fix) = fix {
        factors.push(Factor {
            key: "typo".into(),
            label: format!("{domain} looks like a typo of {fix}"),
            points: 20,
        });
    }
    if disposable.contains(domain) {
        factors.push(Factor {
            key: "disposable".into(),
            label: format!("{domain} is a disposable-address domain"),
            points: 15,
        });
    }
    if let MailDomain::NoMail(why) = mail_domain {
        factors.push(Factor {
            key: "no_mx".into(),
            label: format!("{why}: the receipt email cannot arrive"),
            points: 50,
        });
    }

    let score = factors.iter().map(|f| f.points).sum::<i64>().min(100);
    let high = score >= cfg.high_risk_score;
    let route_pool_id = if high {
        best_pool(history, provider, network.kind, network.country.as_deref())
    } else {
        None
    };
    Assessment {
        network,
        score,
        factors,
        typo_fix: fix.map(str::to_string),
        high,
        route_pool_id,
    }
}

/// The chain pool most likely to get a receipt from `kind` to `provider`
/// accepted: the highest acceptance over the learning window, each pool's
/// rate smoothed towards the rate of all its traffic to that provider (so one
/// lucky send does not win). When the customer's country is known and a pool has
/// sent to that provider for customers there, its regional acceptance counts
/// too, smoothed towards the network-kind estimate (the seed's "a sender with a
/// stronger reputation in that region"). `None` with fewer than two pools.
pub fn best_pool(
    history: &History,
    provider: &str,
    kind: NetworkKind,
    country: Option<&str>,
) -> Option<i64> {
    if history.chain.len() < 2 {
        return None;
    }
    let score = |pool: i64| {
        let base = history.base(pool, provider);
        let prior = if base.sent >= MIN_SENDS {
            base.accepted as f64 / base.sent as f64
        } else {
            1.0 - DEFAULT_BOUNCE_RATE
        };
        let seen = history.learned(pool, provider, kind);
        let by_kind = (seen.accepted as f64 + MIN_SENDS as f64 * prior)
            / (seen.sent as f64 + MIN_SENDS as f64);
        let regional = country
            .and_then(|c| {
                history
                    .regional
                    .get(&(pool, provider.to_string(), c.to_string()))
            })
            .copied()
            .unwrap_or_default();
        (regional.accepted as f64 + MIN_SENDS as f64 * by_kind)
            / (regional.sent as f64 + MIN_SENDS as f64)
    };
    // Ties keep the chain order (the earlier pool wins).
    let mut best: Option<(i64, f64)> = None;
    for p in &history.chain {
        let s = score(p.id);
        if best.is_none_or(|(_, b)| s > b + 1e-9) {
            best = Some((p.id, s));
        }
    }
    best.map(|(id, _)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(kind: NetworkKind) -> NetworkVerdict {
        NetworkVerdict {
            kind,
            name: Some("Example VPN".into()),
            ..NetworkVerdict::unknown()
        }
    }

    fn history() -> History {
        let mut h = History {
            chain: vec![
                ChainPool {
                    id: 1,
                    name: "primary".into(),
                },
                ChainPool {
                    id: 2,
                    name: "backup".into(),
                },
            ],
            ..History::default()
        };
        let t = |sent, bounced| Tally {
            sent,
            bounced,
            accepted: sent - bounced,
        };
        h.recent.insert((1, "gmail".into()), t(1000, 60));
        h.base.insert((1, "gmail".into()), t(4000, 200));
        h.base.insert((2, "gmail".into()), t(500, 10));
        h.learned
            .insert((1, "gmail".into(), NetworkKind::Vpn), t(300, 165));
        h.learned
            .insert((2, "gmail".into(), NetworkKind::Vpn), t(100, 3));
        h.learned
            .insert((1, "gmail".into(), NetworkKind::Residential), t(3700, 35));
        h
    }

    fn cfg() -> RiskConfig {
        RiskConfig::default()
    }

    fn points(a: &Assessment, key: &str) -> i64 {
        a.factors
            .iter()
            .filter(|f| f.key == key)
            .map(|f| f.points)
            .sum()
    }

    #[test]
    fn a_residential_order_to_a_clean_domain_scores_low() {
        let a = assess(
            &cfg(),
            NetworkVerdict::unknown(),
            "ann@gmail.com",
            &history(),
            &DisposableDomains::default(),
            &MailDomain::Unknown,
        );
        assert_eq!(points(&a, "network"), 0);
        assert_eq!(points(&a, "provider_recent"), 12, "6 % → 12 points");
        assert_eq!(
            points(&a, "learned"),
            0,
            "below the pool's rate adds nothing"
        );
        assert_eq!(a.score, 12);
        assert!(!a.high && a.route_pool_id.is_none());
    }

    #[test]
    fn vpn_orders_learn_their_provider_block_and_are_routed() {
        let a = assess(
            &cfg(),
            verdict(NetworkKind::Vpn),
            "ann@gmail.com",
            &history(),
            &DisposableDomains::default(),
            &MailDomain::Unknown,
        );
        assert_eq!(points(&a, "network"), 25);
        // 165 of 300 with a 5 % prior of strength 20: (165 + 1) / 320 = 51.9 %, 46.9 above → capped 30.
        assert_eq!(points(&a, "learned"), 30);
        assert_eq!(a.score, 25 + 12 + 30);
        assert!(a.high);
        assert_eq!(a.route_pool_id, Some(2), "the backup accepts VPN → Gmail");
        let label = &a.factors[0].label;
        assert!(
            label.contains("VPN") && label.contains("Example VPN"),
            "{label}"
        );
    }

    #[test]
    fn the_customers_region_can_change_the_route() {
        let mut h = history();
        let t = |sent, bounced| Tally {
            sent,
            bounced,
            accepted: sent - bounced,
        };
        // No regional data: the backup (best for VPN → Gmail overall).
        assert_eq!(
            best_pool(&h, "gmail", NetworkKind::Vpn, Some("BR")),
            Some(2)
        );
        // In Brazil the backup's Gmail sends fail and the primary's arrive.
        h.regional
            .insert((2, "gmail".into(), "BR".into()), t(400, 300));
        h.regional
            .insert((1, "gmail".into(), "BR".into()), t(400, 8));
        assert_eq!(
            best_pool(&h, "gmail", NetworkKind::Vpn, Some("BR")),
            Some(1)
        );
        // Other countries, or an unknown one, keep the network-kind choice.
        assert_eq!(
            best_pool(&h, "gmail", NetworkKind::Vpn, Some("DE")),
            Some(2)
        );
        assert_eq!(best_pool(&h, "gmail", NetworkKind::Vpn, None), Some(2));
        // A handful of regional sends cannot overturn the network-kind evidence.
        h.regional.insert((2, "gmail".into(), "FR".into()), t(3, 2));
        assert_eq!(
            best_pool(&h, "gmail", NetworkKind::Vpn, Some("FR")),
            Some(2)
        );
        // Through assess: the order's country comes from the IP data.
        let v = NetworkVerdict {
            country: Some("BR".into()),
            ..verdict(NetworkKind::Vpn)
        };
        let a = assess(
            &cfg(),
            v,
            "ann@gmail.com",
            &h,
            &DisposableDomains::default(),
            &MailDomain::Unknown,
        );
        assert_eq!(a.route_pool_id, Some(1));
    }

    #[test]
    fn thin_history_barely_moves_the_score() {
        let mut h = history();
        h.learned.insert(
            (1, "gmail".into(), NetworkKind::Datacenter),
            Tally {
                sent: 2,
                bounced: 2,
                accepted: 0,
            },
        );
        let a = assess(
            &cfg(),
            verdict(NetworkKind::Datacenter),
            "ann@gmail.com",
            &h,
            &DisposableDomains::default(),
            &MailDomain::Unknown,
        );
        // (2 + 20 × 0.05) / 22 = 13.6 %, 8.6 above the prior → 9 points, not 95.
        assert_eq!(points(&a, "learned"), 9);
    }

    #[test]
    fn domain_signals_add_and_the_total_is_capped() {
        let disposable = DisposableDomains::parse("gmial.com\n");
        let a = assess(
            &cfg(),
            verdict(NetworkKind::Tor),
            "ann@gmial.com",
            &history(),
            &disposable,
            &MailDomain::Unknown,
        );
        assert_eq!(a.typo_fix.as_deref(), Some("gmail.com"));
        assert_eq!(points(&a, "typo"), 20);
        assert_eq!(points(&a, "disposable"), 15);
        assert!(a.score <= 100);
    }

    #[test]
    fn a_domain_that_takes_no_mail_makes_the_order_high_risk() {
        let no_mail = MailDomain::NoMail("shop-typo.example does not exist in DNS".into());
        let a = assess(
            &cfg(),
            NetworkVerdict::unknown(),
            "ann@shop-typo.example",
            &History::default(),
            &DisposableDomains::default(),
            &no_mail,
        );
        assert_eq!(points(&a, "no_mx"), 50);
        assert!(a.high, "score {}", a.score);
        assert!(
            a.factors[0].label.contains("cannot arrive"),
            "{:?}",
            a.factors
        );
        let fine = assess(
            &cfg(),
            NetworkVerdict::unknown(),
            "ann@shop.example",
            &History::default(),
            &DisposableDomains::default(),
            &MailDomain::Accepts,
        );
        assert_eq!(fine.score, 0);
    }

    #[test]
    fn no_history_no_pools_still_scores_the_network() {
        let a = assess(
            &cfg(),
            verdict(NetworkKind::Vpn),
            "ann@example.org",
            &History::default(),
            &DisposableDomains::default(),
            &MailDomain::Unknown,
        );
        assert_eq!(a.score, 25);
        assert_eq!(a.route_pool_id, None);
    }
}
