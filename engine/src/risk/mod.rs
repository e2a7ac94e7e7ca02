//! Reputation and risk at intake: which network an order came from
//! (`network.rs`), what the recipient's domain says (`domain.rs`), and the
//! email-health score with its factors and the routing it leads to
//! (`score.rs`). [`Assessor`] holds the loaded sources and a cached view of
//! the rollups so scoring an order costs microseconds, not queries. The
//! rollups and the send chain live in layers above this one: the caller
//! passes their reader in ([`HistorySource`], `stats::RiskHistory`).

pub mod calibration;
mod config;
pub mod domain;
pub mod mx;
pub mod network;
pub mod score;

pub use config::{NetworkListConfig, RiskConfig};
pub use domain::{DisposableDomains, typo_fix};
pub use mx::{MailDomain, MxChecker};
pub use network::{NetworkIntel, NetworkKind, NetworkVerdict};
pub use score::{Assessment, ChainPool, Factor, History, Tally};

use std::future::Future;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use crate::clock::Millis;
use crate::db::Db;
use crate::error::Result;

/// How long the cached rollups are used before they are read again.
const HISTORY_TTL_MS: i64 = 60_000;

/// A source file and what it looked like when it was read.
type Stamp = (PathBuf, Option<(SystemTime, u64)>);

fn stamp_of(path: &PathBuf) -> Stamp {
    let meta = std::fs::metadata(path)
        .ok()
        .and_then(|m| Some((m.modified().ok()?, m.len())));
    (path.clone(), meta)
}

fn source_files(cfg: &RiskConfig) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = cfg.network_lists.iter().map(|l| l.path.clone()).collect();
    files.extend(
        [
            &cfg.asn_mmdb,
            &cfg.anonymous_ip_mmdb,
            &cfg.country_mmdb,
            &cfg.disposable_domains,
        ]
        .into_iter()
        .flatten()
        .cloned(),
    );
    files
}

/// Reads what the score learns from: the send chain and the rollups
/// ([`History`]). Implemented above this layer (`stats::RiskHistory`).
pub trait HistorySource: Sync {
    /// The history as of `now`, learning from the last `learn_days` days.
    fn load(
        &self,
        db: &Db,
        now: Millis,
        learn_days: i64,
    ) -> impl Future<Output = Result<History>> + Send;
}

/// Scores orders at intake. One per process, shared by the API handlers.
pub struct Assessor {
    cfg: RiskConfig,
    intel: RwLock<Arc<NetworkIntel>>,
    disposable: RwLock<Arc<DisposableDomains>>,
    mx: Option<MxChecker>,
    stamps: Mutex<Vec<Stamp>>,
    history: RwLock<Arc<History>>,
    history_due: AtomicI64,
}

impl std::fmt::Debug for Assessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assessor").finish_non_exhaustive()
    }
}

impl Assessor {
    /// Loads every configured source; a missing or broken file stops start-up.
    pub fn new(cfg: &RiskConfig) -> Result<Self> {
        let intel = NetworkIntel::load(cfg)?;
        let disposable = DisposableDomains::load(cfg.disposable_domains.as_deref())?;
        Ok(Self {
            cfg: cfg.clone(),
            intel: RwLock::new(Arc::new(intel)),
            disposable: RwLock::new(Arc::new(disposable)),
            mx: MxChecker::new(cfg)?,
            stamps: Mutex::new(source_files(cfg).iter().map(stamp_of).collect()),
            history: RwLock::new(Arc::new(History::default())),
            history_due: AtomicI64::new(0),
        })
    }

    /// No sources: every address is residential/unknown; history still counts.
    pub fn without_sources() -> Self {
        Self {
            cfg: RiskConfig::default(),
            intel: RwLock::new(Arc::new(NetworkIntel::default())),
            disposable: RwLock::new(Arc::new(DisposableDomains::default())),
            mx: None,
            stamps: Mutex::new(Vec::new()),
            history: RwLock::new(Arc::new(History::default())),
            history_due: AtomicI64::new(0),
        }
    }

    pub fn config(&self) -> &RiskConfig {
        &self.cfg
    }

    /// Re-reads the sources when a file changed since it was read. A file that
    /// now fails to load keeps the previous data (and is reported).
    pub fn reload_if_changed(&self) -> Result<bool> {
        let now: Vec<Stamp> = source_files(&self.cfg).iter().map(stamp_of).collect();
        {
            let stamps = self.stamps.lock().unwrap_or_else(|p| p.into_inner());
            if *stamps == now {
                return Ok(false);
            }
        }
        let intel = NetworkIntel::load(&self.cfg)?;
        let disposable = DisposableDomains::load(self.cfg.disposable_domains.as_deref())?;
        *self.intel.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(intel);
        *self.disposable.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(disposable);
        *self.stamps.lock().unwrap_or_else(|p| p.into_inner()) = now;
        Ok(true)
    }

