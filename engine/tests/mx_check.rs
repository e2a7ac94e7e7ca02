//! The intake MX check against a real DNS server on loopback: each answer a
//! domain can give, a resolver that never answers, and the cache.

use std::time::{Duration, Instant};

use engine::config::RiskConfig;
use engine::risk::{MailDomain, MxChecker};
use engine::testing::dns_server::{DnsServer, Zone};

fn checker(server: &DnsServer, timeout_ms: u64) -> MxChecker {
    let cfg = RiskConfig {
        dns_checks: true,
        dns_servers: vec![server.addr],
        dns_timeout_ms: timeout_ms,
        ..RiskConfig::default()
    };
    MxChecker::new(&cfg)
        .expect("resolver builds")
        .expect("checks are on")
}

fn no_mail(answer: &MailDomain) -> &str {
    match answer {
        MailDomain::NoMail(why) => why,
        other => panic!("expected NoMail, got {other:?}"),
    }
}

#[tokio::test]
async fn each_dns_answer_becomes_the_right_verdict() {
    let server = DnsServer::start(vec![
        (
            "shop.example",
            Zone::Mx(vec![(10, "mx.shop.example.".into())]),
        ),
        (
            "a-only.example",
            Zone::AddressOnly("192.0.2.1".parse().expect("ip")),
        ),
        ("null-mx.example", Zone::Mx(vec![(0, ".".into())])),
        ("empty.example", Zone::Empty),
    ])
    .await
    .expect("dns server");
    let mx = checker(&server, 2_000);

    assert_eq!(mx.check("shop.example").await, MailDomain::Accepts);
    assert_eq!(
        mx.check("SHOP.example.").await,
        MailDomain::Accepts,
        "case and root dot"
    );
    assert_eq!(
        mx.check("a-only.example").await,
        MailDomain::Accepts,
        "no MX but an address: the implicit MX"
    );
    assert!(no_mail(&mx.check("null-mx.example").await).contains("null MX"));
    assert!(no_mail(&mx.check("empty.example").await).contains("no MX and no address"));
    assert!(no_mail(&mx.check("missing.example").await).contains("does not exist"));

    // Big providers are never asked about.
    let before = server.queries();
    assert_eq!(mx.check("gmail.com").await, MailDomain::Accepts);
    assert_eq!(server.queries(), before);

    // A repeated question is answered from the resolver's cache.
    let before = server.queries();
    assert_eq!(mx.check("shop.example").await, MailDomain::Accepts);
    assert!(no_mail(&mx.check("missing.example").await).contains("does not exist"));
    assert_eq!(server.queries(), before, "cached, positive and negative");
}

#[tokio::test]
async fn a_resolver_that_never_answers_costs_only_the_timeout_and_no_verdict() {
    let server = DnsServer::start(vec![("slow.example", Zone::Silent)])
        .await
        .expect("dns server");
    let mx = checker(&server, 200);
    let started = Instant::now();
    assert_eq!(mx.check("slow.example").await, MailDomain::Unknown);
    let took = started.elapsed();
    // A bound, not a speed target: the check must give up near its timeout.
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert!(server.queries() >= 1, "the server was asked");
}

#[tokio::test]
async fn checks_are_off_unless_configured() {
    assert!(
        MxChecker::new(&RiskConfig::default())
            .expect("ok")
            .is_none()
    );
}
