//! WhatsApp as a channel beside SMS, on both databases: a held guest order
//! whose customer opted in gets its secure link on WhatsApp from the fallback
//! (captured in development; never without the opt-in), and the Twilio
//! provider sends the request Twilio documents for template messages
//! (`whatsapp:` addresses, basic auth, `ContentSid`, `ContentVariables`)
//! against a local HTTP server.

use base64::Engine as _;
use engine::config::{Config, WhatsappConfig, WhatsappTemplate};
use engine::delivery::pools::{self, NewPool};
use engine::delivery::worker::Worker;
use engine::fallback::support;
use engine::links::{self, Lookup};
use engine::orders::{self, AccountKind, CustomerInput, ItemInput, OrderInput, TotalsInput};
use engine::periodic::Periodic;
use engine::sms::{self, SmsRecord, WhatsappProvider, whatsapp};
use engine::testing::all_backends;
use engine::testing::smtp_server::{Script, ScriptedSmtpServer};
use engine::{Clock, Db, ManualClock, on_pool};
use std::sync::Arc;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const T0: i64 = 1_800_000_000_000;
const MIN: i64 = 60_000;
const PHONE: &str = "+6281234567890";
const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "whatsapp-test-token";
const SENDER: &str = "+14155238886";
const EN_SID: &str = "HX0123456789abcdef0123456789abcdef";
const ID_SID: &str = "HXfedcba9876543210fedcba9876543210";

fn order(number: &str, email: &str, kind: AccountKind, opt_in: bool) -> orders::ValidOrder {
    OrderInput {
        order_number: number.into(),
        placed_at: "2026-11-27T21:00:00Z".into(),
        currency: "IDR".into(),
        items: vec![ItemInput {
            name: "Batik".into(),
            quantity: 1,
            unit_price: 15_000,
        }],
        totals: TotalsInput {
            subtotal: 15_000,
            tax: 0,
            shipping: 0,
            discount: 0,
            total: 15_000,
        },
        customer: CustomerInput {
            email: email.into(),
            name: "Putu Sari".into(),
            phone: Some(PHONE.into()),
            account_kind: kind,
            customer_ref: None,
            whatsapp_opt_in: opt_in,
            locale: None,
        },
        client_ip: None,
        billing_address: None,
    }
    .validate()
    .expect("valid order")
}

fn templates() -> std::collections::BTreeMap<String, WhatsappTemplate> {
    let t = |sid: &str| WhatsappTemplate {
        content_sid: sid.into(),
        variables: vec!["customer_name".into(), "order_number".into(), "link".into()],
    };
    [("en".to_string(), t(EN_SID)), ("id".to_string(), t(ID_SID))].into()
}

fn config(whatsapp: WhatsappConfig) -> Config {
    let mut config = Config::default();
    config.delivery.smtp_timeout_seconds = 5;
    config.public_url = Some("https://receipts.toko.example".into());
    config.shop.name = "Toko Bali".into();
    config.whatsapp = whatsapp;
    config
}

fn capture() -> WhatsappConfig {
    WhatsappConfig {
        provider: "capture".into(),
        ..WhatsappConfig::default()
    }
}

fn twilio(base: &str) -> WhatsappConfig {
    WhatsappConfig {
        provider: "twilio".into(),
        twilio_base_url: base.into(),
        twilio_account_sid: Some(ACCOUNT.into()),
        twilio_auth_token: Some(TOKEN.into()),
        from_number: Some(SENDER.into()),
        templates: templates(),
        ..WhatsappConfig::default()
    }
}

async fn get(db: &Db, number: &str) -> orders::Order {
    orders::find_by_number(db, number)
        .await
        .expect("query")
        .expect("order")
}

async fn whatsapp_rows(db: &Db, order_id: i64) -> Vec<SmsRecord> {
    sms::for_order(db, order_id)
        .await
        .expect("rows")
        .into_iter()
        .filter(|r| r.kind == "whatsapp")
        .collect()
}

fn token_in(text: &str) -> String {
    let start = text.find("/r/").expect("a link in the message") + 3;
    text[start..start + 43].to_string()
}

/// A worker on one pool whose relay refuses both recipients outright (a dead
/// address: held at once), and one masked pool that must stay unused.
async fn worker(db: &Db, clock: &ManualClock, config: &Config) -> (Worker, ScriptedSmtpServer) {
    let relay = ScriptedSmtpServer::start().await.expect("smtp");
    for who in ["putu@example.com", "made@example.com"] {
        relay.script(who, Script::RejectRcpt(550, "5.1.1 User unknown"));
    }
    for (name, role, pos) in [("primary", "primary", 0), ("masked", "masked", 1)] {
        pools::create(
            db,
            T0,
            NewPool {
                name,
                role: role.parse().expect("primary, backup or masked"),
                from_name: "Toko",
                from_address: &format!("{name}@toko.example"),
                relay_url: &format!("smtp://{}", relay.addr()),
                max_per_second: 8,
                position: pos,
            },
        )
        .await
        .expect("pool");
    }
    let w = Worker::new(
        db.clone(),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
        config,
    )
    .expect("worker");
    (w, relay)
}

