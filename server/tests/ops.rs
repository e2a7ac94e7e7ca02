//! Operations endpoints on the real router, on both backends: `/metrics`
//! (Prometheus text, who may read it) and `/readyz` (migrations, workers).

mod support;

use engine::delivery::worker::Heartbeat;
use serde_json::Value;
use support::{TestServer, servers, test_config};

fn order_json(number: &str) -> Value {
    serde_json::json!({
        "order_number": number,
        "placed_at": "2026-11-27T21:00:00Z",
        "currency": "EUR",
        "items": [{ "name": "Mug", "quantity": 1, "unit_price": 1000 }],
        "totals": { "subtotal": 1000, "total": 1000 },
        "customer": { "email": "metrics@example.com", "name": "M", "account_kind": "guest" }
    })
}

/// The value of one sample line `name{labels} value` in a Prometheus text body.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

async fn get(srv: &TestServer, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = reqwest::Client::new().get(format!("{}{path}", srv.base));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("request");
    (res.status().as_u16(), res.text().await.unwrap_or_default())
}

#[tokio::test]
async fn metrics_count_intake_and_read_the_queue_from_the_database() {
    // As `serve` does; the recorder is process-wide.
    server::http::metrics::install();
    let mut config = test_config();
    config.esp_webhooks.postmark_username = Some("postmark".into());
    config.esp_webhooks.postmark_password = Some("a postmark password".into());
    for srv in servers(config).await {
        let b = srv.backend();
        let key = engine::apikeys::create(&srv.state.db, srv.clock_now(), "shop", "test")
            .await
            .expect("key")
            .secret;
        let (_, before) = get(&srv, "/metrics", &[]).await;
        let created = |body: &str| {
            sample(body, "rebound_intake_requests_total{outcome=\"created\"}").unwrap_or(0.0)
        };
        let invalid = |body: &str| {
            sample(body, "rebound_intake_requests_total{outcome=\"invalid\"}").unwrap_or(0.0)
        };
        let client = reqwest::Client::new();
        for body in [order_json("M-1"), order_json("M-2"), serde_json::json!({})] {
            client
                .post(format!("{}/api/v1/orders", srv.base))
                .bearer_auth(&key)
                .json(&body)
                .send()
                .await
                .expect("post");
        }
        let (status, body) = get(&srv, "/metrics", &[]).await;
        assert_eq!(status, 200, "[{b}] {body}");
        assert_eq!(created(&body) - created(&before), 2.0, "[{b}] {body}");
        assert_eq!(invalid(&body) - invalid(&before), 1.0, "[{b}] {body}");
        assert!(
            body.contains("rebound_intake_duration_seconds_bucket{le=\"0.005\"}"),
            "[{b}] a real histogram: {body}"
        );
        // Refused webhooks and failed sign-ins are counted.
        let refused = |body: &str| {
            sample(
                body,
                "rebound_webhook_verification_failures_total{provider=\"postmark\"}",
            )
            .unwrap_or(0.0)
        };
        let logins = |body: &str| sample(body, "rebound_login_failures_total").unwrap_or(0.0);
        let res = client
            .post(format!("{}/api/v1/webhooks/postmark", srv.base))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("post");
        assert!(res.status().is_client_error(), "[{b}] {}", res.status());
        let (status, _) = srv
            .login(&srv.client(), "nobody@example.com", "not the password")
            .await;
        assert_ne!(status, 200, "[{b}]");
        let (_, after) = get(&srv, "/metrics", &[]).await;
        assert_eq!(refused(&after) - refused(&body), 1.0, "[{b}] {after}");
        assert_eq!(logins(&after) - logins(&body), 1.0, "[{b}] {after}");
        // Gauges come from this server's database at scrape time.
        assert_eq!(
            sample(&body, "rebound_queue_jobs{state=\"queued\"}"),
            Some(2.0),
            "[{b}] {body}"
        );
        assert_eq!(sample(&body, "rebound_orders_held"), Some(0.0), "[{b}]");
        // Finished jobs are not counted (that would read the whole table).
        assert_eq!(
            sample(&body, "rebound_queue_jobs{state=\"done\"}"),
            None,
            "[{b}] {body}"
        );
        // Ten minutes later nobody has sent them: the lag shows.
        srv.clock.advance_ms(600_000);
        let (_, body) = get(&srv, "/metrics", &[]).await;
        assert_eq!(
            sample(&body, "rebound_queue_oldest_due_lag_seconds"),
            Some(600.0),
            "[{b}] {body}"
        );
        srv.stop().await;
    }
}

