//! SMS and calls: the Twilio client against a local HTTP server (exact path,
//! basic auth and form fields; Twilio's refusals), status callbacks marking
//! reach, and the capture provider storing rows on both databases.

use base64::Engine as _;
use engine::config::SmsConfig;
use engine::orders::{self, AccountKind, CustomerInput, ItemInput, OrderInput, TotalsInput};
use engine::sms::{self, SmsProvider, TwilioClient};
use engine::testing::{TestDb, all_backends};
use engine::{Db, Error};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const T0: i64 = 1_800_000_000_000;
const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "test-auth-token";
const FROM: &str = "+15005550006";
const TO: &str = "+4915112345678";

fn twilio_config(base: &str) -> SmsConfig {
    SmsConfig {
        provider: "twilio".into(),
        twilio_base_url: base.into(),
        twilio_account_sid: Some(SID.into()),
        twilio_auth_token: Some(TOKEN.into()),
        from_number: Some(FROM.into()),
    }
}

fn basic_auth() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"))
    )
}

fn form_of(req: &wiremock::Request) -> Vec<(String, String)> {
    form_urlencoded::parse(&req.body).into_owned().collect()
}

async fn sqlite() -> TestDb {
    TestDb::sqlite().await.expect("sqlite test db")
}

async fn new_order(db: &Db, number: &str) -> i64 {
    let valid = OrderInput {
        order_number: number.into(),
        placed_at: "2026-11-27T21:00:00Z".into(),
        currency: "EUR".into(),
        items: vec![ItemInput {
            name: "Mug".into(),
            quantity: 1,
            unit_price: 1250,
        }],
        totals: TotalsInput {
            subtotal: 1250,
            tax: 0,
            shipping: 0,
            discount: 0,
            total: 1250,
        },
        customer: CustomerInput {
            email: "jane@example.com".into(),
            name: "Jane".into(),
            phone: Some(TO.into()),
            account_kind: AccountKind::Guest,
            customer_ref: None,
            whatsapp_opt_in: false,
            locale: None,
        },
        client_ip: None,
        billing_address: None,
    }
    .validate()
    .expect("valid order");
    orders::intake(db, T0, valid, None)
        .await
        .expect("intake")
        .order()
        .id
}

#[tokio::test]
async fn twilio_sms_posts_the_exact_request_and_records_the_sid() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/2010-04-01/Accounts/{SID}/Messages.json")))
        .and(header("authorization", basic_auth().as_str()))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "sid": "SM11111111111111111111111111111111",
            "status": "queued",
            "to": TO,
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = sqlite().await;
    let provider = SmsProvider::from_config(&twilio_config(&server.uri()))
        .expect("provider")
        .with_public_url(Some("https://rebound.example.com/"));
    let body = "Your receipt for A-1: https://r.example.com/r/abc";
    let row = provider
        .send_sms(&t.db, T0, None, TO, body, "agent@example.com")
        .await
        .expect("sent");
    assert_eq!(row.kind, "sms");
    assert_eq!(row.provider, "twilio");
    assert_eq!(
        row.provider_sid.as_deref(),
        Some("SM11111111111111111111111111111111")
    );
    assert_eq!(row.status, "queued");
    assert_eq!(row.to_phone, TO);
    assert_eq!(row.body, body);

    let received = server.received_requests().await.expect("recorded");
    assert_eq!(received.len(), 1);
    let req = &received[0];
    assert_eq!(
        req.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/x-www-form-urlencoded")
    );
    let mut form = form_of(req);
    form.sort();
    assert_eq!(
        form,
        vec![
            ("Body".to_string(), body.to_string()),
            ("From".to_string(), FROM.to_string()),
            (
                "StatusCallback".to_string(),
                "https://rebound.example.com/hooks/twilio/status".to_string()
            ),
            ("To".to_string(), TO.to_string()),
        ]
    );
    t.cleanup().await;
}

#[tokio::test]
async fn twilio_call_says_the_escaped_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/2010-04-01/Accounts/{SID}/Calls.json")))
        .and(header("authorization", basic_auth().as_str()))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "sid": "CA22222222222222222222222222222222",
            "status": "queued",
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = sqlite().await;
    // No public URL: no StatusCallback.
    let provider = SmsProvider::from_config(&twilio_config(&server.uri())).expect("provider");
    let row = provider
        .start_call(
            &t.db,
            T0,
            None,
            TO,
            "Order <A-1> & more",
            &engine::i18n::Lang::default(),
            "agent@example.com",
        )
        .await
        .expect("call started");
    assert_eq!(row.kind, "call");
    assert_eq!(
        row.provider_sid.as_deref(),
        Some("CA22222222222222222222222222222222")
    );
    let received = server.received_requests().await.expect("recorded");
    let mut form = form_of(&received[0]);
    form.sort();
    assert_eq!(
        form,
        vec![
            ("From".to_string(), FROM.to_string()),
            ("To".to_string(), TO.to_string()),
            (
                "Twiml".to_string(),
                "<Response><Say language=\"en-US\">Order &lt;A-1&gt; &amp; more</Say></Response>"
                    .to_string()
            ),
        ]
    );
    t.cleanup().await;
}

