//! ESP event webhooks through the real HTTP server, on SQLite and PostgreSQL: signed hard
//! bounces from SES (SNS), SendGrid, Postmark and Mailgun land on the order's timeline and
//! suppress the address; a reputation block does not; bad signatures are refused and counted;
//! malformed bodies are 400; an SNS subscription is confirmed against a local "SNS".

mod esp_support;
mod support;

use engine::bounce::esp::{mailgun, sendgrid, ses};
use engine::delivery::attempts::attempts;
use engine::delivery::pools::{self, NewPool};
use engine::delivery::worker::Worker;
use esp_support::{
    FakeSns, MAILGUN_KEY, SENDGRID_SECRET, SNS_KEY, TOPIC, fake_sns, sendgrid_headers, suppressed,
};
use serde_json::{Value, json};
use support::{TestServer, servers, test_config};

const SNS_OTHER_KEY: &str = include_str!("../../engine/src/bounce/esp/fixtures/sns-other-key.pem");
const POSTMARK_USER: &str = "postmark";
const POSTMARK_PASSWORD: &str = "hook-password-1";

fn config() -> engine::Config {
    let mut c = test_config();
    let w = &mut c.esp_webhooks;
    w.sns_topic_arns = vec![TOPIC.into()];
    w.sns_host_pattern = r"^127\.0\.0\.1$".into();
    w.sns_allow_http = true;
    w.sendgrid_public_key =
        Some(sendgrid::public_key_base64(&SENDGRID_SECRET).expect("sendgrid key"));
    w.postmark_username = Some(POSTMARK_USER.into());
    w.postmark_password = Some(POSTMARK_PASSWORD.into());
    w.mailgun_signing_key = Some(MAILGUN_KEY.into());
    c
}