#[tokio::test]
async fn metrics_are_refused_through_a_proxy_or_without_the_token() {
    for srv in servers(test_config()).await {
        let (status, body) = get(&srv, "/metrics", &[("x-forwarded-for", "203.0.113.9")]).await;
        assert_eq!(status, 403, "a proxied request is not local: {body}");
        let v: Value = serde_json::from_str(&body).expect("JSON error");
        assert!(
            v["error"].as_str().is_some_and(|e| e.contains("local")),
            "{v}"
        );
        srv.stop().await;
    }
    let mut config = test_config();
    config.metrics.token = Some("scrape-token-0123456789".into());
    for srv in servers(config).await {
        let (status, _) = get(&srv, "/metrics", &[]).await;
        assert_eq!(status, 403, "with a token, loopback alone is not enough");
        let (status, _) = get(
            &srv,
            "/metrics",
            &[("authorization", "Bearer scrape-token-0123456780")],
        )
        .await;
        assert_eq!(status, 403);
        let (status, body) = get(
            &srv,
            "/metrics",
            &[
                ("authorization", "Bearer scrape-token-0123456789"),
                ("x-forwarded-for", "203.0.113.9"),
            ],
        )
        .await;
        assert_eq!(status, 200, "the token works from anywhere");
        assert!(body.contains("rebound_queue_jobs"), "{body}");
        srv.stop().await;
    }
}

#[tokio::test]
async fn readyz_reports_migrations_and_workers() {
    for srv in servers(test_config()).await {
        let b = srv.backend();
        // A web-only process: no workers to watch.
        let (status, body) = get(&srv, "/readyz", &[]).await;
        assert_eq!(status, 200, "[{b}] {body}");
        let v: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(v["migrations"], "current", "[{b}] {v}");
        assert_eq!(v["workers"], "not run by this process", "[{b}] {v}");

        // A worker process's tiny listener, watching a heartbeat.
        let heartbeat = Heartbeat::default();
        let router = server::http::worker_router(srv.state.clone(), Some(heartbeat.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(server::http::serve(
            listener,
            router,
            std::future::pending::<()>(),
        ));
        let readyz = || async {
            let res = reqwest::get(format!("{base}/readyz"))
                .await
                .expect("readyz");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.expect("json"))
        };
        let (status, v) = readyz().await;
        assert_eq!(
            (status, v["workers"].as_str()),
            (503, Some("not started")),
            "[{b}] {v}"
        );
        heartbeat.beat(srv.clock_now());
        let (status, v) = readyz().await;
        assert_eq!(
            (status, v["workers"].as_str()),
            (200, Some("running")),
            "[{b}] {v}"
        );
        assert_eq!(v["ready"], true);
        srv.clock.advance_ms(31_000);
        let (status, v) = readyz().await;
        assert_eq!(
            (status, v["workers"].as_str()),
            (503, Some("stalled")),
            "[{b}] {v}"
        );
        assert_eq!(v["worker_last_tick_seconds_ago"], 31);
        // Only the operations endpoints are served there.
        let res = reqwest::get(format!("{base}/login")).await.expect("login");
        assert_eq!(res.status(), 404, "[{b}] no pages on a worker");
        let res = reqwest::get(format!("{base}/healthz"))
            .await
            .expect("healthz");
        assert_eq!(res.status(), 200);
        srv.stop().await;
    }
}
