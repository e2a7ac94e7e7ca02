//! Reputation and risk through the real HTTP server on both databases: the
//! network of each order's client IP from CIDR lists (IPv4 and IPv6), the
//! score and its factors in the API answer, a high-risk VPN order routed to
//! the pool that accepts VPN → Gmail and sent through it by the real worker,
//! the VPN-flagged list (filters, sort, keyset pages, roles, bad input), and
//! the order page's risk card.

mod support;

use std::sync::Arc;

use engine::accounts::Role;
use engine::config::NetworkListConfig;
use engine::delivery::pools::{self, NewPool};
use engine::orders::{FlaggedCursor, FlaggedFilter, FlaggedSort};
use serde_json::{Value, json};
use support::{PASSWORD, servers, test_config};

fn order_json(number: &str, email: &str, ip: &str) -> Value {
    json!({
        "order_number": number, "placed_at": "2026-11-27T21:00:00Z", "currency": "EUR",
        "items": [{ "name": "Mug", "quantity": 1, "unit_price": 1500 }],
        "totals": { "subtotal": 1500, "total": 1500 },
        "customer": { "email": email, "name": "Ann", "account_kind": "guest" },
        "client_ip": ip
    })
}

/// Posts an order with the API key: (status, JSON answer).
async fn post_order(srv: &support::TestServer, key: &str, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/orders", srv.base))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("post");
    let status = res.status().as_u16();
    (status, res.json::<Value>().await.expect("json"))
}

/// Opens the `receipt_link` of an intake answer on the test server; the page's HTML.
async fn open_receipt_link(srv: &support::TestServer, accepted: &Value) -> String {
    let link = accepted["receipt_link"]
        .as_str()
        .unwrap_or_else(|| panic!("a receipt link: {accepted}"));
    let token = link
        .rsplit_once("/r/")
        .map(|(_, t)| t)
        .unwrap_or_else(|| panic!("a /r/ link: {link}"));
    let res = reqwest::get(format!("{}/r/{token}", srv.base))
        .await
        .expect("get");
    assert_eq!(res.status().as_u16(), 200, "{link}");
    res.text().await.expect("body")
}

