//! The providers added beside SES, SendGrid, Postmark and Mailgun, through the real HTTP
//! server on SQLite and PostgreSQL: each authenticated as it documents (Postal RSA, Svix for
//! Resend, MailerSend and Mandrill HMACs, basic auth for SparkPost, Brevo and Mailjet), its
//! documented payloads mapped to Rebound's kinds with its own hard/soft verdict, a bad or
//! missing authentication refused with 401 and a malformed body with 400.

mod esp_support;
mod support;

use engine::bounce::esp::mailersend::MailerSendVerifier;
use engine::bounce::esp::mandrill::{self, MandrillVerifier};
use engine::bounce::esp::postal;
use engine::bounce::esp::resend::SvixVerifier;
use esp_support::*;
use serde_json::{Value, json};
use support::{TestServer, servers};

const OTHER_KEY: &str = include_str!("../../engine/src/bounce/esp/fixtures/sns-other-key.pem");

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../engine/src/bounce/esp/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn owned(kinds: &[(&str, bool)]) -> Vec<(String, bool)> {
    kinds.iter().map(|(k, h)| (k.to_string(), *h)).collect()
}

/// Posts a good request, then the same with bad and with no authentication, then junk.
async fn check(
    srv: &TestServer,
    provider: &str,
    body: Vec<u8>,
    good: Vec<(&'static str, String)>,
    bad: Vec<(&'static str, String)>,
    junk: (Vec<u8>, Vec<(&'static str, String)>),
) -> Value {
    let (status, answer) = post(srv, provider, body.clone(), &good).await;
    assert_eq!(status, 200, "{provider}: {answer}");
    let (status, _) = post(srv, provider, body.clone(), &bad).await;
    assert_eq!(status, 401, "{provider}: bad authentication");
    let (status, _) = post(srv, provider, body, &[]).await;
    assert_eq!(status, 401, "{provider}: no authentication");
    let (status, _) = post(srv, provider, junk.0, &junk.1).await;
    assert_eq!(status, 400, "{provider}: malformed");
    answer
}

#[tokio::test]
async fn every_provider_verifies_and_maps_its_events() {
    for srv in servers(config()).await {
        // ---- Postal ----
        let body = fixture("postal_delivery_failed.json");
        let sign = |key: &str, b: &[u8]| {
            let (s1, s256) = postal::sign(key, b).expect("sign");
            vec![("x-postal-signature", s1), ("x-postal-signature-256", s256)]
        };
        let junk = b"{\"event\":\"MessageSent\"}".to_vec();
        let a = check(
            &srv,
            "postal",
            body.clone(),
            sign(SNS_KEY, &body),
            sign(OTHER_KEY, &body),
            (junk.clone(), sign(SNS_KEY, &junk)),
        )
        .await;
        assert_eq!(kinds(&a), owned(&[("bounced", true)]));
        assert!(suppressed(&srv, "jane@example.com").await);
        let only_sha1 = vec![(
            "x-postal-signature",
            postal::sign(SNS_KEY, &body).expect("s").0,
        )];
        let (status, again) = post(&srv, "postal", body.clone(), &only_sha1).await;
        assert_eq!(
            (status, again["duplicates"].clone()),
            (200, json!(1)),
            "older Postal, same event"
        );

        // ---- SparkPost ----
        let body = fixture("sparkpost_batch.json");
        let a = check(
            &srv,
            "sparkpost",
            body,
            basic(SPARKPOST),
            basic("sparkpost:nope"),
            (b"{\"msys\":{}}".to_vec(), basic(SPARKPOST)),
        )
        .await;
        assert_eq!(
            kinds(&a),
            owned(&[
                ("bounced", true),
                ("bounced", false),
                ("bounced", false),
                ("deferred", false),
                ("delivered", false),
                ("complained", false),
                ("rejected", false),
                ("unsubscribed", false),
                ("bounced", true)
            ])
        );
        assert_eq!(a["unknown"], json!(["teleport"]));
        let (status, ping) = post(
            &srv,
            "sparkpost",
            b"[{\"msys\":{}}]".to_vec(),
            &basic(SPARKPOST),
        )
        .await;
        assert_eq!(
            (status, ping["events"].clone()),
            (200, json!(0)),
            "SparkPost's test ping"
        );

        // ---- Brevo ----
        let body = fixture("brevo_batch.json");
        let a = check(
            &srv,
            "brevo",
            body,
            basic(BREVO),
            basic("brevo:nope"),
            (b"{\"event\":".to_vec(), basic(BREVO)),
        )
        .await;
        assert_eq!(
            kinds(&a),
            owned(&[
                ("bounced", false),
                ("deferred", false),
                ("rejected", true),
                ("rejected", true),
                ("complained", false),
                ("unsubscribed", false),
                ("delivered", false),
                ("bounced", true)
            ])
        );
        let (status, one) = post(
            &srv,
            "brevo",
            fixture("brevo_hard_bounce.json"),
            &basic(BREVO),
        )
        .await;
        assert_eq!((status, kinds(&one)), (200, owned(&[("bounced", true)])));
        assert!(suppressed(&srv, "dead@example.com").await);

        // ---- Mailjet ----
        let body = fixture("mailjet_batch.json");
        let a = check(
            &srv,
            "mailjet",
            body,
            basic(MAILJET),
            basic("mailjet:nope"),
            (b"[1]".to_vec(), basic(MAILJET)),
        )
        .await;
        assert_eq!(
            kinds(&a),
            owned(&[
                ("delivered", false),
                ("bounced", true),
                ("bounced", false),
                ("rejected", true),
                ("rejected", false),
                ("complained", false),
                ("unsubscribed", false),
                ("bounced", true)
            ])
        );

        // ---- Resend (Svix) ----
        let body = fixture("resend_bounced.json");
        let svix = |secret: &str, b: &[u8]| {
            let v = SvixVerifier::new(secret).expect("secret");
            let ts = (srv.clock_now() / 1000).to_string();
            vec![
                ("svix-id", "msg_2kq".to_string()),
                ("svix-signature", v.sign("msg_2kq", &ts, b)),
                ("svix-timestamp", ts),
            ]
        };
        let junk = b"{\"type\":\"email.bounced\"}".to_vec();
        let a = check(
            &srv,
            "resend",
            body.clone(),
            svix(RESEND_SECRET, &body),
            svix("whsec_c2VjcmV0", &body),
            (junk.clone(), svix(RESEND_SECRET, &junk)),
        )
        .await;
        assert_eq!(
            kinds(&a),
            owned(&[("bounced", true), ("bounced", true)]),
            "one per recipient"
        );
        let stale = {
            let v = SvixVerifier::new(RESEND_SECRET).expect("secret");
            let ts = (srv.clock_now() / 1000 - 3600).to_string();
            vec![
                ("svix-id", "msg_old".to_string()),
                ("svix-signature", v.sign("msg_old", &ts, &body)),
                ("svix-timestamp", ts),
            ]
        };
        let (status, _) = post(&srv, "resend", body, &stale).await;
        assert_eq!(status, 401, "an hour-old signature");

        // ---- MailerSend ----
        let body = fixture("mailersend_hard_bounced.json");
        let ms =
            |secret: &str, b: &[u8]| vec![("signature", MailerSendVerifier::new(secret).sign(b))];
        let junk = b"[]".to_vec();
        let a = check(
            &srv,
            "mailersend",
            body.clone(),
            ms(MAILERSEND_SECRET, &body),
            ms("other", &body),
            (junk.clone(), ms(MAILERSEND_SECRET, &junk)),
        )
        .await;
        assert_eq!(kinds(&a), owned(&[("bounced", true)]));
        let soft = String::from_utf8(body)
            .expect("utf8")
            .replace("hard_bounced", "soft_bounced")
            .replace("62134a2d7de3253bf10d6642", "62134a2d7de3253bf10d6643");
        let (status, s) = post(
            &srv,
            "mailersend",
            soft.clone().into_bytes(),
            &ms(MAILERSEND_SECRET, soft.as_bytes()),
        )
        .await;
        assert_eq!((status, kinds(&s)), (200, owned(&[("bounced", false)])));

        // ---- Mandrill ----
        let events = String::from_utf8(fixture("mandrill_events.json")).expect("utf8");
        let body = mandrill::form_body(&events);
        let md = |key: &str, b: &[u8]| {
            let v = MandrillVerifier::new(key, MANDRILL_URL).expect("verifier");
            vec![
                ("x-mandrill-signature", v.sign(b)),
                (
                    "content-type",
                    "application/x-www-form-urlencoded".to_string(),
                ),
            ]
        };
        let junk = mandrill::form_body("{");
        let a = check(
            &srv,
            "mandrill",
            body.clone(),
            md(MANDRILL_KEY, &body),
            md("other", &body),
            (junk.clone(), md(MANDRILL_KEY, &junk)),
        )
        .await;
        assert_eq!(
            kinds(&a),
            owned(&[
                ("bounced", true),
                ("bounced", false),
                ("deferred", false),
                ("rejected", true),
                ("complained", false),
                ("unsubscribed", false)
            ])
        );
        let empty = mandrill::form_body("[]");
        let (status, _) = post(&srv, "mandrill", empty.clone(), &md(MANDRILL_KEY, &empty)).await;
        assert_eq!(status, 200, "Mandrill's test post when a webhook is added");
        let head = srv
            .client()
            .head(format!("{}/api/v1/webhooks/mandrill", srv.base))
            .send()
            .await
            .expect("head");
        assert!(
            head.status().is_success(),
            "Mandrill checks the URL with HEAD"
        );
        srv.stop().await;
    }
}