#[tokio::test]
async fn twilio_refusal_is_stored_as_failed_and_returned() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/2010-04-01/Accounts/{SID}/Messages.json")))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "code": 21211,
            "message": format!("The 'To' number {TO} is not a valid phone number."),
            "more_info": "https://www.twilio.com/docs/errors/21211",
            "status": 400,
        })))
        .mount(&server)
        .await;
    let t = sqlite().await;
    let client = TwilioClient::from_config(&twilio_config(&server.uri())).expect("client");
    let provider = SmsProvider::Twilio(client);
    let err = provider
        .send_sms(&t.db, T0, None, TO, "hello", "agent@example.com")
        .await
        .expect_err("Twilio refused");
    let Error::Invalid(message) = &err else {
        panic!("a 4xx is the caller's problem: {err:?}");
    };
    assert!(message.contains("21211"), "{message}");
    assert!(
        !message.contains("4915112345678"),
        "number leaked: {message}"
    );

    let rows = sms::list(&t.db, None, 10).await.expect("list");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, "failed");
    assert_eq!(rows[0].provider_sid, None);
    let stored = rows[0].error.as_deref().expect("error stored");
    assert!(stored.contains("is not a valid phone number"), "{stored}");
    assert!(stored.contains("21211"), "{stored}");

    // A server error is ours to log, not the agent's to fix.
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("down"))
        .mount(&server)
        .await;
    let err = provider
        .send_sms(&t.db, T0, None, TO, "hello", "agent@example.com")
        .await
        .expect_err("Twilio down");
    assert!(matches!(err, Error::Internal(_)), "{err:?}");
    t.cleanup().await;
}

#[tokio::test]
async fn twilio_unreachable_fails_without_hanging() {
    // Nothing listens on this port once the listener is dropped.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let t = sqlite().await;
    let provider = SmsProvider::from_config(&twilio_config(&base)).expect("provider");
    let err = provider
        .send_sms(&t.db, T0, None, TO, "hello", "agent@example.com")
        .await
        .expect_err("no Twilio");
    assert!(matches!(err, Error::Internal(_)), "{err:?}");
    let rows = sms::list(&t.db, None, 10).await.expect("list");
    assert_eq!(rows[0].status, "failed");
    t.cleanup().await;
}

#[tokio::test]
async fn bad_input_is_refused_before_any_request() {
    let t = sqlite().await;
    let provider = SmsProvider::Capture;
    for (to, body) in [("015112345678", "hi"), (TO, "   "), (TO, &"x".repeat(1601))] {
        let err = provider
            .send_sms(&t.db, T0, None, to, body, "agent@example.com")
            .await
            .expect_err("refused");
        assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    }
    assert!(sms::list(&t.db, None, 10).await.expect("list").is_empty());
    t.cleanup().await;
}

#[tokio::test]
async fn capture_stores_messages_and_calls_on_both_backends() {
    for t in all_backends().await {
        let db = &t.db;
        let order_id = new_order(db, "SMS-1").await;
        let provider = SmsProvider::from_config(&SmsConfig::default()).expect("capture");
        assert_eq!(provider.name(), "capture");
        let sms_row = provider
            .send_sms(
                db,
                T0,
                Some(order_id),
                TO,
                "Your receipt: https://r.example.com/r/x",
                "agent@example.com",
            )
            .await
            .expect("captured");
        let call_row = provider
            .start_call(
                db,
                T0 + 1,
                Some(order_id),
                TO,
                "Hello from the shop",
                &engine::i18n::Lang::default(),
                "agent@example.com",
            )
            .await
            .expect("captured");
        assert_eq!(sms_row.status, "captured");
        assert_eq!(sms_row.provider, "capture");
        assert_eq!(sms_row.provider_sid, None);
        assert_eq!(sms_row.order_id, Some(order_id));
        assert_eq!(call_row.kind, "call");
        assert_eq!(call_row.created_at, T0 + 1);

        let captured = sms::list_captured(db, 50).await.expect("list");
        assert_eq!(
            captured.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![call_row.id, sms_row.id],
            "[{}] newest first",
            db.backend_name()
        );
        assert_eq!(
            sms::for_order(db, order_id).await.expect("for order").len(),
            2
        );
        assert_eq!(sms::get(db, sms_row.id).await.expect("get"), Some(sms_row));
        t.cleanup().await;
    }
}

#[tokio::test]
async fn delivered_status_marks_the_order_reached_on_both_backends() {
    for t in all_backends().await {
        let db = &t.db;
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
                "sid": "SM33333333333333333333333333333333", "status": "queued",
            })))
            .mount(&server)
            .await;
        let order_id = new_order(db, "SMS-2").await;
        let provider = SmsProvider::from_config(&twilio_config(&server.uri())).expect("provider");
        provider
            .send_sms(db, T0, Some(order_id), TO, "receipt", "agent@example.com")
            .await
            .expect("sent");
        let sid = "SM33333333333333333333333333333333";

        let row = sms::record_status(db, T0 + 1_000, sid, "sent")
            .await
            .expect("status")
            .expect("known sid");
        assert_eq!(row.status, "sent");
        let order = orders::get(db, order_id)
            .await
            .expect("get")
            .expect("order");
        assert_eq!(order.reached_at, None);

        let row = sms::record_status(db, T0 + 2_000, sid, "delivered")
            .await
            .expect("status")
            .expect("known sid");
        assert_eq!(row.status, "delivered");
        assert_eq!(row.updated_at, T0 + 2_000);
        let order = orders::get(db, order_id)
            .await
            .expect("get")
            .expect("order");
        assert_eq!(
            order.reached_at,
            Some(T0 + 2_000),
            "[{}]",
            db.backend_name()
        );
        assert_eq!(order.reached_via.as_deref(), Some("sms_delivered"));

        // A late `sent` does not undo `delivered`; unknown sids change nothing.
        let row = sms::record_status(db, T0 + 3_000, sid, "sent")
            .await
            .expect("status")
            .expect("known sid");
        assert_eq!(row.status, "delivered");
        assert_eq!(
            sms::record_status(db, T0, "SM-unknown", "delivered")
                .await
                .expect("status"),
            None
        );
        assert!(sms::record_status(db, T0, sid, "<script>").await.is_err());
        t.cleanup().await;
    }
}