/// Posts an order through the API, sends it through a capture pool, and returns the
/// attempt's Message-ID.
async fn sent_order(srv: &TestServer, key: &str, number: &str, email: &str) -> String {
    let res = srv
        .client()
        .post(format!("{}/api/v1/orders", srv.base))
        .bearer_auth(key)
        .json(&json!({
            "order_number": number, "placed_at": "2026-11-27T21:00:00Z", "currency": "EUR",
            "items": [{ "name": "Mug", "quantity": 1, "unit_price": 1250 }],
            "totals": { "subtotal": 1250, "total": 1250 },
            "customer": { "email": email, "name": "Jane", "account_kind": "guest" }
        }))
        .send()
        .await
        .expect("post order");
    assert_eq!(res.status(), 202);
    let db = &srv.state.db;
    if pools::list(db).await.expect("pools").is_empty() {
        pools::create(
            db,
            srv.clock_now(),
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
    }
    let worker =
        Worker::new(db.clone(), srv.state.clock.clone(), &srv.state.config).expect("worker");
    assert_eq!(worker.run_once().await.expect("send"), 1);
    let order = engine::orders::find_by_number(db, number)
        .await
        .expect("q")
        .expect("order");
    assert_eq!(order.state, "accepted");
    attempts(db, order.id).await.expect("attempts")[0]
        .message_id
        .clone()
}

/// The order's timeline and bounces as the API and the engine show them.
async fn timeline(srv: &TestServer, key: &str, number: &str) -> Vec<Value> {
    let body: Value = srv
        .client()
        .get(format!("{}/api/v1/orders/{number}", srv.base))
        .bearer_auth(key)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    body["timeline"].as_array().cloned().unwrap_or_default()
}

async fn bounce_classes(srv: &TestServer, number: &str) -> Vec<(String, String, bool)> {
    let db = &srv.state.db;
    let order = engine::orders::find_by_number(db, number)
        .await
        .expect("q")
        .expect("order");
    engine::bounces::for_order(db, order.id)
        .await
        .expect("bounces")
        .into_iter()
        .map(|b| (b.source, b.class, b.hard))
        .collect()
}

async fn rejections(srv: &TestServer, provider: &str) -> i64 {
    engine::bounces::webhook_rejection_counts(&srv.state.db)
        .await
        .expect("counts")
        .into_iter()
        .find(|(p, _)| p == provider)
        .map(|(_, n)| n)
        .unwrap_or(0)
}

async fn post(
    srv: &TestServer,
    path: &str,
    body: Vec<u8>,
    headers: &[(&str, String)],
) -> (u16, Value) {
    let mut req = srv
        .client()
        .post(format!("{}/api/v1/webhooks/{path}", srv.base))
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let res = req.send().await.expect("post");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn sns_envelope(fake: &FakeSns, message: &Value, key: &str) -> Vec<u8> {
    let mut env = json!({
        "Type": "Notification",
        "MessageId": "7a2b5c3d-0000-4000-8000-000000000001",
        "TopicArn": TOPIC,
        "Message": message.to_string(),
        "Timestamp": "2027-01-15T08:00:00.000Z",
        "SignatureVersion": "2",
        "SigningCertURL": format!("{}/SimpleNotificationService-test.pem", fake.base),
        "UnsubscribeURL": format!("{}/unsubscribe", fake.base),
    });
    ses::sign_envelope(&mut env, key).expect("sign");
    serde_json::to_vec(&env).expect("json")
}

fn ses_bounce(email: &str, message_id: &str, bounce_type: &str, sub: &str, diag: &str) -> Value {
    json!({
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": bounce_type, "bounceSubType": sub,
            "bouncedRecipients": [{ "emailAddress": email, "action": "failed", "diagnosticCode": diag }],
            "timestamp": "2027-01-15T08:00:00.000Z", "feedbackId": "f-1"
        },
        "mail": {
            "timestamp": "2027-01-15T07:59:59.000Z", "source": "receipts@shop.example",
            "messageId": "0100018d-ses-own-id", "destination": [email],
            "commonHeaders": { "messageId": format!("<{message_id}>") }
        }
    })
}

/// `Authorization: Basic …` for the Postmark user with `password`.
fn postmark_auth(password: &str) -> Vec<(&'static str, String)> {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let raw = format!("{POSTMARK_USER}:{password}").into_bytes();
    let mut out = String::new();
    for chunk in raw.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    vec![
        ("authorization", format!("Basic {out}")),
        ("content-type", "application/json".into()),
    ]
}

fn mailgun_body(srv: &TestServer, token: &str, key: &str, data: Value) -> Vec<u8> {
    let ts = (srv.clock_now() / 1000).to_string();
    let sig = mailgun::sign(key.as_bytes(), &ts, token);
    serde_json::to_vec(&json!({
        "signature": { "timestamp": ts, "token": token, "signature": sig },
        "event-data": data
    }))
    .expect("json")
}

fn has_bounce_line(tl: &[Value], source: &str, class: &str) -> bool {
    tl.iter().any(|e| {
        e["kind"] == "bounce"
            && e["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with(&format!("{source} bounce")) && d.contains(class))
    })
}

#[tokio::test]
async fn signed_provider_events_are_applied_like_dsns() {
    let fake = fake_sns().await;
    for srv in servers(config()).await {
        let key = engine::apikeys::create(&srv.state.db, srv.clock_now(), "shop", "test")
            .await
            .expect("key")
            .secret;

        // ---- SES through SNS ----
        let mid = sent_order(&srv, &key, "W-SES", "ses-dead@example.com").await;
        let msg = ses_bounce(
            "ses-dead@example.com",
            &mid,
            "Permanent",
            "General",
            "smtp; 550 5.1.1 <ses-dead@example.com>: Recipient address rejected: User unknown",
        );
        let (status, body) = post(&srv, "ses", sns_envelope(&fake, &msg, SNS_KEY), &[]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            (body["matched"].clone(), body["unmatched"].clone()),
            (json!(1), json!(0))
        );
        assert_eq!(
            bounce_classes(&srv, "W-SES").await,
            vec![("ses".into(), "recipient_permanent".into(), true)]
        );
        assert!(has_bounce_line(
            &timeline(&srv, &key, "W-SES").await,
            "ses",
            "recipient_permanent"
        ));
        assert!(suppressed(&srv, "ses-dead@example.com").await);

        // A reputation block through SES (Permanent/General but the text blames our IP).
        let mid = sent_order(&srv, &key, "W-SES-REP", "ses-rep@example.com").await;
        let msg = ses_bounce(
            "ses-rep@example.com",
            &mid,
            "Permanent",
            "General",
            "smtp; 554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using zen.spamhaus.org",
        );
        let (status, _) = post(&srv, "ses", sns_envelope(&fake, &msg, SNS_KEY), &[]).await;
        assert_eq!(status, 200);
        assert_eq!(
            bounce_classes(&srv, "W-SES-REP").await,
            vec![("ses".into(), "sender_reputation".into(), false)]
        );
        assert!(!suppressed(&srv, "ses-rep@example.com").await);

        // Signed by another key, or junk: refused and counted / 400.
        let before = rejections(&srv, "ses").await;
        let (status, body) = post(&srv, "ses", sns_envelope(&fake, &msg, SNS_OTHER_KEY), &[]).await;
        assert_eq!(status, 401, "{body}");
        assert!(body["error"].is_string());
        assert_eq!(rejections(&srv, "ses").await, before + 1);
        let (status, body) = post(&srv, "ses", b"{not json".to_vec(), &[]).await;
        assert_eq!(status, 400);
        assert!(
            body["error"].as_str().unwrap_or("").contains("JSON"),
            "{body}"
        );
        assert_eq!(
            rejections(&srv, "ses").await,
            before + 1,
            "400s are not counted"
        );

        // A subscription confirmation makes Rebound GET the SubscribeURL.
        let token = format!("token-{}", srv.backend());
        let mut conf = json!({
            "Type": "SubscriptionConfirmation",
            "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            "Token": token,
            "TopicArn": TOPIC,
            "Message": "You have chosen to subscribe to the topic. To confirm the subscription, visit the SubscribeURL included in this message.",
            "SubscribeURL": format!("{}/confirm?Action=ConfirmSubscription&TopicArn={TOPIC}&Token={token}", fake.base),
            "Timestamp": "2027-01-15T07:00:00.000Z",
            "SignatureVersion": "1",
            "SigningCertURL": format!("{}/SimpleNotificationService-test.pem", fake.base),
        });
        ses::sign_envelope(&mut conf, SNS_KEY).expect("sign");
        let (status, body) = post(&srv, "ses", serde_json::to_vec(&conf).expect("json"), &[]).await;
        assert_eq!(
            (status, body["subscription"].clone()),
            (200, json!("confirmed")),
            "{body}"
        );
        assert!(
            fake.confirmations
                .lock()
                .expect("lock")
                .iter()
                .any(|q| q.contains(&format!("Token={token}"))),
            "the SubscribeURL was fetched"
        );

        // ---- SendGrid ----
        let mid = sent_order(&srv, &key, "W-SG", "sg-dead@example.com").await;
        let _ = sent_order(&srv, &key, "W-SG-REP", "sg-rep@example.com").await;
        let batch = serde_json::to_vec(&json!([
            { "email": "sg-dead@example.com", "timestamp": srv.clock_now() / 1000, "event": "bounce",
              "smtp-id": format!("<{mid}>"), "type": "bounce", "bounce_classification": "Invalid Address",
              "reason": "550 5.1.1 The email account that you tried to reach does not exist.", "status": "5.1.1" },
            { "email": "sg-rep@example.com", "timestamp": srv.clock_now() / 1000, "event": "bounce",
              "type": "blocked", "bounce_classification": "Reputation",
              "reason": "550 5.7.1 Our system has detected that this message is likely unsolicited mail. Your IP reputation is poor.",
              "status": "5.7.1" },
            { "email": "someone@example.com", "timestamp": srv.clock_now() / 1000, "event": "open" }
        ]))
        .expect("json");
        let headers = sendgrid_headers(&srv, &batch);
        let (status, body) = post(&srv, "sendgrid", batch.clone(), &headers).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            (body["events"].clone(), body["matched"].clone()),
            (json!(2), json!(2))
        );
        assert_eq!(
            bounce_classes(&srv, "W-SG").await,
            vec![("sendgrid".into(), "recipient_permanent".into(), true)]
        );
        assert!(has_bounce_line(
            &timeline(&srv, &key, "W-SG").await,
            "sendgrid",
            "recipient_permanent"
        ));
        assert!(suppressed(&srv, "sg-dead@example.com").await);
        assert_eq!(
            bounce_classes(&srv, "W-SG-REP").await,
            vec![("sendgrid".into(), "sender_reputation".into(), false)]
        );
        assert!(
            !suppressed(&srv, "sg-rep@example.com").await,
            "a block never suppresses"
        );

        let before = rejections(&srv, "sendgrid").await;
        let mut tampered = batch.clone();
        tampered.extend_from_slice(b" ");
        let (status, _) = post(&srv, "sendgrid", tampered, &headers).await;
        assert_eq!(status, 401);
        let (status, _) = post(&srv, "sendgrid", batch.clone(), &[]).await;
        assert_eq!(status, 401, "unsigned");
        assert_eq!(rejections(&srv, "sendgrid").await, before + 2);
        let junk = b"[{\"event\": ".to_vec();
        let headers = sendgrid_headers(&srv, &junk);
        let (status, _) = post(&srv, "sendgrid", junk, &headers).await;
        assert_eq!(status, 400, "signed but malformed");

        // ---- Postmark ----
        let _ = sent_order(&srv, &key, "W-PM", "pm-dead@example.com").await;
        let bounce = serde_json::to_vec(&json!({
            "RecordType": "Bounce", "ID": 4323372036854775807_i64, "Type": "HardBounce", "TypeCode": 1,
            "Name": "Hard bounce", "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
            "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
            "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
            "Email": "pm-dead@example.com", "From": "receipts@shop.example",
            "BouncedAt": "2027-01-15T08:00:00.0000000Z", "Inactive": true, "CanActivate": true
        }))
        .expect("json");
        let (status, body) = post(
            &srv,
            "postmark",
            bounce.clone(),
            &postmark_auth(POSTMARK_PASSWORD),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["matched"], json!(1), "tied by the recipient");
        assert_eq!(
            bounce_classes(&srv, "W-PM").await,
            vec![("postmark".into(), "recipient_permanent".into(), true)]
        );
        assert!(has_bounce_line(
            &timeline(&srv, &key, "W-PM").await,
            "postmark",
            "recipient_permanent"
        ));
        assert!(suppressed(&srv, "pm-dead@example.com").await);
        let before = rejections(&srv, "postmark").await;
        let (status, _) = post(&srv, "postmark", bounce.clone(), &postmark_auth("wrong")).await;
        assert_eq!(status, 401);
        let (status, _) = post(&srv, "postmark", bounce, &[]).await;
        assert_eq!(status, 401);
        assert_eq!(rejections(&srv, "postmark").await, before + 2);
        let (status, _) = post(
            &srv,
            "postmark",
            b"[]".to_vec(),
            &postmark_auth(POSTMARK_PASSWORD),
        )
        .await;
        assert_eq!(status, 400);

        // ---- Mailgun ----
        let mid = sent_order(&srv, &key, "W-MG", "mg-dead@example.com").await;
        let data = json!({
            "event": "failed", "severity": "permanent", "reason": "bounce",
            "timestamp": srv.clock_now() as f64 / 1000.0, "recipient": "mg-dead@example.com",
            "delivery-status": { "code": 550, "enhanced-code": "5.1.1",
                "message": "550 5.1.1 The email account that you tried to reach does not exist." },
            "message": { "headers": { "message-id": mid } }
        });
        let token = format!("tok-{}-1", srv.backend());
        let body = mailgun_body(&srv, &token, MAILGUN_KEY, data.clone());
        let (status, answer) = post(
            &srv,
            "mailgun",
            body.clone(),
            &[("content-type", "application/json".into())],
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["matched"], json!(1));
        assert_eq!(
            bounce_classes(&srv, "W-MG").await,
            vec![("mailgun".into(), "recipient_permanent".into(), true)]
        );
        assert!(has_bounce_line(
            &timeline(&srv, &key, "W-MG").await,
            "mailgun",
            "recipient_permanent"
        ));
        assert!(suppressed(&srv, "mg-dead@example.com").await);
        let before = rejections(&srv, "mailgun").await;
        let (status, _) = post(&srv, "mailgun", body, &[]).await;
        assert_eq!(status, 401, "a replayed token");
        let (status, _) = post(
            &srv,
            "mailgun",
            mailgun_body(
                &srv,
                &format!("tok-{}-2", srv.backend()),
                "not-the-key",
                data,
            ),
            &[],
        )
        .await;
        assert_eq!(status, 401, "wrong key");
        assert_eq!(rejections(&srv, "mailgun").await, before + 2);
        let (status, _) = post(&srv, "mailgun", b"{\"signature\": ".to_vec(), &[]).await;
        assert_eq!(status, 400);

        // Over 1 MiB: refused before anything is parsed.
        let (status, _) = post(&srv, "mailgun", vec![b' '; 1024 * 1024 + 1], &[]).await;
        assert_eq!(status, 413);
        srv.stop().await;
    }
}

#[tokio::test]
async fn unconfigured_providers_answer_404_and_the_routes_need_no_api_key() {
    let srv = TestServer::start(
        engine::testing::TestDb::sqlite().await.expect("db"),
        test_config(),
    )
    .await;
    for p in engine::bounce::esp::Provider::ALL.map(|p| p.as_str()) {
        let (status, body) = post(&srv, p, b"{}".to_vec(), &[]).await;
        assert_eq!(status, 404, "{p}");
        assert!(
            body["error"]
                .as_str()
                .unwrap_or("")
                .contains("not configured"),
            "{body}"
        );
    }
    // Documented in the OpenAPI document, without the API-key requirement.
    let doc: Value = srv
        .client()
        .get(format!("{}/api/v1/openapi.json", srv.base))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let op = &doc["paths"]["/api/v1/webhooks/{provider}"]["post"];
    assert!(op.is_object(), "documented");
    assert!(op["security"].is_null(), "needs no API key");
    let (status, _) = post(&srv, "teleport-mail", b"{}".to_vec(), &[]).await;
    assert_eq!(status, 404, "an unknown provider");
    srv.stop().await;
}
