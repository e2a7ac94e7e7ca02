//! What network an order's client IP belongs to: VPN, datacenter/hosting, Tor
//! exit, or residential/unknown, with the network's name and ASN where known.
//!
//! Sources, all optional: CIDR list files (longest prefix wins; a list's own
//! label names the network), MaxMind's Anonymous-IP database (VPN, hosting,
//! Tor, proxies), the ASN database (number and organisation) and a country
//! database. Lists are checked first because an operator's own list is the
//! most deliberate statement about a network.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use maxminddb::{Reader, geoip2};
use prefix_trie::PrefixMap;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::Path;

use super::RiskConfig;
use crate::error::{Error, Result};

/// The kind of network an order came from; stored as TEXT (`vpn`,
/// `datacenter`, `tor`, `residential`), names derived from this one list.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    sqlx::Type,
    strum::Display,
    strum::EnumString,
    strum::AsRefStr,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum NetworkKind {
    /// A commercial VPN or anonymising proxy.
    Vpn,
    /// A hosting or cloud provider's address space.
    Datacenter,
    /// A Tor exit node.
    Tor,
    /// A residential or business line, or nothing known about it.
    Residential,
}

impl NetworkKind {
    pub const ALL: [NetworkKind; 4] = [
        NetworkKind::Vpn,
        NetworkKind::Datacenter,
        NetworkKind::Tor,
        NetworkKind::Residential,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            NetworkKind::Vpn => "VPN",
            NetworkKind::Datacenter => "datacenter",
            NetworkKind::Tor => "Tor exit",
            NetworkKind::Residential => "residential / unknown",
        }
    }

    /// Flagged orders are the ones the VPN page lists.
    pub fn is_flagged(self) -> bool {
        self != NetworkKind::Residential
    }
}

/// What the sources know about one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkVerdict {
    pub kind: NetworkKind,
    /// The list label or the ASN organisation ("NordVPN", "Amazon.com, Inc.").
    pub name: Option<String>,
    pub asn: Option<u32>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// Which source decided the kind (`list:<file>`, `anonymous-ip`, or `none`).
    pub source: String,
}

impl NetworkVerdict {
    pub fn unknown() -> Self {
        Self {
            kind: NetworkKind::Residential,
            name: None,
            asn: None,
            country: None,
            source: "none".into(),
        }
    }
}

#[derive(Debug, Clone)]
struct ListEntry {
    kind: NetworkKind,
    label: Option<String>,
    source: String,
}

/// The loaded sources. Immutable once built; reloading builds a new one.
#[derive(Default)]
pub struct NetworkIntel {
    v4: PrefixMap<Ipv4Net, ListEntry>,
    v6: PrefixMap<Ipv6Net, ListEntry>,
    networks: usize,
    asn: Option<Reader<Vec<u8>>>,
    anonymous: Option<Reader<Vec<u8>>>,
    country: Option<Reader<Vec<u8>>>,
}

impl std::fmt::Debug for NetworkIntel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkIntel")
            .field("networks", &self.networks)
            .field("asn", &self.asn.is_some())
            .field("anonymous", &self.anonymous.is_some())
            .field("country", &self.country.is_some())
            .finish()
    }
}

/// One network of a CIDR list: `203.0.113.0/24 Example VPN` (the label is
/// optional; a bare address is a /32 or /128).
pub fn parse_list_line(line: &str) -> Option<std::result::Result<(IpNet, Option<String>), String>> {
    let line = line.split('#').next().unwrap_or("").trim();
    if line.is_empty() {
        return None;
    }
    let (net, label) = match line.split_once(char::is_whitespace) {
        Some((n, l)) => (n, Some(l.trim().to_string()).filter(|l| !l.is_empty())),
        None => (line, None),
    };
    let parsed = net
        .parse::<IpNet>()
        .or_else(|_| net.parse::<IpAddr>().map(IpNet::from))
        .map(|n| n.trunc())
        .map_err(|_| format!("`{net}` is not a network (CIDR) or an address"));
    Some(parsed.map(|n| (n, label)))
}

impl NetworkIntel {
    /// Reads every configured source. A file that cannot be read or parsed is
    /// an error naming the file (and the line, for lists).
    pub fn load(cfg: &RiskConfig) -> Result<Self> {
        let mut intel = NetworkIntel::default();
        for list in &cfg.network_lists {
            let kind = NetworkKind::parse(&list.kind).ok_or_else(|| {
                Error::Config(format!("risk list {}: unknown kind", list.path.display()))
            })?;
            let text = std::fs::read_to_string(&list.path)
                .map_err(|e| Error::Config(format!("risk list {}: {e}", list.path.display())))?;
            let source = format!(
                "list:{}",
                list.path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            );
            intel
                .add_list(&text, kind, &source)
                .map_err(|e| Error::Config(format!("risk list {}: {e}", list.path.display())))?;
        }
        intel.asn = open_mmdb(cfg.asn_mmdb.as_deref())?;
        intel.anonymous = open_mmdb(cfg.anonymous_ip_mmdb.as_deref())?;
        intel.country = open_mmdb(cfg.country_mmdb.as_deref())?;
        Ok(intel)
    }

