//! The `[risk]` section of the configuration: risk owns its settings and
//! `config` composes them (so nothing here reads the rest of `Config`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::NetworkKind;
use crate::error::{Error, Result};

/// Email-health risk at intake (`engine::risk`): where network data comes from
/// and what a high score does. Every source is optional; files are re-read
/// when they change (checked every 30 s), without a restart.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RiskConfig {
    /// CIDR list files, one network per line with an optional label (`#` comments).
    pub network_lists: Vec<NetworkListConfig>,
    /// MaxMind GeoLite2-ASN / GeoIP2-ISP `.mmdb`: ASN and organisation.
    pub asn_mmdb: Option<PathBuf>,
    /// MaxMind GeoIP2-Anonymous-IP `.mmdb`: VPN, hosting, Tor, proxies.
    pub anonymous_ip_mmdb: Option<PathBuf>,
    /// MaxMind GeoLite2-Country / City `.mmdb`: the country of the IP.
    pub country_mmdb: Option<PathBuf>,
    /// Disposable-address domains, one per line.
    pub disposable_domains: Option<PathBuf>,
    /// Orders scoring at least this are high risk: routed to the best pool for their
    /// recipient provider and marked for the shop's inline receipt.
    pub high_risk_score: i64,
    /// Days of rollups the learned bounce propensity reads.
    pub learn_days: i64,
    /// Weight (in pseudo-sends) of the prior that keeps thin history from swinging the score.
    pub prior_strength: f64,
    /// Ask DNS at intake whether the recipient's domain takes mail (MX, else A/AAAA).
    pub dns_checks: bool,
    /// Resolvers to ask (`"10.0.0.2:53"`); empty: the system's `/etc/resolv.conf`.
    pub dns_servers: Vec<std::net::SocketAddr>,
    /// Longest a DNS check may hold up intake; a slower answer counts for nothing.
    pub dns_timeout_ms: u64,
}

/// One CIDR list and what its networks are.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NetworkListConfig {
    pub path: PathBuf,
    /// `vpn`, `datacenter` or `tor`.
    pub kind: String,
}

impl Default for RiskConfig {
    fn default() -> Self {
        Self {
            network_lists: Vec::new(),
            asn_mmdb: None,
            anonymous_ip_mmdb: None,
            country_mmdb: None,
            disposable_domains: None,
            high_risk_score: 50,
            learn_days: 30,
            prior_strength: 20.0,
            dns_checks: false,
            dns_servers: Vec::new(),
            dns_timeout_ms: 300,
        }
    }
}

impl RiskConfig {
    /// Refuses values the assessor cannot work with, naming the key.
    pub fn validate(&self) -> Result<()> {
        let bad = |key: &str, why: &str| Err(Error::Config(format!("`{key}`: {why}")));
        for list in &self.network_lists {
            if NetworkKind::parse(&list.kind).is_none_or(|k| k == NetworkKind::Residential) {
                return bad(
                    "risk.network_lists.kind",
                    "must be `vpn`, `datacenter` or `tor`",
                );
            }
        }
        if !(0..=100).contains(&self.high_risk_score) {
            return bad("risk.high_risk_score", "must be 0 to 100");
        }
        if self.learn_days < 1 || self.prior_strength <= 0.0 {
            return bad(
                "risk.learn_days",
                "learn_days must be at least 1 and prior_strength above 0",
            );
        }
        if !(1..=10_000).contains(&self.dns_timeout_ms) {
            return bad("risk.dns_timeout_ms", "must be 1 to 10000");
        }
        Ok(())
    }
}