    /// What the sources say about one address.
    pub fn lookup(&self, ip: IpAddr) -> NetworkVerdict {
        self.intel
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .lookup(ip)
    }

    /// The network of a client IP as the shop sent it (unparseable or absent: unknown).
    pub fn lookup_text(&self, ip: Option<&str>) -> NetworkVerdict {
        ip.and_then(|s| s.trim().parse::<IpAddr>().ok())
            .map(|ip| self.lookup(ip))
            .unwrap_or_else(NetworkVerdict::unknown)
    }

    /// Scores an order: network, history (cached rollups read by `source`,
    /// read again after a minute), domain signals (with DNS when checks are
    /// on: at most `risk.dns_timeout_ms`, cached per TTL).
    pub async fn assess(
        &self,
        db: &Db,
        now: Millis,
        client_ip: Option<&str>,
        email: &str,
        source: &impl HistorySource,
    ) -> Result<Assessment> {
        let network = self.lookup_text(client_ip);
        let history = self.history(db, now, source).await?;
        let disposable = self
            .disposable
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mail_domain = match (&self.mx, email.rsplit_once('@')) {
            (Some(mx), Some((_, domain))) => mx.check(domain).await,
            _ => MailDomain::Unknown,
        };
        Ok(score::assess(
            &self.cfg,
            network,
            email,
            &history,
            &disposable,
            &mail_domain,
        ))
    }

    /// The cached rollup view; one caller refreshes it (through `source`)
    /// when it is due while the others keep using the previous one.
    pub async fn history(
        &self,
        db: &Db,
        now: Millis,
        source: &impl HistorySource,
    ) -> Result<Arc<History>> {
        let due = self.history_due.load(Ordering::Acquire);
        if now >= due
            && self
                .history_due
                .compare_exchange(
                    due,
                    now + HISTORY_TTL_MS,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_ok()
        {
            match source.load(db, now, self.cfg.learn_days).await {
                Ok(h) => {
                    *self.history.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(h);
                }
                Err(e) => {
                    // Try again on the next order rather than in a minute.
                    self.history_due.store(0, Ordering::Release);
                    return Err(e);
                }
            }
        }
        Ok(self
            .history
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone())
    }

    /// Forget the cached rollups (tests and admin changes to pools).
    pub fn invalidate_history(&self) {
        self.history_due.store(0, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_files_are_reloaded_when_they_change_and_a_broken_one_keeps_the_old_data() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("vpn.txt");
        std::fs::write(&path, "203.0.113.0/24 First VPN\n").expect("write");
        let cfg = RiskConfig {
            network_lists: vec![NetworkListConfig {
                path: path.clone(),
                kind: "vpn".into(),
            }],
            ..RiskConfig::default()
        };
        let risk = Assessor::new(&cfg).expect("loads");
        let ip: IpAddr = "198.51.100.1".parse().expect("ip");
        assert_eq!(risk.lookup(ip).kind, NetworkKind::Residential);
        assert!(!risk.reload_if_changed().expect("unchanged"));
        // A different length is a change even within the same mtime second.
        std::fs::write(
            &path,
            "203.0.113.0/24 First VPN\n198.51.100.0/24 Second VPN\n",
        )
        .expect("write");
        assert!(risk.reload_if_changed().expect("reloads"));
        assert_eq!(risk.lookup(ip).kind, NetworkKind::Vpn);
        assert_eq!(risk.lookup(ip).name.as_deref(), Some("Second VPN"));
        std::fs::write(&path, "this is not a network at all\n").expect("write");
        assert!(risk.reload_if_changed().is_err());
        assert_eq!(risk.lookup(ip).kind, NetworkKind::Vpn, "old data kept");
        assert_eq!(
            risk.lookup_text(Some("not an ip")).kind,
            NetworkKind::Residential
        );
        assert_eq!(risk.lookup_text(None).kind, NetworkKind::Residential);
    }

    #[test]
    fn a_missing_source_file_stops_start_up_naming_it() {
        let cfg = RiskConfig {
            country_mmdb: Some(PathBuf::from("/nonexistent/GeoLite2-Country.mmdb")),
            ..RiskConfig::default()
        };
        let err = Assessor::new(&cfg).expect_err("missing");
        assert!(err.to_string().contains("GeoLite2-Country.mmdb"), "{err}");
    }
}
