//! The dashboard through the real HTTP server on both databases: the overview
//! numbers on `/`, the Trends page, and the chart endpoints (roles, SVG, CSV).

mod support;

use engine::accounts::Role;
use engine::delivery::pools::{self, NewPool};
use engine::{exec_on_pool, on_pool};
use support::{PASSWORD, servers, test_config};

/// Two pools (one named like markup), four orders at the server's "now": one
/// accepted, one blocked for reputation then accepted on the backup pool, one
/// dead address (held), one accepted then complained about. A and D reached.
async fn seed(srv: &support::TestServer) -> String {
    let db = &srv.state.db;
    let now = srv.clock_now();
    let pool = |name: &'static str, role: &'static str, position: i64| NewPool {
        name,
        role: role.parse().expect("primary, backup or masked"),
        from_name: "Shop",
        from_address: "receipts@shop.example",
        relay_url: "capture://",
        max_per_second: 10,
        position,
    };
    let primary = pools::create(db, now, pool("primary", "primary", 0))
        .await
        .expect("pool")
        .id;
    let evil = pools::create(db, now, pool("<script>alert(1)</script>", "backup", 1))
        .await
        .expect("pool")
        .id;
    let mut ids = Vec::new();
    for (n, email) in [
        ("D-A", "a@gmail.com"),
        ("D-B", "b@yahoo.com"),
        ("D-C", "c@outlook.com"),
        ("D-D", "d@example.org"),
    ] {
        let input: engine::orders::OrderInput = serde_json::from_value(serde_json::json!({
            "order_number": n, "placed_at": "2027-01-15T07:59:00Z",
            "currency": "EUR", "items": [{ "name": "Mug", "quantity": 1, "unit_price": 500 }],
            "totals": { "subtotal": 500, "total": 500 },
            "customer": { "email": email, "name": "Jane", "account_kind": "guest" }
        }))
        .expect("json");
        let o = engine::orders::intake(db, now, input.validate().expect("valid"), None)
            .await
            .expect("intake");
        ids.push(o.order().id);
    }
    let attempt = |order: i64, no: i64, pool: i64, outcome: &'static str, class: &'static str| {
        let db = db.clone();
        async move {
            let id: i64 = on_pool!(&db, p => sqlx::query_scalar(
                "INSERT INTO delivery_attempts (order_id, attempt_no, pool_id, message_id, verp_token, started_at,
                 finished_at, outcome, class) VALUES ($1, $2, $3, $4, $4, $5, $5, $6, $7) RETURNING id"
            ).bind(order).bind(no).bind(pool).bind(format!("m{order}.{no}")).bind(now + 1000)
            .bind(outcome).bind(class).fetch_one(p).await)
            .expect("attempt");
            id
        }
    };
    attempt(ids[0], 1, primary, "accepted", "delivered").await;
    attempt(ids[1], 1, primary, "deferred", "sender_reputation").await;
    attempt(ids[1], 2, evil, "accepted", "delivered").await;
    attempt(ids[2], 1, primary, "rejected", "recipient_permanent").await;
    let d1 = attempt(ids[3], 1, primary, "accepted", "delivered").await;
    exec_on_pool!(db, p => sqlx::query(
        "INSERT INTO bounces (received_at, source, order_id, attempt_id, matched_by, reason, class, hard, rule, diagnostic)
         VALUES ($1, 'arf', $2, $3, 'verp', 'feedback', 'complaint', FALSE, 'test', 'test')"
    ).bind(now + 5000).bind(ids[3]).bind(d1).execute(p).await)
    .expect("complaint");
    exec_on_pool!(db, p => sqlx::query(
        "UPDATE orders SET state = 'held', updated_at = $1, fallback_at = $1 WHERE id = $2"
    ).bind(now + 1000).bind(ids[2]).execute(p).await)
    .expect("held");
    engine::reach::mark(db, ids[0], now + 90_000, "email")
        .await
        .expect("reach");
    engine::reach::mark(db, ids[3], now + 20 * 60_000, "link_opened")
        .await
        .expect("reach");
    engine::stats::refresh(db, now + 30 * 60_000, 0)
        .await
        .expect("refresh");
    engine::stats::day_text(engine::stats::day_of(now))
}

