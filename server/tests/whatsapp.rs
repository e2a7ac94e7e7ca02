//! WhatsApp through the real router on both databases: Twilio's signed
//! status callbacks (`read` is reach; a bad signature changes nothing; a
//! fallback message reported `undelivered` goes to support).

mod support;

use axum::Router;
use axum::routing::post;
use engine::fallback::decide::PRIORITY_CRITICAL;
use engine::sms::{self, WhatsappProvider};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::servers;
use support::whatsapp::{PHONE, TOKEN, opted_in_order, whatsapp_config};

/// A stand-in for Twilio's Messages API: accepts every message, each with
/// its own sid.
async fn fake_twilio() -> String {
    let next = Arc::new(AtomicUsize::new(1));
    let app = Router::new().route(
        "/2010-04-01/Accounts/{account}/Messages.json",
        post(move || {
            let n = next.fetch_add(1, Ordering::SeqCst);
            async move {
                (
                    axum::http::StatusCode::CREATED,
                    axum::Json(
                        serde_json::json!({"sid": format!("SM{n:032}"), "status": "queued"}),
                    ),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    base
}

#[tokio::test]
async fn a_signed_read_callback_is_reach_and_a_bad_signature_changes_nothing() {
    let base = fake_twilio().await;
    let config = whatsapp_config("twilio", &base);
    for srv in servers(config.clone()).await {
        let b = srv.backend();
        let db = &srv.state.db;
        let now = srv.clock_now();
        let o = opted_in_order(&srv, "WS-1", true).await;
        let provider = WhatsappProvider::from_app_config(&config)
            .expect("provider")
            .expect("configured");
        let issued = engine::links::issue(db, now, &o, "whatsapp", "agent", 3_600_000)
            .await
            .expect("link");
        let row = provider
            .send_link(db, now, &config, &o, &issued, "agent@example.com")
            .await
            .expect("sent");
        let sid = row.provider_sid.clone().expect("sid");

        let url = format!("{}/hooks/twilio/status", srv.base);
        let params = vec![
            ("MessageSid".to_string(), sid.clone()),
            ("MessageStatus".to_string(), "read".to_string()),
            ("ChannelPrefix".to_string(), "whatsapp".to_string()),
            ("AccountSid".to_string(), "AC1".to_string()),
            ("To".to_string(), format!("whatsapp:{PHONE}")),
        ];
        let client = reqwest::Client::new();
        let post = |signature: String| {
            client
                .post(&url)
                .form(&params)
                .header("X-Twilio-Signature", signature)
                .send()
        };
        // SMS is on `capture` here: the WhatsApp account's token is the one.
        for bad in [
            sms::twilio::signature("another-token", &url, &params),
            sms::twilio::signature(TOKEN, "http://elsewhere/hooks/twilio/status", &params),
        ] {
            let res = post(bad).await.expect("request");
            assert_eq!(res.status().as_u16(), 403, "[{b}]");
        }
        let row_now = sms::get(db, row.id).await.expect("get").expect("row");
        assert_eq!(row_now.status, "queued", "[{b}]");
        let before = engine::orders::get(db, o.id)
            .await
            .expect("q")
            .expect("order");
        assert_eq!(before.reached_at, None, "[{b}]");

        let res = post(sms::twilio::signature(TOKEN, &url, &params))
            .await
            .expect("request");
        assert_eq!(res.status().as_u16(), 204, "[{b}]");
        let row_now = sms::get(db, row.id).await.expect("get").expect("row");
        assert_eq!(row_now.status, "read", "[{b}]");
        let after = engine::orders::get(db, o.id)
            .await
            .expect("q")
            .expect("order");
        assert_eq!(
            after.reached_via.as_deref(),
            Some("whatsapp_delivered"),
            "[{b}]"
        );
        assert!(after.reached_at.is_some(), "[{b}]");

        // The fallback's own message reported undelivered: critical support.
        let o2 = opted_in_order(&srv, "WS-2", true).await;
        let sent = engine::fallback::whatsapp::send_fallback_link(db, now, &config, &o2)
            .await
            .expect("fallback")
            .expect("sent");
        let params2 = vec![
            (
                "MessageSid".to_string(),
                sent.provider_sid.clone().expect("sid"),
            ),
            ("MessageStatus".to_string(), "undelivered".to_string()),
            ("ErrorCode".to_string(), "63024".to_string()),
        ];
        let res = client
            .post(&url)
            .form(&params2)
            .header(
                "X-Twilio-Signature",
                sms::twilio::signature(TOKEN, &url, &params2),
            )
            .send()
            .await
            .expect("request");
        assert_eq!(res.status().as_u16(), 204, "[{b}]");
        let case = engine::fallback::support::for_order(db, o2.id)
            .await
            .expect("q")
            .expect("a support case");
        assert_eq!(case.priority, PRIORITY_CRITICAL, "[{b}]");
        assert!(case.reason.contains("undelivered"), "[{b}] {}", case.reason);
        srv.stop().await;
    }
}
