//! What the customer gets outside e-mail follows the order's language
//! (`customer.locale`, else `shop.default_locale`, else English), on both
//! databases: the WhatsApp text and the Twilio template (`ContentSid`) of
//! that language, the agent's call spoken in it (`<Say language="id-ID">`)
//! with the text it promises, and the account notification of a logged-in
//! customer. Twilio is a local HTTP server that records every request.

use engine::config::{Config, SmsConfig, WhatsappConfig, WhatsappTemplate};
use engine::delivery::pools::{self, NewPool};
use engine::delivery::worker::Worker;
use engine::fallback::notifications;
use engine::fallback::support::{self, PhoneReach};
use engine::links;
use engine::orders::{self, AccountKind};
use engine::periodic::Periodic;
use engine::sms::{SmsProvider, WhatsappProvider};
use engine::testing::all_backends;
use engine::testing::fixtures;
use engine::testing::smtp_server::{Script, ScriptedSmtpServer};
use engine::{Clock, Db, ManualClock};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

const T0: i64 = 1_800_000_000_000;
const MIN: i64 = 60_000;
const PHONE: &str = "+6281234567890";
const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "locale-test-token";
const SENDER: &str = "+14155238886";
const EN_SID: &str = "HX0123456789abcdef0123456789abcdef";
const ID_SID: &str = "HXfedcba9876543210fedcba9876543210";
const BASE: &str = "https://receipts.toko.example";

struct Customer<'a> {
    locale: Option<&'a str>,
    kind: AccountKind,
    customer_ref: Option<&'a str>,
    whatsapp_opt_in: bool,
}

fn order(number: &str, email: &str, c: Customer<'_>) -> orders::ValidOrder {
    let mut input = fixtures::order_input(number, email);
    input.customer.phone = Some(PHONE.into());
    input.customer.locale = c.locale.map(Into::into);
    input.customer.account_kind = c.kind;
    input.customer.customer_ref = c.customer_ref.map(Into::into);
    input.customer.whatsapp_opt_in = c.whatsapp_opt_in;
    input.validate().expect("valid order")
}

fn guest(locale: Option<&str>) -> Customer<'_> {
    Customer {
        locale,
        kind: AccountKind::Guest,
        customer_ref: None,
        whatsapp_opt_in: true,
    }
}

async fn stored(db: &Db, number: &str) -> orders::Order {
    orders::find_by_number(db, number)
        .await
        .expect("query")
        .expect("order")
}

async fn store(db: &Db, number: &str, email: &str, c: Customer<'_>) -> orders::Order {
    orders::intake(db, T0, order(number, email, c), None)
        .await
        .expect("intake");
    stored(db, number).await
}

fn config(default_locale: Option<&str>) -> Config {
    let mut config = Config::default();
    config.delivery.smtp_timeout_seconds = 5;
    config.public_url = Some(BASE.into());
    config.shop.name = "Toko Bali".into();
    config.shop.default_locale = default_locale.map(Into::into);
    config
}

fn whatsapp_twilio(base: &str) -> WhatsappConfig {
    let t = |sid: &str| WhatsappTemplate {
        content_sid: sid.into(),
        variables: vec!["order_number".into(), "link".into()],
    };
    WhatsappConfig {
        provider: "twilio".into(),
        twilio_base_url: base.into(),
        twilio_account_sid: Some(ACCOUNT.into()),
        twilio_auth_token: Some(TOKEN.into()),
        from_number: Some(SENDER.into()),
        templates: BTreeMap::from([("en".into(), t(EN_SID)), ("id".into(), t(ID_SID))]),
        ..WhatsappConfig::default()
    }
}

/// Twilio's answer: `201` with a new sid for every message or call.
struct Created {
    prefix: &'static str,
    next: AtomicUsize,
}

impl Respond for Created {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let sid = format!("{}{n:032x}", self.prefix);
        ResponseTemplate::new(201)
            .set_body_json(serde_json::json!({ "sid": sid, "status": "queued" }))
    }
}