async fn get(c: &reqwest::Client, url: String) -> (u16, String, String, String) {
    let res = c.get(url).send().await.expect("get");
    let status = res.status().as_u16();
    let header = |h: &str| {
        res.headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (ct, location) = (header("content-type"), header("location"));
    // Without Leptos' hydration markers, so text reads as a browser shows it.
    let body = res.text().await.unwrap_or_default().replace("<!>", "");
    (status, ct, location, body)
}

#[tokio::test]
async fn overview_trends_and_charts_by_role() {
    for srv in servers(test_config()).await {
        let day = seed(&srv).await;
        let b = srv.backend();
        srv.add_user("agent@example.com", Role::Agent).await;
        srv.add_user("manager@example.com", Role::Manager).await;
        srv.add_user("admin@example.com", Role::Admin).await;
        let url = |path: &str| format!("{}{path}", srv.base);

        // Signed out: the gate sends a browser to sign in.
        let anon = srv.client();
        let (status, _, location, _) = get(&anon, url("/charts/bounce-class.svg?days=7")).await;
        assert!((300..400).contains(&status), "[{b}] {status}");
        assert!(location.starts_with("/login?next="), "[{b}] {location}");

        let agent = srv.client();
        assert_eq!(
            srv.login(&agent, "agent@example.com", PASSWORD).await.0,
            200
        );
        let (status, ..) = get(&agent, url("/charts/bounce-class.svg?days=7")).await;
        assert_eq!(status, 403, "[{b}] agents do not read trends");
        let (status, _, _, html) = get(&agent, url("/")).await;
        assert_eq!(status, 200);
        assert!(html.contains("Delivery overview"), "[{b}] {html}");
        assert!(
            html.contains("Orders held, not yet reached: 1"),
            "[{b}] {html}"
        );
        assert!(html.contains("Cases needing an agent"), "[{b}] {html}");
        let (status, _, _, html) = get(&agent, url("/trends")).await;
        assert_eq!(status, 403, "[{b}] agents are refused the Trends page");
        assert!(
            html.contains("This page is not for your role"),
            "[{b}] {html}"
        );

        let manager = srv.client();
        assert_eq!(
            srv.login(&manager, "manager@example.com", PASSWORD).await.0,
            200
        );
        // Overview: 2 bounces of 5 sent, 1 complaint of 3 accepted, 2 of 4
        // reached: rates shown, but too few sends to call any of them critical.
        let (_, _, _, html) = get(&manager, url("/")).await;
        assert!(html.contains("40.0 % · Too few to rate"), "[{b}] {html}");
        assert!(html.contains("2 of 5 sent"), "[{b}] {html}");
        assert!(html.contains("33.33 % · Too few to rate"), "[{b}] {html}");
        assert!(!html.contains("· Critical"), "[{b}] {html}");
        for key in ["reach", "bounce", "complaint", "ttr", "cases"] {
            assert!(
                html.contains(&format!("data-testid=\"kpi-{key}\"")),
                "[{b}] tile {key}: {html}"
            );
        }
        assert!(
            html.contains("Warning at 5 %, critical at 10 % of sent"),
            "[{b}] {html}"
        );
        assert!(
            html.contains("50.0 %") && html.contains("2 of 4 orders reached"),
            "[{b}] {html}"
        );

        let (status, _, _, html) = get(&manager, url("/trends?days=7")).await;
        assert_eq!(status, 200);
        for kind in engine::stats::charts::ChartKind::ALL {
            assert!(
                html.contains(&format!("data-chart=\"{}\"", kind.name())),
                "[{b}] {html}"
            );
            assert!(html.contains(&format!("/charts/{}.csv?days=7", kind.name())));
            // Drawn inline twice (desktop, phone), named by its description.
            assert_eq!(
                html.matches(&format!(
                    "role=\"img\" aria-label=\"{}\"",
                    kind.description()
                ))
                .count(),
                2,
                "[{b}] {}: {html}",
                kind.name()
            );
        }
        // The hydration data carries no drawing: every svg_wide is empty.
        let (all, empty) = (
            html.matches(r#"\"svg_wide\":\""#).count(),
            html.matches(r#"\"svg_wide\":\"\""#).count(),
        );
        assert!(all > 0 && all == empty, "[{b}] {all} vs {empty}");
        assert!(html.contains("all classes 40.0 % (2 of 5)"), "[{b}] {html}");
        // Each point's sample on hover; 5 sends is too few to rate.
        assert!(
            html.contains("all classes: 40.0 % (2 of 5 sent), fewer than 20: not rated</title>"),
            "[{b}] {html}"
        );

        for kind in engine::stats::charts::ChartKind::ALL {
            let (status, ct, _, body) = get(
                &manager,
                url(&format!("/charts/{}.svg?days=7", kind.name())),
            )
            .await;
            assert_eq!(status, 200, "[{b}] {}: {body}", kind.name());
            assert_eq!(ct, "image/svg+xml");
            assert!(
                body.starts_with("<svg") && body.contains(kind.title()),
                "[{b}] {body}"
            );
        }
        let (_, _, _, svg) = get(&manager, url("/charts/bounce-pool.svg?days=30")).await;
        assert!(
            svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "[{b}] {svg}"
        );
        assert!(!svg.contains("<script"), "[{b}] raw tag in the SVG");

        let res = manager
            .get(url("/charts/bounce-class.csv?days=7"))
            .send()
            .await
            .expect("csv");
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap_or_default()
                .contains("rebound-bounce-class-7d.csv")
        );
        let csv = res.text().await.unwrap_or_default();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0], "date,series,percent,count,of,rated",
            "[{b}] {csv}"
        );
        assert_eq!(lines.len(), 1 + 7 * 5, "[{b}] 7 days x 5 series: {csv}");
        for expected in [
            format!("{day},all classes,40.00,2,5,no"),
            format!("{day},recipient permanent,20.00,1,5,no"),
            format!("{day},sender reputation,20.00,1,5,no"),
            format!("{day},transient,0.00,0,5,no"),
        ] {
            assert!(
                lines.contains(&expected.as_str()),
                "[{b}] {expected} in {csv}"
            );
        }
        let (_, _, _, retry) = get(&manager, url("/charts/retry.csv?days=7")).await;
        assert_eq!(
            retry.lines().collect::<Vec<_>>(),
            vec![
                "attempt,series,percent,count,of,rated",
                "1,accepted,50.00,2,4,no",
                "2,accepted,100.00,1,1,no"
            ],
            "[{b}]"
        );
        let (_, _, _, reach) = get(&manager, url("/charts/reach.csv?days=7")).await;
        assert!(
            reach.contains(&format!("{day},reached,50.00,2,4,no")),
            "[{b}] {reach}"
        );
        // A custom range: the page links its charts with it, and the CSV has
        // exactly those days; a bad range is refused with the reason.
        let (status, _, _, html) = get(
            &manager,
            url(&format!("/trends?days=7&from={day}&to={day}")),
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            html.contains(&format!("/charts/bounce-class.csv?from={day}&amp;to={day}")),
            "[{b}] {html}"
        );
        assert!(
            html.contains(&format!("{day} to {day} (UTC days)")),
            "[{b}] {html}"
        );
        let res = manager
            .get(url(&format!(
                "/charts/bounce-class.csv?from={day}&to={day}"
            )))
            .send()
            .await
            .expect("csv");
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap_or_default()
                .contains(&format!("rebound-bounce-class-{day}_{day}.csv"))
        );
        let csv = res.text().await.unwrap_or_default();
        assert_eq!(
            csv.lines().count(),
            1 + 5,
            "[{b}] one day x 5 series: {csv}"
        );
        assert!(
            csv.contains(&format!("{day},all classes,40.00,2,5,no")),
            "[{b}] {csv}"
        );
        for (query, says) in [
            (format!("from={day}"), "both a start and an end"),
            ("from=2026-13-01&to=2026-13-02".to_string(), "not a date"),
            (format!("from={day}&to=2000-01-01"), "after the end"),
            ("from=2000-01-01&to=2001-06-01".to_string(), "at most 366"),
        ] {
            let (status, _, _, body) =
                get(&manager, url(&format!("/charts/bounce-class.svg?{query}"))).await;
            assert_eq!(status, 400, "[{b}] {query}: {body}");
            assert!(body.contains(says), "[{b}] {query}: {body}");
        }
        let (_, _, _, html) = get(&manager, url("/trends?from=soon&to=later")).await;
        assert!(
            html.contains("is not a date: use YYYY-MM-DD"),
            "[{b}] {html}"
        );

        let (status, ..) = get(&manager, url("/charts/nope.svg")).await;
        assert_eq!(status, 404);
        let (status, ..) = get(&manager, url("/charts/bounce-class.png")).await;
        assert_eq!(status, 404);

        let admin = srv.client();
        assert_eq!(
            srv.login(&admin, "admin@example.com", PASSWORD).await.0,
            200
        );
        let (status, ct, ..) = get(&admin, url("/charts/reach.svg?days=90")).await;
        assert_eq!((status, ct.as_str()), (200, "image/svg+xml"));
        srv.stop().await;
    }
}