#[tokio::test]
async fn a_held_guest_who_opted_in_gets_the_secure_link_on_whatsapp() {
    for t in all_backends().await {
        let b = t.db.backend_name();
        let clock = ManualClock::new(T0);
        let cfg = config(capture());
        let (w, relay) = worker(&t.db, &clock, &cfg).await;
        for (number, email, opt_in) in [
            ("WA-1", "putu@example.com", true),
            ("WA-2", "made@example.com", false),
        ] {
            orders::intake(
                &t.db,
                T0,
                order(number, email, AccountKind::Guest, opt_in),
                None,
            )
            .await
            .expect("intake");
        }
        let periodic = Periodic::for_worker(&w);
        for _ in 0..6 {
            w.run_once().await.expect("send");
            periodic.tick().await.expect("periodic round");
            clock.advance_ms(MIN);
        }

        // Opted in: the link went on WhatsApp, no support case was needed.
        let o = get(&t.db, "WA-1").await;
        assert_eq!(o.state, "held", "{b}");
        assert!(o.whatsapp_opt_in, "{b}");
        assert_eq!(o.fallback_path.as_deref(), Some("whatsapp_link"), "{b}");
        assert!(
            o.fallback_why
                .as_deref()
                .is_some_and(|w| w.contains("WhatsApp")),
            "{b}: {:?}",
            o.fallback_why
        );
        let rows = whatsapp_rows(&t.db, o.id).await;
        assert_eq!(rows.len(), 1, "{b}: sent once, however many ticks");
        let row = &rows[0];
        assert_eq!(
            (
                row.provider.as_str(),
                row.status.as_str(),
                row.to_phone.as_str()
            ),
            ("capture", "captured", PHONE),
            "{b}"
        );
        assert_eq!(row.requested_by, whatsapp::FALLBACK_BY);
        assert!(
            row.body
                .starts_with("Toko Bali: your receipt for order WA-1"),
            "{b}: {}",
            row.body
        );
        assert!(
            row.body.contains("https://receipts.toko.example/r/"),
            "{b}: {}",
            row.body
        );
        match links::lookup(&t.db, clock.now_ms(), &token_in(&row.body))
            .await
            .expect("lookup")
        {
            Lookup::Valid { order, link } => {
                assert_eq!(order.order_number, "WA-1", "{b}");
                assert_eq!(link.channel, "whatsapp", "{b}");
            }
            other => panic!("{b}: the captured link does not open the receipt: {other:?}"),
        }
        assert!(
            support::for_order(&t.db, o.id).await.expect("q").is_none(),
            "{b}"
        );
        assert!(
            sms::list_captured(&t.db, 50)
                .await
                .expect("outbox")
                .iter()
                .any(|r| r.id == row.id && r.kind == "whatsapp"),
            "{b}: the Outbox lists it"
        );

        // Not opted in: never on WhatsApp; a dead address goes to support.
        let o2 = get(&t.db, "WA-2").await;
        assert_eq!(o2.fallback_path.as_deref(), Some("critical"), "{b}");
        assert!(whatsapp_rows(&t.db, o2.id).await.is_empty(), "{b}");
        let refused = WhatsappProvider::Capture
            .send_link(
                &t.db,
                clock.now_ms(),
                &cfg,
                &o2,
                &links::issue(&t.db, clock.now_ms(), &o2, "whatsapp", "agent", 3_600_000)
                    .await
                    .expect("link"),
                "agent@example.com",
            )
            .await;
        assert!(
            matches!(&refused, Err(engine::Error::Invalid(m)) if m.contains("not agreed")),
            "{b}: {refused:?}"
        );
        assert!(whatsapp_rows(&t.db, o2.id).await.is_empty(), "{b}");
        // The email relay saw each address once: no masked re-send either.
        assert_eq!(
            relay.received().len(),
            0,
            "{b}: refused recipients carry no message"
        );
        t.cleanup().await;
    }
}

#[tokio::test]
async fn without_a_whatsapp_provider_the_fallback_stays_on_email() {
    for t in all_backends().await {
        let b = t.db.backend_name();
        let clock = ManualClock::new(T0);
        let cfg = config(WhatsappConfig::default());
        let (w, _relay) = worker(&t.db, &clock, &cfg).await;
        orders::intake(
            &t.db,
            T0,
            order("WA-3", "putu@example.com", AccountKind::Guest, true),
            None,
        )
        .await
        .expect("intake");
        let periodic = Periodic::for_worker(&w);
        for _ in 0..6 {
            w.run_once().await.expect("send");
            periodic.tick().await.expect("periodic round");
            clock.advance_ms(MIN);
        }
        let o = get(&t.db, "WA-3").await;
        assert_eq!(o.fallback_path.as_deref(), Some("critical"), "{b}");
        assert!(whatsapp_rows(&t.db, o.id).await.is_empty(), "{b}");
        t.cleanup().await;
    }
}

