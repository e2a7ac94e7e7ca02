//! The held queue's "Send link on WhatsApp" through the real router on both
//! databases: offered and allowed only with the customer's opt-in, shown in
//! the Outbox with its channel.

mod support;

use engine::accounts::Role;
use engine::sms;
use support::whatsapp::{PHONE, opted_in_order, whatsapp_config};
use support::{PASSWORD, open_critical_case, servers};

#[tokio::test]
async fn agents_send_the_link_on_whatsapp_only_to_customers_who_opted_in() {
    for srv in servers(whatsapp_config("capture", "http://127.0.0.1:9")).await {
        let b = srv.backend();
        let db = &srv.state.db;
        let mut ids = Vec::new();
        for (number, opt_in) in [("WQ-1", true), ("WQ-2", false)] {
            let o = opted_in_order(&srv, number, opt_in).await;
            open_critical_case(&srv, o.id).await;
            ids.push(o.id);
        }
        srv.add_user("agent@test.local", Role::Agent).await;
        srv.add_user("admin@test.local", Role::Admin).await;
        let agent = srv.client();
        assert_eq!(srv.login(&agent, "agent@test.local", PASSWORD).await.0, 200);

        let (status, body) = srv.call(&agent, "/fn/support/list", &[]).await;
        assert_eq!(status, 200, "[{b}] {body}");
        let list: serde_json::Value = serde_json::from_str(&body).expect("json");
        let offered = |n: &str| {
            list.as_array()
                .expect("rows")
                .iter()
                .find(|r| r["order_number"] == n)
                .map(|r| r["whatsapp"] == true)
        };
        assert_eq!(offered("WQ-1"), Some(true), "[{b}] {body}");
        assert_eq!(offered("WQ-2"), Some(false), "[{b}] {body}");

        // No opt-in: refused, nothing sent, no link revoked or issued.
        let (status, body) = srv
            .call(
                &agent,
                "/fn/support/send_whatsapp",
                &[("order_number", "WQ-2")],
            )
            .await;
        assert_eq!(status, 409, "[{b}] {body}");
        assert!(body.contains("not agreed"), "[{b}] {body}");
        assert!(
            sms::for_order(db, ids[1]).await.expect("rows").is_empty(),
            "[{b}]"
        );
        assert!(
            engine::links::for_order(db, ids[1])
                .await
                .expect("links")
                .is_empty(),
            "[{b}]"
        );

        let (status, body) = srv
            .call(
                &agent,
                "/fn/support/send_whatsapp",
                &[("order_number", "WQ-1")],
            )
            .await;
        assert_eq!(status, 200, "[{b}] {body}");
        let rows = sms::for_order(db, ids[0]).await.expect("rows");
        assert_eq!(rows.len(), 1, "[{b}]");
        assert_eq!(
            (
                rows[0].kind.as_str(),
                rows[0].provider.as_str(),
                rows[0].requested_by.as_str()
            ),
            ("whatsapp", "capture", "agent@test.local"),
            "[{b}]"
        );
        assert!(rows[0].body.contains("/r/"), "[{b}] {}", rows[0].body);

        // The Outbox (JavaScript off) shows it with its channel.
        let admin = srv.client();
        assert_eq!(srv.login(&admin, "admin@test.local", PASSWORD).await.0, 200);
        let html = admin
            .get(format!("{}/admin/outbox", srv.base))
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("html");
        assert!(
            html.contains("channel-whatsapp\">WhatsApp<"),
            "[{b}] {html}"
        );
        assert!(html.contains(PHONE), "[{b}]");
        assert!(html.contains("your receipt for order WQ-1"), "[{b}]");
        srv.stop().await;
    }
}
