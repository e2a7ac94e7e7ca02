//! Does the recipient's domain take mail at all? Asked of DNS at intake when
//! `risk.dns_checks` is on. An MX record says yes, and so does an A/AAAA
//! record when there is no MX (RFC 5321 §5.1, the implicit MX). NXDOMAIN, a
//! domain with neither, or a null MX (`0 .`, RFC 7505) says no: the receipt
//! email cannot arrive. A slow or failing resolver says nothing, so DNS
//! trouble costs checkout at most `dns_timeout_ms` and never a point.
//! Answers (negative ones too) are cached by the resolver for their TTL.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

use super::RiskConfig;
use crate::error::{Error, Result};

/// What DNS says about a recipient domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailDomain {
    /// It has somewhere to deliver mail.
    Accepts,
    /// It cannot receive mail; the reason in words.
    NoMail(String),
    /// The resolver did not answer in time or failed: no conclusion.
    Unknown,
}

/// The intake-time MX check: one resolver per process, shared.
pub struct MxChecker {
    resolver: TokioResolver,
    timeout: Duration,
}

impl std::fmt::Debug for MxChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MxChecker")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl MxChecker {
    /// `None` when DNS checks are off. Configured servers are asked over UDP
    /// (TCP when an answer is truncated); none: the system's resolv.conf.
    pub fn new(cfg: &RiskConfig) -> Result<Option<Self>> {
        if !cfg.dns_checks {
            return Ok(None);
        }
        let provider = TokioRuntimeProvider::default();
        let mut builder = if cfg.dns_servers.is_empty() {
            TokioResolver::builder(provider)
                .map_err(|e| Error::Config(format!("risk.dns_checks: system resolver: {e}")))?
        } else {
            let servers = cfg.dns_servers.iter().map(name_server).collect();
            TokioResolver::builder_with_config(
                ResolverConfig::from_parts(None, Vec::new(), servers),
                provider,
            )
        };
        let timeout = Duration::from_millis(cfg.dns_timeout_ms.max(1));
        let opts = builder.options_mut();
        opts.timeout = timeout;
        opts.attempts = 1;
        opts.cache_size = 10_000;
        let resolver = builder
            .build()
            .map_err(|e| Error::Config(format!("risk.dns_checks: resolver: {e}")))?;
        Ok(Some(Self { resolver, timeout }))
    }

    /// Whether `domain` can receive mail, within the configured timeout.
    pub async fn check(&self, domain: &str) -> MailDomain {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        if domain.is_empty() {
            return MailDomain::Unknown;
        }
        // Asking DNS about the big providers is a wasted round trip.
        if super::domain::is_big_domain(&domain) {
            return MailDomain::Accepts;
        }
        // The whole check (MX, then A/AAAA) shares one deadline.
        tokio::time::timeout(self.timeout, self.ask(&domain))
            .await
            .unwrap_or(MailDomain::Unknown)
    }

    async fn ask(&self, domain: &str) -> MailDomain {
        // A trailing dot: a fully qualified name, so no search-list queries.
        let fqdn = format!("{domain}.");
        match self.resolver.mx_lookup(fqdn.as_str()).await {
            Ok(lookup) => {
                let exchanges: Vec<bool> = lookup
                    .answers()
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::MX(mx) => Some(mx.exchange.is_root()),
                        _ => None,
                    })
                    .collect();
                if !exchanges.is_empty() && exchanges.iter().all(|null| *null) {
                    MailDomain::NoMail(format!("{domain} publishes a null MX: it takes no mail"))
                } else if exchanges.is_empty() {
                    self.implicit_mx(domain, &fqdn).await
                } else {
                    MailDomain::Accepts
                }
            }
            Err(e) if e.is_nx_domain() => {
                MailDomain::NoMail(format!("{domain} does not exist in DNS"))
            }
            Err(e) if e.is_no_records_found() => self.implicit_mx(domain, &fqdn).await,
            Err(e) => unknown(domain, &e),
        }
    }

    /// No MX: mail servers fall back to the domain's own address.
    async fn implicit_mx(&self, domain: &str, fqdn: &str) -> MailDomain {
        match self.resolver.lookup_ip(fqdn).await {
            Ok(ips) if ips.iter().next().is_some() => MailDomain::Accepts,
            Ok(_) => no_host(domain),
            Err(e) if e.is_nx_domain() || e.is_no_records_found() => no_host(domain),
            Err(e) => unknown(domain, &e),
        }
    }
}

fn no_host(domain: &str) -> MailDomain {
    MailDomain::NoMail(format!("{domain} has no MX and no address record"))
}

fn unknown(domain: &str, e: &NetError) -> MailDomain {
    tracing::debug!(domain, error = %e, "MX check inconclusive");
    MailDomain::Unknown
}

fn name_server(addr: &SocketAddr) -> NameServerConfig {
    let mut udp = ConnectionConfig::udp();
    udp.port = addr.port();
    let mut tcp = ConnectionConfig::tcp();
    tcp.port = addr.port();
    NameServerConfig::new(addr.ip(), true, vec![udp, tcp])
}