fn basic_auth() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"))
    )
}

#[tokio::test]
async fn twilio_gets_the_template_request_it_documents() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
        )))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "sid": "SM55555555555555555555555555555555",
            "status": "queued",
            "to": format!("whatsapp:{PHONE}"),
        })))
        .mount(&server)
        .await;
    for t in all_backends().await {
        let b = t.db.backend_name();
        let cfg = config(twilio(&server.uri()));
        let provider = WhatsappProvider::from_app_config(&cfg)
            .expect("provider")
            .expect("configured");
        assert_eq!(provider.name(), "twilio");
        let o = orders::intake(
            &t.db,
            T0,
            order(
                &format!("WT-{b}"),
                "putu@example.com",
                AccountKind::Guest,
                true,
            ),
            None,
        )
        .await
        .expect("intake")
        .order()
        .clone();
        let issued = links::issue(&t.db, T0, &o, "whatsapp", "agent@example.com", 3_600_000)
            .await
            .expect("link");
        let row = provider
            .send_link(&t.db, T0, &cfg, &o, &issued, "agent@example.com")
            .await
            .expect("sent");
        assert_eq!(
            (
                row.kind.as_str(),
                row.provider.as_str(),
                row.status.as_str()
            ),
            ("whatsapp", "twilio", "queued"),
            "{b}"
        );
        assert_eq!(
            row.provider_sid.as_deref(),
            Some("SM55555555555555555555555555555555")
        );

        let received = server.received_requests().await.expect("recorded");
        let req = received.last().expect("a request");
        assert_eq!(
            req.headers
                .get("authorization")
                .and_then(|v| v.to_str().ok()),
            Some(basic_auth().as_str()),
            "{b}"
        );
        assert_eq!(
            req.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/x-www-form-urlencoded")
        );
        let form: std::collections::BTreeMap<String, String> =
            form_urlencoded::parse(&req.body).into_owned().collect();
        assert_eq!(
            form.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "ContentSid",
                "ContentVariables",
                "From",
                "StatusCallback",
                "To"
            ],
            "{b}: no Body with a template"
        );
        assert_eq!(form["To"], format!("whatsapp:{PHONE}"));
        assert_eq!(form["From"], format!("whatsapp:{SENDER}"));
        assert_eq!(
            form["ContentSid"], EN_SID,
            "no locale: the default language"
        );
        assert_eq!(
            form["StatusCallback"],
            "https://receipts.toko.example/hooks/twilio/status"
        );
        let vars: serde_json::Value =
            serde_json::from_str(&form["ContentVariables"]).expect("ContentVariables is JSON");
        assert_eq!(
            vars,
            serde_json::json!({
                "1": "Putu Sari",
                "2": o.order_number,
                "3": issued.url("https://receipts.toko.example"),
            }),
            "{b}"
        );
        t.cleanup().await;
    }
}

#[tokio::test]
async fn a_twilio_refusal_is_stored_and_the_fallback_goes_to_support() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/2010-04-01/Accounts/{ACCOUNT}/Messages.json")))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "code": 63016,
            "message": format!("Failed to send freeform message to whatsapp:{PHONE} outside the allowed window."),
            "status": 400,
        })))
        .mount(&server)
        .await;
    for t in all_backends().await {
        let b = t.db.backend_name();
        let cfg = config(twilio(&server.uri()));
        let o = orders::intake(
            &t.db,
            T0,
            order("WR-1", "putu@example.com", AccountKind::Guest, true),
            None,
        )
        .await
        .expect("intake")
        .order()
        .clone();
        let sent = engine::fallback::whatsapp::send_fallback_link(&t.db, T0, &cfg, &o)
            .await
            .expect("handled");
        assert!(sent.is_none(), "{b}");
        let rows = whatsapp_rows(&t.db, o.id).await;
        assert_eq!(rows.len(), 1, "{b}");
        assert_eq!(rows[0].status, "failed", "{b}");
        let error = rows[0].error.clone().unwrap_or_default();
        assert!(error.contains("63016"), "{b}: {error}");
        assert!(
            !error.contains("81234567890"),
            "{b}: the number is masked: {error}"
        );
        let case = support::for_order(&t.db, o.id)
            .await
            .expect("q")
            .expect("a case");
        assert_eq!(case.priority, 1, "{b}");
        assert!(case.reason.contains("WhatsApp"), "{b}: {}", case.reason);
        // Taken over after a crash: nothing is sent twice.
        assert!(
            engine::fallback::whatsapp::send_fallback_link(&t.db, T0, &cfg, &o)
                .await
                .expect("again")
                .is_none()
        );
        let requests: i64 = on_pool!(&t.db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM sms_messages WHERE order_id = $1"
        ).bind(o.id).fetch_one(p).await)
        .expect("count");
        assert_eq!(requests, 1, "{b}");
        t.cleanup().await;
    }
}
