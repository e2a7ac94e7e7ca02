//! Risk at intake: how fast an IP is classified and an order scored.
//! Prints a table: lookups per second for CIDR lists of growing size and for
//! a MaxMind database, next to a baseline measured in the same run (hashing
//! the address into a `HashSet` of /24s, the cheapest lookup there is), and
//! the cost of a whole assessment (lookup + score, rollups cached).
//!
//! `cargo bench -p engine --bench risk`

use std::collections::HashSet;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use engine::config::RiskConfig;
use engine::risk::{DisposableDomains, History, MailDomain, NetworkIntel, NetworkKind, score};
use ipnet::IpNet;

fn addresses(n: usize) -> Vec<IpAddr> {
    // A fixed LCG: the same addresses every run.
    let mut x: u32 = 0x1234_5678;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            IpAddr::V4(Ipv4Addr::from(x))
        })
        .collect()
}

fn networks(n: usize) -> String {
    let mut x: u32 = 0x9e37_79b9;
    let mut out = String::new();
    for i in 0..n {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let len = 16 + (i % 9) as u8; // /16 … /24
        let net = ipnet::Ipv4Net::new(Ipv4Addr::from(x), len)
            .map(|n| n.trunc())
            .expect("prefix length");
        out.push_str(&format!("{net} Network {i}\n"));
    }
    out
}

fn per_second(n: usize, f: impl Fn(IpAddr) -> bool, ips: &[IpAddr]) -> (f64, usize) {
    let started = Instant::now();
    let mut hits = 0;
    for _ in 0..(n / ips.len()).max(1) {
        for ip in ips {
            hits += usize::from(f(black_box(*ip)));
        }
    }
    let took = started.elapsed().as_secs_f64();
    (
        (n / ips.len()).max(1) as f64 * ips.len() as f64 / took,
        hits,
    )
}

fn main() {
    let ips = addresses(100_000);
    let total = 2_000_000;
    println!("| what | lookups/s | ns per lookup | vs baseline |");
    println!("|---|---:|---:|---:|");
    let slash24: HashSet<u32> = addresses(10_000)
        .iter()
        .filter_map(|ip| match ip {
            IpAddr::V4(a) => Some(u32::from(*a) >> 8),
            IpAddr::V6(_) => None,
        })
        .collect();
    let (base, _) = per_second(
        total,
        |ip| match ip {
            IpAddr::V4(a) => slash24.contains(&(u32::from(a) >> 8)),
            IpAddr::V6(_) => false,
        },
        &ips,
    );
    let row = |what: &str, rate: f64| {
        println!(
            "| {what} | {rate:.0} | {:.0} | {:.2}x |",
            1e9 / rate,
            rate / base
        );
    };
    row("baseline: HashSet of /24s (10,000)", base);
    for n in [1_000, 10_000, 100_000] {
        let mut intel = NetworkIntel::default();
        intel
            .add_list(&networks(n), NetworkKind::Vpn, "bench")
            .expect("list");
        let (rate, hits) = per_second(total, |ip| intel.lookup(ip).kind == NetworkKind::Vpn, &ips);
        row(&format!("CIDR list, {n} networks ({hits} hits)"), rate);
    }
    // A MaxMind Anonymous-IP database with 10,000 networks, written here.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("anon.mmdb");
    let mut w = mmdb_writer::Writer::new("GeoIP2-Anonymous-IP");
    #[derive(serde::Serialize)]
    struct Anon {
        is_anonymous: bool,
        is_anonymous_vpn: bool,
    }
    for line in networks(10_000).lines() {
        if let Some(Ok((net, _))) = engine::risk::network::parse_list_line(line) {
            let _ = w.insert::<IpNet, _>(
                net,
                &Anon {
                    is_anonymous: true,
                    is_anonymous_vpn: true,
                },
            );
        }
    }
    std::fs::write(&path, w.to_bytes().expect("bytes")).expect("write");
    let intel = NetworkIntel::load(&RiskConfig {
        anonymous_ip_mmdb: Some(path),
        ..RiskConfig::default()
    })
    .expect("load");
    let (rate, hits) = per_second(
        total / 4,
        |ip| intel.lookup(ip).kind == NetworkKind::Vpn,
        &ips,
    );
    row(
        &format!("Anonymous-IP .mmdb, 10,000 networks ({hits} hits)"),
        rate,
    );

    // A whole assessment: lookup + score with cached rollups.
    let mut list = NetworkIntel::default();
    list.add_list(&networks(10_000), NetworkKind::Vpn, "bench")
        .expect("list");
    let history = History::default();
    let disposable = DisposableDomains::parse("mailinator.com\n");
    let cfg = RiskConfig::default();
    let (rate, _) = per_second(
        total / 4,
        |ip| {
            let a = score::assess(
                &cfg,
                list.lookup(ip),
                "ann@gmial.com",
                &history,
                &disposable,
                &MailDomain::Unknown,
            );
            a.score > 0
        },
        &ips,
    );
    row("whole assessment (10,000-network list + score)", rate);
}