/// Rollup history as `stats::refresh` would have written it today: VPN orders
/// to Gmail bounce on the primary (55 %) and pass on the backup.
async fn seed_history(db: &engine::db::Db, today: i64, primary: i64, backup: i64) {
    for (pool, network, sent, bounced) in [
        (primary, "vpn", 200, 110),
        (primary, "residential", 2000, 40),
        (backup, "vpn", 80, 2),
        (backup, "residential", 400, 8),
    ] {
        engine::testing::fixtures::seed_rollup(db, today, pool, "gmail", network, sent, bounced)
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_are_flagged_scored_routed_and_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vpn = dir.path().join("vpn.txt");
    std::fs::write(
        &vpn,
        "# sample VPN list\n203.0.113.0/24 Example VPN\n2001:db8:66::/48 Example VPN\n",
    )
    .expect("write");
    let dc = dir.path().join("datacenter.txt");
    std::fs::write(&dc, "198.51.100.0/24 Example Cloud\n").expect("write");
    let disposable = dir.path().join("disposable.txt");
    std::fs::write(&disposable, "mailinator.com\n").expect("write");
    let mut config = test_config();
    config.risk.network_lists = vec![
        NetworkListConfig {
            path: vpn,
            kind: "vpn".into(),
        },
        NetworkListConfig {
            path: dc,
            kind: "datacenter".into(),
        },
    ];
    config.risk.disposable_domains = Some(disposable);

    for srv in servers(config.clone()).await {
        let b = srv.backend();
        let db = &srv.state.db;
        let now = srv.clock_now();
        let pool = |name: &'static str, role: &'static str, position: i64| NewPool {
            name,
            role: role.parse().expect("primary, backup or masked"),
            from_name: "Shop",
            from_address: "receipts@shop.example",
            relay_url: "capture://",
            max_per_second: 100,
            position,
        };
        let primary = pools::create(db, now, pool("primary", "primary", 0))
            .await
            .expect("pool")
            .id;
        let backup = pools::create(db, now, pool("backup", "backup", 1))
            .await
            .expect("pool")
            .id;
        seed_history(db, engine::stats::day_of(now), primary, backup).await;
        srv.state.risk.invalidate_history();

        let key = engine::apikeys::create(db, now, "shop", "test")
            .await
            .expect("key")
            .secret;
        let http = reqwest::Client::new();
        let points = |v: &Value, key: &str| -> i64 {
            v["risk"]["factors"]
                .as_array()
                .expect("factors")
                .iter()
                .filter(|f| f["key"] == key)
                .map(|f| f["points"].as_i64().unwrap_or(0))
                .sum()
        };

        // A VPN order to Gmail: flagged, learned propensity, high, routed, inline.
        let (status, v) = post_order(
            &srv,
            &key,
            order_json("R-VPN", "ann@gmail.com", "203.0.113.9"),
        )
        .await;
        assert_eq!(status, 202, "{b}: {v}");
        assert_eq!(v["risk"]["network"], "vpn", "{b}: {v}");
        assert_eq!(v["risk"]["network_name"], "Example VPN", "{b}");
        assert_eq!(points(&v, "network"), 25, "{b}: {v}");
        assert_eq!(points(&v, "learned"), 30, "{b}: {v}");
        assert!(v["risk"]["score"].as_i64().unwrap_or(0) >= 50, "{b}: {v}");
        assert_eq!(v["risk"]["inline_receipt"], true, "{b}");
        // A guest: a secure link for the thank-you page, issued at intake, that opens the receipt.
        let page = open_receipt_link(&srv, &v).await;
        assert!(page.contains("R-VPN"), "{b}: {page}");
        let (_, again) = post_order(
            &srv,
            &key,
            order_json("R-VPN", "ann@gmail.com", "203.0.113.9"),
        )
        .await;
        assert_eq!(again["duplicate"], true, "{b}: {again}");
        assert!(again["receipt_link"].is_null(), "shown once: {b}: {again}");

        // IPv6 from the same list; a datacenter order to a typo domain; a disposable one.
        let (_, v6) = post_order(
            &srv,
            &key,
            order_json("R-V6", "cy@gmail.com", "2001:db8:66::7"),
        )
        .await;
        assert_eq!(v6["risk"]["network"], "vpn", "{b}: {v6}");
        let (_, dcv) = post_order(
            &srv,
            &key,
            order_json("R-DC", "bob@gmial.com", "198.51.100.20"),
        )
        .await;
        assert_eq!(dcv["risk"]["network"], "datacenter", "{b}: {dcv}");
        assert_eq!(points(&dcv, "typo"), 20, "{b}: {dcv}");
        let (_, home) = post_order(
            &srv,
            &key,
            order_json("R-HOME", "dee@mailinator.com", "192.0.2.44"),
        )
        .await;
        assert_eq!(home["risk"]["network"], "residential", "{b}: {home}");
        assert_eq!(points(&home, "disposable"), 15, "{b}: {home}");
        assert_eq!(home["risk"]["inline_receipt"], false, "{b}");
        assert!(home["receipt_link"].is_null(), "{b}: {home}");

        // The status answer carries the same assessment.
        let shown: Value = http
            .get(format!("{}/api/v1/orders/R-VPN", srv.base))
            .bearer_auth(&key)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(shown["risk"]["network"], "vpn", "{b}");
        assert!(
            shown["timeline"][0]["detail"]
                .as_str()
                .is_some_and(|d| d.contains("VPN network, risk")),
            "{b}: {shown}"
        );

        // The real worker sends the routed order's first attempt through the backup.
        let worker = engine::delivery::worker::Worker::new(
            db.clone(),
            Arc::new(srv.clock.clone()),
            &srv.state.config,
        )
        .expect("worker");
        worker.run_once().await.expect("run");
        let routed = engine::orders::find_by_number(db, "R-VPN")
            .await
            .expect("read")
            .expect("order");
        assert_eq!(routed.route_pool_id, Some(backup), "{b}");
        let tries = engine::delivery::attempts::attempts(db, routed.id)
            .await
            .expect("attempts");
        assert_eq!(tries.first().map(|a| a.pool_id), Some(backup), "{b}");
        let plain = engine::orders::find_by_number(db, "R-HOME")
            .await
            .expect("read")
            .expect("order");
        let tries = engine::delivery::attempts::attempts(db, plain.id)
            .await
            .expect("attempts");
        assert_eq!(tries.first().map(|a| a.pool_id), Some(primary), "{b}");

        // Keyset pages of one row walk every flagged order exactly once, by risk.
        let filter = FlaggedFilter {
            sort: FlaggedSort::Risk,
            ..FlaggedFilter::default()
        };
        let mut seen = Vec::new();
        let mut after: Option<FlaggedCursor> = None;
        loop {
            let (rows, next) = engine::orders::list_flagged(db, &filter, after, 1)
                .await
                .expect("page");
            seen.extend(
                rows.iter()
                    .map(|o| (o.risk_score.unwrap_or(0), o.order_number.clone())),
            );
            match next {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        let numbers: Vec<&str> = seen.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(numbers.len(), 3, "{b}: {seen:?}");
        assert!(
            !numbers.contains(&"R-HOME"),
            "{b}: residential is not flagged"
        );
        assert!(seen.windows(2).all(|w| w[0].0 >= w[1].0), "{b}: {seen:?}");

        // The server function: filters, masking for managers, roles, bad input.
        srv.add_user("agent@example.com", Role::Agent).await;
        srv.add_user("manager@example.com", Role::Manager).await;
        let agent = srv.client();
        assert_eq!(
            srv.login(&agent, "agent@example.com", PASSWORD).await.0,
            200
        );
        let (status, body) = srv
            .call(&agent, "/fn/orders/flagged", &[("network", "vpn")])
            .await;
        assert_eq!(status, 200, "{b}: {body}");
        let page: Value = serde_json::from_str(&body).expect("json");
        let got: Vec<&str> = page["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .filter_map(|r| r["order_number"].as_str())
            .collect();
        assert_eq!(got, vec!["R-V6", "R-VPN"], "{b}: newest first");
        let (_, body) = srv
            .call(
                &agent,
                "/fn/orders/flagged",
                &[("network", "datacenter"), ("provider", "other")],
            )
            .await;
        assert!(
            body.contains("R-DC") && !body.contains("R-VPN"),
            "{b}: {body}"
        );
        let (_, body) = srv
            .call(
                &agent,
                "/fn/orders/flagged",
                &[("min_score", "50"), ("sort", "risk")],
            )
            .await;
        assert!(
            body.contains("R-VPN") && !body.contains("R-DC"),
            "{b}: {body}"
        );
        // R-VPN's customer opened the checkout link: reached; R-DC never was.
        let (_, body) = srv
            .call(&agent, "/fn/orders/flagged", &[("reached", "yes")])
            .await;
        assert!(
            body.contains("R-VPN") && body.contains("link_opened") && !body.contains("R-DC"),
            "{b}: {body}"
        );
        let (_, body) = srv
            .call(&agent, "/fn/orders/flagged", &[("reached", "no")])
            .await;
        assert!(
            body.contains("R-DC") && !body.contains("R-VPN"),
            "{b}: {body}"
        );
        for bad in [
            ("network", "residential"),
            ("min_score", "200"),
            ("sort", "sideways"),
            ("after", "x"),
            ("state", "lost"),
        ] {
            let (status, body) = srv.call(&agent, "/fn/orders/flagged", &[bad]).await;
            assert!(
                (400..500).contains(&status),
                "{b}: {bad:?} → {status} {body}"
            );
        }
        let manager = srv.client();
        assert_eq!(
            srv.login(&manager, "manager@example.com", PASSWORD).await.0,
            200
        );
        let (status, body) = srv.call(&manager, "/fn/orders/flagged", &[]).await;
        assert_eq!(status, 200, "{b}");
        assert!(
            !body.contains("ann@gmail.com"),
            "{b}: managers see masked emails: {body}"
        );
        let (status, _) = srv.call(&srv.client(), "/fn/orders/flagged", &[]).await;
        assert_eq!(status, 401, "{b}: signed out");

        // The pages, rendered on the server (readable with JavaScript off).
        let html = agent
            .get(format!("{}/flagged?network=vpn&sort=risk", srv.base))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(
            html.contains("R-VPN") && html.contains("Example VPN"),
            "{b}"
        );
        let html = agent
            .get(format!("{}/orders/R-DC", srv.base))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(html.contains("Email-health risk"), "{b}");
        assert!(
            html.contains("bob@gmail.com"),
            "{b}: the typo fix is suggested"
        );
        assert!(html.contains("looks like a typo of gmail.com"), "{b}");
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_that_takes_no_mail_is_found_by_dns_at_intake() {
    use engine::testing::dns_server::{DnsServer, Zone};
    let dns = DnsServer::start(vec![(
        "shop-customer.example",
        Zone::Mx(vec![(10, "mx.shop-customer.example.".into())]),
    )])
    .await
    .expect("dns server");
    let mut config = test_config();
    config.risk.dns_checks = true;
    config.risk.dns_servers = vec![dns.addr];
    config.risk.dns_timeout_ms = 2_000;
    for srv in servers(config.clone()).await {
        let b = srv.backend();
        let now = srv.clock_now();
        let key = engine::apikeys::create(&srv.state.db, now, "shop", "test")
            .await
            .expect("key")
            .secret;
        let (status, bad) = post_order(
            &srv,
            &key,
            order_json("R-NOMX", "ann@shop-custmer.example", "192.0.2.7"),
        )
        .await;
        assert_eq!(status, 202, "{b}: {bad}");
        let factor = bad["risk"]["factors"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["key"] == "no_mx"))
            .cloned()
            .unwrap_or_else(|| panic!("{b}: no no_mx factor in {bad}"));
        assert_eq!(factor["points"], 50, "{b}");
        assert!(
            factor["label"]
                .as_str()
                .is_some_and(|l| l.contains("does not exist")),
            "{b}: {factor}"
        );
        assert_eq!(bad["risk"]["inline_receipt"], true, "{b}: {bad}");
        let page = open_receipt_link(&srv, &bad).await;
        assert!(page.contains("R-NOMX"), "{b}");

        let (_, good) = post_order(
            &srv,
            &key,
            order_json("R-MX", "bob@shop-customer.example", "192.0.2.8"),
        )
        .await;
        assert_eq!(good["risk"]["score"], 0, "{b}: {good}");
        assert!(good["receipt_link"].is_null(), "{b}: {good}");
        srv.stop().await;
    }
}
