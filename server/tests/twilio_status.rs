//! `POST /hooks/twilio/status` through the real router on both databases:
//! only correctly signed callbacks move a message's status.

mod support;

use axum::Router;
use axum::routing::post;
use engine::config::{Config, SmsConfig};
use engine::sms::{self, SmsProvider};
use support::{T0, servers, test_config};

const TOKEN: &str = "twilio-test-token";
const SID: &str = "SM44444444444444444444444444444444";

/// A stand-in for Twilio's REST API that accepts every message.
async fn fake_twilio() -> String {
    let app = Router::new().route(
        "/2010-04-01/Accounts/{account}/Messages.json",
        post(|| async {
            (
                axum::http::StatusCode::CREATED,
                axum::Json(serde_json::json!({"sid": SID, "status": "queued"})),
            )
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

fn twilio_config(base: &str) -> Config {
    Config {
        sms: SmsConfig {
            provider: "twilio".into(),
            twilio_base_url: base.into(),
            twilio_account_sid: Some("AC1".into()),
            twilio_auth_token: Some(TOKEN.into()),
            from_number: Some("+15005550006".into()),
        },
        ..test_config()
    }
}

#[tokio::test]
async fn only_signed_status_callbacks_are_recorded() {
    let base = fake_twilio().await;
    let config = twilio_config(&base);
    for srv in servers(config.clone()).await {
        let db = &srv.state.db;
        let provider = SmsProvider::from_app_config(&config).expect("provider");
        let row = provider
            .send_sms(
                db,
                T0,
                None,
                "+4915112345678",
                "receipt",
                "agent@example.com",
            )
            .await
            .expect("sent");
        assert_eq!(row.provider_sid.as_deref(), Some(SID));

        let url = format!("{}/hooks/twilio/status", srv.base);
        let params = vec![
            ("MessageSid".to_string(), SID.to_string()),
            ("MessageStatus".to_string(), "delivered".to_string()),
            ("AccountSid".to_string(), "AC1".to_string()),
            ("To".to_string(), "+4915112345678".to_string()),
        ];
        let client = reqwest::Client::new();
        let post = |signature: Option<String>| {
            let mut req = client.post(&url).form(&params);
            if let Some(s) = signature {
                req = req.header("X-Twilio-Signature", s);
            }
            req.send()
        };

        // Unsigned, signed with another token, signed for another URL: 403.
        let bad = [
            None,
            Some(sms::twilio::signature("other-token", &url, &params)),
            Some(sms::twilio::signature(
                TOKEN,
                "http://elsewhere/hooks/twilio/status",
                &params,
            )),
        ];
        for sig in bad {
            let res = post(sig).await.expect("request");
            assert_eq!(res.status().as_u16(), 403, "[{}]", srv.backend());
        }
        let row_now = sms::get(db, row.id).await.expect("get").expect("row");
        assert_eq!(row_now.status, "queued");

        // Correctly signed: recorded.
        let res = post(Some(sms::twilio::signature(TOKEN, &url, &params)))
            .await
            .expect("request");
        assert_eq!(res.status().as_u16(), 204, "[{}]", srv.backend());
        let row_now = sms::get(db, row.id).await.expect("get").expect("row");
        assert_eq!(row_now.status, "delivered", "[{}]", srv.backend());
        srv.stop().await;
    }
}

#[tokio::test]
async fn the_endpoint_is_off_without_twilio() {
    for srv in servers(test_config()).await {
        let res = reqwest::Client::new()
            .post(format!("{}/hooks/twilio/status", srv.base))
            .form(&[("MessageSid", SID), ("MessageStatus", "delivered")])
            .send()
            .await
            .expect("request");
        assert_eq!(res.status().as_u16(), 404);
        srv.stop().await;
    }
}