    /// Adds the networks of one list text; errors name the line.
    pub fn add_list(
        &mut self,
        text: &str,
        kind: NetworkKind,
        source: &str,
    ) -> std::result::Result<usize, String> {
        let mut added = 0;
        for (i, line) in text.lines().enumerate() {
            let Some(parsed) = parse_list_line(line) else {
                continue;
            };
            let (net, label) = parsed.map_err(|e| format!("line {}: {e}", i + 1))?;
            let entry = ListEntry {
                kind,
                label,
                source: source.to_string(),
            };
            match net {
                IpNet::V4(n) => self.v4.insert(n, entry),
                IpNet::V6(n) => self.v6.insert(n, entry),
            };
            added += 1;
        }
        self.networks += added;
        Ok(added)
    }

    /// How many list networks are loaded.
    pub fn list_networks(&self) -> usize {
        self.networks
    }

    /// Classifies one address. IPv4-mapped IPv6 addresses count as IPv4.
    pub fn lookup(&self, ip: IpAddr) -> NetworkVerdict {
        let ip = ip.to_canonical();
        let mut verdict = NetworkVerdict::unknown();
        let listed = match ip {
            IpAddr::V4(a) => self.v4.get_lpm(&Ipv4Net::from(a)).map(|(_, e)| e.clone()),
            IpAddr::V6(a) => self.v6.get_lpm(&Ipv6Net::from(a)).map(|(_, e)| e.clone()),
        };
        if let Some(asn) = &self.asn
            && let Ok(found) = asn.lookup(ip)
            && let Ok(Some(rec)) = found.decode::<geoip2::Asn>()
        {
            verdict.asn = rec.autonomous_system_number;
            verdict.name = rec.autonomous_system_organization.map(str::to_string);
        }
        if let Some(country) = &self.country
            && let Ok(found) = country.lookup(ip)
            && let Ok(Some(rec)) = found.decode::<geoip2::Country>()
        {
            verdict.country = rec.country.iso_code.map(str::to_string);
        }
        if let Some(entry) = listed {
            verdict.kind = entry.kind;
            verdict.source = entry.source;
            if entry.label.is_some() {
                verdict.name = entry.label;
            }
            return verdict;
        }
        if let Some(anon) = &self.anonymous
            && let Ok(found) = anon.lookup(ip)
            && let Ok(Some(rec)) = found.decode::<geoip2::AnonymousIp>()
        {
            let yes = |b: Option<bool>| b.unwrap_or(false);
            let kind = if yes(rec.is_tor_exit_node) {
                Some(NetworkKind::Tor)
            } else if yes(rec.is_anonymous_vpn)
                || yes(rec.is_public_proxy)
                || yes(rec.is_residential_proxy)
            {
                Some(NetworkKind::Vpn)
            } else if yes(rec.is_hosting_provider) {
                Some(NetworkKind::Datacenter)
            } else {
                None
            };
            if let Some(kind) = kind {
                verdict.kind = kind;
                verdict.source = "anonymous-ip".into();
            }
        }
        verdict
    }
}

