//! Bounce administration through the real HTTP server on SQLite and PostgreSQL:
//! `GET /admin/suppressions.csv` (an admin downloads the list as CSV, audited; an agent
//! gets 403; a signed-out browser is sent to the sign-in page), and the pages rendered
//! on the server: pool health on Sender pools, the soft-bounce count on the order page,
//! the download link on Suppressions.

mod support;

use engine::accounts::Role;
use engine::delivery::pools::{self, NewPool};
use engine::delivery::worker::Worker;
use support::{PASSWORD, servers, test_config};

#[tokio::test]
async fn admins_download_the_suppression_list_as_csv() {
    for srv in servers(test_config()).await {
        let db = &srv.state.db;
        let now = srv.clock_now();
        engine::suppression::suppress(db, now, "Dead@Example.com", "userunknown", "dsn", None)
            .await
            .expect("suppress");
        engine::suppression::suppress(
            db,
            now,
            "later@example.com",
            "mailboxfull",
            "smtp",
            Some(now + 86_400_000),
        )
        .await
        .expect("suppress");
        engine::suppression::suppress(db, now, "gone@example.com", "manual", "admin", None)
            .await
            .expect("suppress");
        engine::suppression::release(db, now, "gone@example.com", "test")
            .await
            .expect("release");
        srv.add_user("admin@example.com", Role::Admin).await;
        srv.add_user("agent@example.com", Role::Agent).await;
        let url = format!("{}/admin/suppressions.csv", srv.base);

        // Signed out: to the sign-in page, and back here afterwards.
        let res = srv.client().get(&url).send().await.expect("get");
        assert!(res.status().is_redirection(), "{}", res.status());
        assert_eq!(
            res.headers().get("location").and_then(|v| v.to_str().ok()),
            Some("/login?next=/admin/suppressions.csv")
        );

        let agent = srv.client();
        let (status, body) = srv.login(&agent, "agent@example.com", PASSWORD).await;
        assert_eq!(status, 200, "{body}");
        let res = agent.get(&url).send().await.expect("get");
        assert_eq!(res.status(), 403);

        let admin = srv.client();
        let (status, body) = srv.login(&admin, "admin@example.com", PASSWORD).await;
        assert_eq!(status, 200, "{body}");
        let res = admin.get(&url).send().await.expect("get");
        assert_eq!(res.status(), 200);
        let header = |name: &str| {
            res.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(header("content-type"), "text/csv; charset=utf-8");
        assert_eq!(
            header("content-disposition"),
            "attachment; filename=\"suppressions-2027-01-15.csv\""
        );
        let csv = res.text().await.expect("body");
        assert_eq!(
            csv,
            "email,reason,source,created_at,expires_at\n\
             dead@example.com,userunknown,dsn,2027-01-15T08:00:00Z,\n\
             later@example.com,mailboxfull,smtp,2027-01-15T08:00:00Z,2027-01-16T08:00:00Z\n",
            "active suppressions only, by address"
        );

        let audit = engine::audit::list(db, None, 10).await.expect("audit");
        let export: Vec<_> = audit
            .iter()
            .filter(|e| e.action == "suppression.export")
            .collect();
        assert_eq!(export.len(), 1, "{audit:?}");
        assert_eq!(
            (
                export[0].actor.as_str(),
                export[0].detail.as_str(),
                export[0].ip.as_deref()
            ),
            ("admin@example.com", "2 addresses as CSV", Some("127.0.0.1"))
        );
        srv.stop().await;
    }
}

async fn page(srv: &support::TestServer, c: &reqwest::Client, path: &str) -> String {
    let res = c
        .get(format!("{}{path}", srv.base))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200, "[{}] {path}", srv.backend());
    res.text().await.unwrap_or_default()
}

#[tokio::test]
async fn pool_health_soft_bounces_and_the_csv_link_render_on_the_server() {
    for srv in servers(test_config()).await {
        let db = &srv.state.db;
        let now = srv.clock_now();
        pools::create(
            db,
            now,
            NewPool {
                name: "primary",
                role: engine::delivery::pools::PoolRole::Primary,
                from_name: "Shop",
                from_address: "receipts@shop.example",
                relay_url: "capture://",
                max_per_second: 100,
                position: 0,
            },
        )
        .await
        .expect("pool");
        let input: engine::orders::OrderInput = serde_json::from_value(serde_json::json!({
            "order_number": "P-1", "placed_at": "2026-11-27T21:00:00Z", "currency": "EUR",
            "items": [{ "name": "Mug", "quantity": 1, "unit_price": 500 }],
            "totals": { "subtotal": 500, "total": 500 },
            "customer": { "email": "jane@example.com", "name": "Jane", "account_kind": "guest" }
        }))
        .expect("order json");
        engine::orders::intake(db, now, input.validate().expect("valid"), None)
            .await
            .expect("intake");
        let worker =
            Worker::new(db.clone(), srv.state.clock.clone(), &srv.state.config).expect("worker");
        assert_eq!(worker.run_once().await.expect("send"), 1);
        // One complaint on one accepted message: 100 %, critical.
        let events = engine::bounce::esp::sendgrid::parse_events(
            br#"[{"email":"jane@example.com","timestamp":1800000000,"event":"spamreport"}]"#,
        )
        .expect("events");
        engine::bounces::ingest_esp_events(
            db,
            now,
            engine::bounce::Classifier::shared(),
            &engine::delivery::policy::RetryPolicy::default(),
            &events,
            "sendgrid",
        )
        .await
        .expect("ingest");
        for _ in 0..2 {
            engine::soft_bounces::record(db, now, "jane@example.com")
                .await
                .expect("soft bounce");
        }
        srv.add_user("admin@example.com", Role::Admin).await;
        srv.add_user("agent@example.com", Role::Agent).await;
        let admin = srv.client();
        assert_eq!(
            srv.login(&admin, "admin@example.com", PASSWORD).await.0,
            200
        );

        let html = page(&srv, &admin, "/pools").await;
        for want in [
            "Accepted (7 days)",
            "Complaint rate",
            "Bounces (7 days)",
            "100.00 %",
            "critical (≥ 0.3 %)",
            "badge level-critical",
        ] {
            assert!(html.contains(want), "{want}: {html}");
        }
        let html = page(&srv, &admin, "/orders/P-1").await;
        assert!(html.contains("2 soft bounces in a row"), "{html}");
        let html = page(&srv, &admin, "/suppressions").await;
        assert!(html.contains("href=\"/admin/suppressions.csv\""), "{html}");
        assert!(html.contains("Download CSV"), "{html}");

        let agent = srv.client();
        assert_eq!(
            srv.login(&agent, "agent@example.com", PASSWORD).await.0,
            200
        );
        let html = page(&srv, &agent, "/suppressions").await;
        assert!(html.contains("jane@example.com"), "the list itself: {html}");
        assert!(
            !html.contains("/admin/suppressions.csv"),
            "admins only: {html}"
        );
        srv.stop().await;
    }
}
