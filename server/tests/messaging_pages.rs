//! The admin Webhooks page and the SMS part of the Outbox render completely
//! on the server (JavaScript off), on both databases.

mod support;

use engine::accounts::Role;
use engine::config::ShopWebhookConfig;
use engine::sms::SmsProvider;
use support::{PASSWORD, servers, test_config};

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
async fn webhooks_page_and_captured_sms_render_on_the_server() {
    for srv in servers(test_config()).await {
        let db = &srv.state.db;
        let now = srv.clock_now();
        let id = engine::shop_webhooks::enqueue(
            db,
            now,
            "receipt.held",
            serde_json::json!({"order_number": "A-77"}),
        )
        .await
        .expect("enqueue");
        // One failed try against a port nobody listens on.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        drop(listener);
        let cfg = ShopWebhookConfig {
            url: Some(url),
            secret: Some("s".into()),
            ..Default::default()
        };
        let client = engine::shop_webhooks::http_client(&cfg).expect("client");
        engine::shop_webhooks::deliver_due(db, now, &cfg, &client)
            .await
            .expect("deliver");
        SmsProvider::Capture
            .send_sms(
                db,
                now,
                None,
                "+4915112345678",
                "Your receipt: https://r.example.com/r/abc",
                "agent@example.com",
            )
            .await
            .expect("captured");

        srv.add_user("admin@example.com", Role::Admin).await;
        let c = srv.client();
        assert_eq!(srv.login(&c, "admin@example.com", PASSWORD).await.0, 200);

        let html = page(&srv, &c, "/admin/webhooks").await;
        assert!(html.contains("receipt.held"), "{html}");
        assert!(html.contains("Pending"), "{html}");
        assert!(html.contains(&format!("/admin/webhooks?id={id}")), "{html}");
        assert!(
            html.contains("shop_webhook.url"),
            "no URL configured: {html}"
        );

        let html = page(&srv, &c, &format!("/admin/webhooks?id={id}")).await;
        assert!(html.contains("Delivery log"), "{html}");
        assert!(html.contains("no answer"), "{html}");
        assert!(html.contains("A-77"), "event body shown: {html}");

        let html = page(&srv, &c, "/admin/webhooks?state=delivered").await;
        assert!(html.contains("No events."), "{html}");

        let html = page(&srv, &c, "/admin/outbox").await;
        assert!(html.contains("+4915112345678"), "{html}");
        assert!(html.contains("https://r.example.com/r/abc"), "{html}");
        srv.stop().await;
    }
}