fn open_mmdb(path: Option<&Path>) -> Result<Option<Reader<Vec<u8>>>> {
    let Some(path) = path else {
        return Ok(None);
    };
    Reader::open_readfile(path)
        .map(Some)
        .map_err(|e| Error::Config(format!("risk database {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn lists_match_the_longest_prefix_v4_and_v6() {
        let mut intel = NetworkIntel::default();
        assert_eq!(
            intel
                .add_list(
                    "# sample\n198.51.100.0/24 Example Hosting  # comment\n\n2001:db8:aa::/48 V6 Host\n",
                    NetworkKind::Datacenter,
                    "list:dc.txt"
                )
                .expect("parses"),
            2
        );
        intel
            .add_list(
                "198.51.100.128/25 Example VPN\n203.0.113.7",
                NetworkKind::Vpn,
                "list:vpn.txt",
            )
            .expect("parses");
        let v = intel.lookup(ip("198.51.100.200"));
        assert_eq!(
            (v.kind, v.name.as_deref()),
            (NetworkKind::Vpn, Some("Example VPN"))
        );
        let v = intel.lookup(ip("198.51.100.5"));
        assert_eq!(
            (v.kind, v.name.as_deref()),
            (NetworkKind::Datacenter, Some("Example Hosting"))
        );
        assert_eq!(intel.lookup(ip("203.0.113.7")).kind, NetworkKind::Vpn);
        assert_eq!(
            intel.lookup(ip("203.0.113.8")).kind,
            NetworkKind::Residential
        );
        assert_eq!(
            intel.lookup(ip("2001:db8:aa::1")).kind,
            NetworkKind::Datacenter
        );
        assert_eq!(
            intel.lookup(ip("2001:db8:ab::1")).kind,
            NetworkKind::Residential
        );
        // An IPv4-mapped IPv6 address is the IPv4 address.
        assert_eq!(
            intel.lookup(ip("::ffff:198.51.100.200")).kind,
            NetworkKind::Vpn
        );
    }

    #[test]
    fn a_bad_line_is_named() {
        let mut intel = NetworkIntel::default();
        let err = intel
            .add_list("10.0.0.0/8\nnot-a-network label\n", NetworkKind::Vpn, "x")
            .expect_err("bad line");
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn maxmind_databases_are_read() {
        #[derive(Serialize)]
        struct Anon {
            is_anonymous: bool,
            is_anonymous_vpn: bool,
            is_hosting_provider: bool,
            is_tor_exit_node: bool,
        }
        #[derive(Serialize)]
        struct Asn {
            autonomous_system_number: u32,
            autonomous_system_organization: String,
        }
        #[derive(Serialize)]
        struct Iso {
            iso_code: String,
        }
        #[derive(Serialize)]
        struct Country {
            country: Iso,
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let mut anon = mmdb_writer::Writer::new("GeoIP2-Anonymous-IP");
        let flags = |vpn, host, tor| Anon {
            is_anonymous: true,
            is_anonymous_vpn: vpn,
            is_hosting_provider: host,
            is_tor_exit_node: tor,
        };
        anon.insert(
            "45.10.0.0/16".parse::<IpNet>().expect("net"),
            &flags(true, false, false),
        )
        .expect("insert");
        anon.insert(
            "45.20.0.0/16".parse::<IpNet>().expect("net"),
            &flags(false, true, false),
        )
        .expect("insert");
        anon.insert(
            "45.30.0.1/32".parse::<IpNet>().expect("net"),
            &flags(false, false, true),
        )
        .expect("insert");
        anon.insert(
            "2a00:1::/32".parse::<IpNet>().expect("net"),
            &flags(true, false, false),
        )
        .expect("insert");
        let mut asn = mmdb_writer::Writer::new("GeoLite2-ASN");
        asn.insert(
            "45.10.0.0/16".parse::<IpNet>().expect("net"),
            &Asn {
                autonomous_system_number: 64500,
                autonomous_system_organization: "Example VPN Ltd".into(),
            },
        )
        .expect("insert");
        let mut country = mmdb_writer::Writer::new("GeoLite2-Country");
        country
            .insert(
                "45.0.0.0/8".parse::<IpNet>().expect("net"),
                &Country {
                    country: Iso {
                        iso_code: "NL".into(),
                    },
                },
            )
            .expect("insert");
        let write = |name: &str, w: mmdb_writer::Writer| {
            let path = dir.path().join(name);
            std::fs::write(&path, w.to_bytes().expect("bytes")).expect("write");
            path
        };
        let cfg = RiskConfig {
            anonymous_ip_mmdb: Some(write("anon.mmdb", anon)),
            asn_mmdb: Some(write("asn.mmdb", asn)),
            country_mmdb: Some(write("country.mmdb", country)),
            ..RiskConfig::default()
        };
        let intel = NetworkIntel::load(&cfg).expect("loads");
        let v = intel.lookup(ip("45.10.3.4"));
        assert_eq!(v.kind, NetworkKind::Vpn);
        assert_eq!(v.asn, Some(64500));
        assert_eq!(v.name.as_deref(), Some("Example VPN Ltd"));
        assert_eq!(v.country.as_deref(), Some("NL"));
        assert_eq!(v.source, "anonymous-ip");
        assert_eq!(intel.lookup(ip("45.20.9.9")).kind, NetworkKind::Datacenter);
        assert_eq!(intel.lookup(ip("45.30.0.1")).kind, NetworkKind::Tor);
        assert_eq!(intel.lookup(ip("45.30.0.2")).kind, NetworkKind::Residential);
        assert_eq!(intel.lookup(ip("2a00:1::9")).kind, NetworkKind::Vpn);
        let none = intel.lookup(ip("8.8.8.8"));
        assert_eq!((none.kind, none.country), (NetworkKind::Residential, None));
        // A file that is not a MaxMind database is an error naming it.
        let junk = dir.path().join("junk.mmdb");
        std::fs::write(&junk, b"not a database").expect("write");
        let err = NetworkIntel::load(&RiskConfig {
            asn_mmdb: Some(junk),
            ..RiskConfig::default()
        })
        .expect_err("junk");
        assert!(err.to_string().contains("junk.mmdb"), "{err}");
    }
}
