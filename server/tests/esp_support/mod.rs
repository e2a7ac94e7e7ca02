//! Shared by the ESP webhook tests: a local stand-in for SNS, the providers' configuration
//! with test keys, and posting to `/api/v1/webhooks/{provider}`.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use engine::bounce::esp::{Provider, auth, sendgrid, ses, store};
use serde_json::{Value, json};

use crate::support::{TestServer, test_config};

pub const SNS_KEY: &str = include_str!("../../../engine/src/bounce/esp/fixtures/sns-test-key.pem");
pub const SNS_CERT: &str =
    include_str!("../../../engine/src/bounce/esp/fixtures/sns-test-cert.pem");
pub const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:rebound-ses-events";
pub const SENDGRID_SECRET: [u8; 32] = [42u8; 32];
pub const MAILGUN_KEY: &str = "test-mailgun-signing-key";
pub const POSTMARK_OLD: &str = "postmark:old-hook-password";
pub const POSTMARK_NEW: &str = "postmark:new-hook-password";
pub const SPARKPOST: &str = "sparkpost:sp-hook-password";
pub const BREVO: &str = "brevo:brevo-hook-password";
pub const MAILJET: &str = "mailjet:mj-hook-password";
pub const RESEND_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const MAILERSEND_SECRET: &str = "mailersend-signing-secret";
pub const MANDRILL_KEY: &str = "mandrill-webhook-key";
pub const MANDRILL_URL: &str = "https://rebound.example.com/api/v1/webhooks/mandrill";

/// A stand-in for SNS on loopback: serves the signing certificate and records every
/// subscription confirmation it receives.
pub struct FakeSns {
    pub base: String,
    pub confirmations: Arc<Mutex<Vec<String>>>,
}

pub async fn fake_sns() -> FakeSns {
    use axum::extract::RawQuery;
    use axum::routing::get;
    let confirmations = Arc::new(Mutex::new(Vec::new()));
    let seen = confirmations.clone();
    let app = axum::Router::new()
        .route(
            "/SimpleNotificationService-test.pem",
            get(|| async { SNS_CERT }),
        )
        .route(
            "/confirm",
            get(move |RawQuery(q): RawQuery| {
                let seen = seen.clone();
                async move {
                    seen.lock().expect("lock").push(q.unwrap_or_default());
                    "<ConfirmSubscriptionResponse/>"
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
    FakeSns {
        base,
        confirmations,
    }
}

/// Every provider configured with the test keys.
pub fn config() -> engine::Config {
    let mut c = test_config();
    let w = &mut c.esp_webhooks;
    w.sns_topic_arns = vec![TOPIC.into()];
    w.sns_host_pattern = r"^127\.0\.0\.1$".into();
    w.sns_allow_http = true;
    w.sendgrid_public_key = Some(sendgrid::public_key_base64(&SENDGRID_SECRET).expect("key"));
    w.postmark_credentials = vec![POSTMARK_OLD.into(), POSTMARK_NEW.into()];
    w.mailgun_signing_key = Some(MAILGUN_KEY.into());
    w.postal_public_key = Some(postal_public_key());
    w.sparkpost_credentials = vec![SPARKPOST.into()];
    w.brevo_credentials = vec![BREVO.into()];
    w.mailjet_credentials = vec![MAILJET.into()];
    w.resend_signing_secret = Some(RESEND_SECRET.into());
    w.mailersend_signing_secret = Some(MAILERSEND_SECRET.into());
    w.mandrill_webhook_key = Some(MANDRILL_KEY.into());
    w.mandrill_webhook_url = Some(MANDRILL_URL.into());
    c
}

/// The test RSA key's public half, base64 DER, as Postal's DNS record gives it.
pub fn postal_public_key() -> String {
    engine::bounce::esp::postal::public_key_base64(SNS_KEY).expect("public key")
}

/// `Authorization: Basic …` for `user:password`.
pub fn basic(pair: &str) -> Vec<(&'static str, String)> {
    vec![
        ("authorization", auth::basic_authorization(pair)),
        ("content-type", "application/json".into()),
    ]
}

/// POSTs `body` to the provider's webhook; the status and the JSON answer.
pub async fn post(
    srv: &TestServer,
    provider: &str,
    body: Vec<u8>,
    headers: &[(&str, String)],
) -> (u16, Value) {
    let mut req = srv
        .client()
        .post(format!("{}/api/v1/webhooks/{provider}", srv.base))
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let res = req.send().await.expect("post");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// `(kind, hard)` of each event in an answer.
pub fn kinds(answer: &Value) -> Vec<(String, bool)> {
    answer["outcomes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| {
                    (
                        o["kind"].as_str().unwrap_or_default().to_string(),
                        o["hard"].as_bool().unwrap_or(false),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// An SNS notification carrying `message`, signed with `key`.
pub fn sns_envelope(fake: &FakeSns, message: &str, key: &str, id: &str) -> Vec<u8> {
    let mut env = json!({
        "Type": "Notification",
        "MessageId": id,
        "TopicArn": TOPIC,
        "Message": message,
        "Timestamp": "2027-01-15T08:00:00.000Z",
        "SignatureVersion": "2",
        "SigningCertURL": format!("{}/SimpleNotificationService-test.pem", fake.base),
        "UnsubscribeURL": format!("{}/unsubscribe", fake.base),
    });
    ses::sign_envelope(&mut env, key).expect("sign");
    serde_json::to_vec(&env).expect("json")
}

/// SendGrid's signature headers for `body`.
pub fn sendgrid_headers(srv: &TestServer, body: &[u8]) -> Vec<(&'static str, String)> {
    let ts = (srv.clock_now() / 1000).to_string();
    let sig = sendgrid::sign(&SENDGRID_SECRET, &ts, body).expect("sign");
    vec![
        ("x-twilio-email-event-webhook-signature", sig),
        ("x-twilio-email-event-webhook-timestamp", ts),
        ("content-type", "application/json".into()),
    ]
}

pub async fn suppressed(srv: &TestServer, email: &str) -> bool {
    engine::suppression::active(&srv.state.db, srv.clock_now(), email)
        .await
        .expect("q")
        .is_some()
}

/// Stored bounces for `recipient`: `(source, class, hard)`.
pub async fn bounces_of(srv: &TestServer, recipient: &str) -> Vec<(String, String, bool)> {
    engine::bounces::unmatched(&srv.state.db, 500)
        .await
        .expect("bounces")
        .into_iter()
        .filter(|b| b.recipient.as_deref() == Some(recipient))
        .map(|b| (b.source, b.class, b.hard))
        .collect()
}

/// Applied events stored for `p`.
pub async fn applied(srv: &TestServer, p: Provider) -> usize {
    store::applied(&srv.state.db, p)
        .await
        .expect("applied")
        .len()
}