/// A Twilio double answering every message and call.
async fn fake_twilio() -> MockServer {
    let server = MockServer::start().await;
    for (resource, prefix) in [("Messages.json", "SM"), ("Calls.json", "CA")] {
        Mock::given(method("POST"))
            .and(path(format!("/2010-04-01/Accounts/{ACCOUNT}/{resource}")))
            .respond_with(Created {
                prefix,
                next: AtomicUsize::new(1),
            })
            .mount(&server)
            .await;
    }
    server
}

/// The form of the last request Twilio got for `resource`.
async fn last_form(server: &MockServer, resource: &str) -> BTreeMap<String, String> {
    let received = server.received_requests().await.expect("recorded");
    let req = received
        .iter()
        .rev()
        .find(|r| r.url.path().ends_with(resource))
        .unwrap_or_else(|| panic!("no request to {resource}"));
    form_urlencoded::parse(&req.body).into_owned().collect()
}

fn link_in(text: &str) -> &str {
    let start = text
        .find(&format!("{BASE}/r/"))
        .expect("a link in the text");
    &text[start..start + BASE.len() + 3 + 43]
}

#[tokio::test]
async fn whatsapp_text_and_template_follow_the_orders_language() {
    let server = fake_twilio().await;
    for t in all_backends().await {
        let b = t.db.backend_name();
        // (order number, customer.locale, shop.default_locale, template, text)
        let cases = [
            (
                format!("WID-{b}"),
                Some("id"),
                None,
                ID_SID,
                "Toko Bali: struk pesanan {n} Anda sudah siap. Lihat di sini: ",
            ),
            (
                format!("WIR-{b}"),
                Some("id-ID"),
                Some("en"),
                ID_SID,
                "Toko Bali: struk pesanan {n} Anda sudah siap. Lihat di sini: ",
            ),
            (
                format!("WEN-{b}"),
                Some("en"),
                Some("id"),
                EN_SID,
                "Toko Bali: your receipt for order {n} is ready. View it here: ",
            ),
            (
                format!("WSH-{b}"),
                None,
                Some("id"),
                ID_SID,
                "Toko Bali: struk pesanan {n} Anda sudah siap. Lihat di sini: ",
            ),
            (
                format!("WNO-{b}"),
                None,
                None,
                EN_SID,
                "Toko Bali: your receipt for order {n} is ready. View it here: ",
            ),
        ];
        for (number, locale, shop_default, sid, text) in cases {
            let mut cfg = config(shop_default);
            cfg.whatsapp = whatsapp_twilio(&server.uri());
            let o = store(&t.db, &number, "putu@example.com", guest(locale)).await;
            let issued = links::issue(&t.db, T0, &o, "whatsapp", "agent", 3_600_000)
                .await
                .expect("link");
            let provider = WhatsappProvider::from_app_config(&cfg)
                .expect("provider")
                .expect("configured");
            let row = provider
                .send_link(&t.db, T0, &cfg, &o, &issued, "agent@example.com")
                .await
                .expect("sent");
            let url = issued.url(BASE);
            let want = format!("{}{url}", text.replace("{n}", &number));
            assert_eq!(row.body, want, "{b} {number}");

            let form = last_form(&server, "Messages.json").await;
            assert_eq!(form["ContentSid"], sid, "{b} {number}");
            let vars: serde_json::Value =
                serde_json::from_str(&form["ContentVariables"]).expect("json");
            assert_eq!(
                vars,
                serde_json::json!({ "1": number, "2": url }),
                "{b} {number}"
            );

            // The capture provider keeps the same words.
            let captured = WhatsappProvider::Capture
                .send_link(&t.db, T0, &cfg, &o, &issued, "agent@example.com")
                .await
                .expect("captured");
            assert_eq!(captured.body, want, "{b} {number}: captured");
        }
        t.cleanup().await;
    }
}

#[tokio::test]
async fn the_call_speaks_the_orders_language_and_the_text_follows_in_it() {
    let server = fake_twilio().await;
    let sms = SmsConfig {
        provider: "twilio".into(),
        twilio_base_url: server.uri(),
        twilio_account_sid: Some(ACCOUNT.into()),
        twilio_auth_token: Some(TOKEN.into()),
        from_number: Some(SENDER.into()),
    };
    let provider = SmsProvider::from_config(&sms).expect("provider");
    for t in all_backends().await {
        let b = t.db.backend_name();
        // (order number, customer.locale, shop.default_locale, <Say> language, said, texted)
        let cases = [
            (
                format!("CID-{b}"),
                Some("id"),
                None,
                "id-ID",
                "Halo, ini dari Toko Batik tentang pesanan Anda {n}. Kami tidak dapat mengirim struk Anda melalui email. Kami sedang mengirimkan SMS berisi tautan aman ke struk tersebut.",
                "Toko Batik: struk pesanan {n} Anda: ",
            ),
            (
                format!("CSH-{b}"),
                None,
                Some("id-ID"),
                "id-ID",
                "Halo, ini dari Toko Batik tentang pesanan Anda {n}. Kami tidak dapat mengirim struk Anda melalui email. Kami sedang mengirimkan SMS berisi tautan aman ke struk tersebut.",
                "Toko Batik: struk pesanan {n} Anda: ",
            ),
            (
                format!("CEN-{b}"),
                Some("en"),
                Some("id"),
                "en-US",
                "Hello, this is Toko Batik about your order {n}. We could not email your receipt. We are sending you a text message with a secure link to it now.",
                "Toko Batik: your receipt for order {n}: ",
            ),
        ];
        for (number, locale, shop_default, language, said, texted) in cases {
            let o = store(&t.db, &number, "putu@example.com", guest(locale)).await;
            let reach = PhoneReach {
                provider: &provider,
                shop_name: "Toko Batik",
                base_url: BASE,
                link_ttl_ms: 3_600_000,
                default_locale: shop_default,
            };
            let (call, text) = support::call_and_text(&t.db, T0, &o, &reach, "sara@shop.test")
                .await
                .expect("call and text");
            let said = said.replace("{n}", &number);
            assert_eq!(call.body, said, "{b} {number}");
            let form = last_form(&server, "Calls.json").await;
            assert_eq!(
                form["Twiml"],
                if language == "id-ID" {
                    // Twilio's default voice does not speak Indonesian.
                    format!(
                        "<Response><Say voice=\"Google.id-ID-Standard-A\" language=\"id-ID\">{said}</Say></Response>"
                    )
                } else {
                    format!("<Response><Say language=\"{language}\">{said}</Say></Response>")
                },
                "{b} {number}"
            );
            let texted = texted.replace("{n}", &number);
            assert_eq!(
                text.body,
                format!("{texted}{}", link_in(&text.body)),
                "{b} {number}"
            );
            assert_eq!(
                last_form(&server, "Messages.json").await["Body"],
                text.body,
                "{b} {number}"
            );
        }
        t.cleanup().await;
    }
}

/// A worker whose only relay refuses every recipient (a dead address: the
/// order is held at once and the fallback decides).
async fn refusing_worker(
    db: &Db,
    clock: &ManualClock,
    config: &Config,
) -> (Worker, ScriptedSmtpServer) {
    let relay = ScriptedSmtpServer::start().await.expect("smtp");
    for who in ["ketut@example.com", "jane@example.com", "wayan@example.com"] {
        relay.script(who, Script::RejectRcpt(550, "5.1.1 User unknown"));
    }
    pools::create(
        db,
        T0,
        NewPool {
            name: "primary",
            role: engine::delivery::pools::PoolRole::Primary,
            from_name: "Toko",
            from_address: "primary@toko.example",
            relay_url: &format!("smtp://{}", relay.addr()),
            max_per_second: 8,
            position: 0,
        },
    )
    .await
    .expect("pool");
    let w = Worker::new(
        db.clone(),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
        config,
    )
    .expect("worker");
    (w, relay)
}

#[tokio::test]
async fn the_account_notification_is_in_the_orders_language() {
    for t in all_backends().await {
        let b = t.db.backend_name();
        let clock = ManualClock::new(T0);
        let cfg = config(Some("id"));
        let (w, _relay) = refusing_worker(&t.db, &clock, &cfg).await;
        // (order number, email, customer.locale, customer ref)
        let cases = [
            ("NID-1", "ketut@example.com", Some("id"), "cust-id"),
            ("NEN-1", "jane@example.com", Some("en"), "cust-en"),
            ("NSH-1", "wayan@example.com", None, "cust-shop"),
        ];
        for (number, email, locale, customer_ref) in cases {
            let c = Customer {
                locale,
                kind: AccountKind::LoggedIn,
                customer_ref: Some(customer_ref),
                whatsapp_opt_in: false,
            };
            store(&t.db, number, email, c).await;
        }
        let periodic = Periodic::for_worker(&w);
        for _ in 0..6 {
            w.run_once().await.expect("send");
            periodic.tick().await.expect("periodic round");
            clock.advance_ms(MIN);
        }
        let indonesian = |n: &str| {
            format!(
                "Kami tidak dapat mengirim struk untuk pesanan {n} dari Toko Bali melalui email. Anda dapat melihat dan mengunduhnya di sini, di akun Anda."
            )
        };
        let english = |n: &str| {
            format!(
                "We could not email your receipt for order {n} from Toko Bali. You can view and download it here in your account."
            )
        };
        for (number, customer_ref, want) in [
            ("NID-1", "cust-id", indonesian("NID-1")),
            ("NEN-1", "cust-en", english("NEN-1")),
            // No customer.locale: the shop's default language.
            ("NSH-1", "cust-shop", indonesian("NSH-1")),
        ] {
            let o = stored(&t.db, number).await;
            assert_eq!(
                o.fallback_path.as_deref(),
                Some("notification"),
                "{b} {number}"
            );
            let list = notifications::for_customer(&t.db, customer_ref, 10)
                .await
                .expect("list");
            assert_eq!(list.len(), 1, "{b} {number}");
            assert_eq!(list[0].kind, "receipt_held", "{b} {number}");
            assert_eq!(list[0].message, want, "{b} {number}");
        }
        t.cleanup().await;
    }
}

/// A high-risk logged-in order gets its receipt in the account at intake
/// (before e-mail can fail); that notice is in the order's language too,
/// else the shop's default (the API passes it to `prepare_intake`).
#[tokio::test]
async fn the_high_risk_notice_at_intake_is_in_the_orders_language() {
    use engine::risk::{Assessment, NetworkKind, NetworkVerdict};
    let high = Assessment {
        network: NetworkVerdict {
            kind: NetworkKind::Vpn,
            name: Some("Sample VPN".into()),
            asn: None,
            country: None,
            source: "list:test".into(),
        },
        score: 90,
        factors: Vec::new(),
        typo_fix: None,
        high: true,
        route_pool_id: None,
    };
    for t in all_backends().await {
        let b = t.db.backend_name();
        // (order number, customer.locale, the shop's default, what the notice says)
        let cases = [
            (
                "HID-1",
                Some("id"),
                None,
                "Struk untuk pesanan HID-1 siap diunduh.",
            ),
            (
                "HEN-1",
                Some("en"),
                Some("id"),
                "Your receipt for order HEN-1 is ready to download.",
            ),
            (
                "HSH-1",
                None,
                Some("id"),
                "Struk untuk pesanan HSH-1 siap diunduh.",
            ),
            (
                "HNO-1",
                None,
                None,
                "Your receipt for order HNO-1 is ready to download.",
            ),
        ];
        for (number, locale, shop_default, want) in cases {
            let customer_ref = format!("ref-{number}");
            let c = Customer {
                locale,
                kind: AccountKind::LoggedIn,
                customer_ref: Some(&customer_ref),
                whatsapp_opt_in: false,
            };
            let valid = order(number, &format!("{number}@example.com"), c);
            let prepared = orders::prepare_intake(T0, valid, None, Some(&high), shop_default)
                .expect("prepare");
            orders::insert_prepared(&t.db, &[&prepared])
                .await
                .expect("insert");
            let list = notifications::for_customer(&t.db, &customer_ref, 10)
                .await
                .expect("list");
            assert_eq!(list.len(), 1, "{b} {number}");
            assert_eq!(list[0].kind, "receipt_ready", "{b} {number}");
            assert_eq!(list[0].message, want, "{b} {number}");
        }
        t.cleanup().await;
    }
}
