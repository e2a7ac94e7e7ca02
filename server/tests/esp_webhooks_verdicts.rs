//! ESP webhooks through the real HTTP server, on SQLite and PostgreSQL: the provider's own
//! permanent verdict suppresses without any diagnostic text, SES rejects and Postmark
//! subscription changes are applied, a signed SNS notice that is not an event is accepted and
//! ignored, a retried batch is stored once,
//! unknown event kinds are counted, answered 200 and shown on the admin webhooks page, and
//! Postmark takes two credential pairs at once.

mod esp_support;
mod support;

use engine::bounce::esp::{Provider, mailgun, store};
use esp_support::*;
use serde_json::json;
use support::servers;

#[tokio::test]
async fn permanent_verdicts_count_on_their_own() {
    let fake = fake_sns().await;
    for srv in servers(config()).await {
        // SES Permanent/General without diagnosticCode or status.
        let msg = json!({
            "notificationType": "Bounce",
            "bounce": {
                "bounceType": "Permanent", "bounceSubType": "General",
                "bouncedRecipients": [{ "emailAddress": "ses-quiet@example.com" }],
                "timestamp": "2027-01-15T08:00:00.000Z", "feedbackId": "f-1"
            },
            "mail": { "timestamp": "2027-01-15T07:59:59.000Z", "source": "receipts@shop.example",
                      "messageId": "0100018d-quiet", "destination": ["ses-quiet@example.com"] }
        });
        let (status, body) = post(
            &srv,
            "ses",
            sns_envelope(&fake, &msg.to_string(), SNS_KEY, "m-1"),
            &[],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(kinds(&body), vec![("bounced".to_string(), true)]);
        assert!(suppressed(&srv, "ses-quiet@example.com").await);
        assert_eq!(
            bounces_of(&srv, "ses-quiet@example.com").await,
            vec![("ses".into(), "recipient_permanent".into(), true)]
        );

        // SES Reject: a rejected event for the destination, not a suppression.
        let msg = json!({
            "eventType": "Reject",
            "mail": { "timestamp": "2027-01-15T08:01:00.000Z", "source": "receipts@shop.example",
                      "messageId": "0100018d-reject", "destination": ["virus@example.com"] },
            "reject": { "reason": "Bad content" }
        });
        let (status, body) = post(
            &srv,
            "ses",
            sns_envelope(&fake, &msg.to_string(), SNS_KEY, "m-2"),
            &[],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(kinds(&body), vec![("rejected".to_string(), false)]);
        assert!(!suppressed(&srv, "virus@example.com").await);
        assert_eq!(
            bounces_of(&srv, "virus@example.com").await,
            vec![("ses".into(), "content".into(), false)]
        );

        // The topic-validation notice SES publishes: signed, not JSON, not an event.
        let notice = "Successfully validated SNS topic for Amazon SES event publishing.";
        let (status, body) = post(
            &srv,
            "ses",
            sns_envelope(&fake, notice, SNS_KEY, "m-3"),
            &[],
        )
        .await;
        assert_eq!((status, body["events"].clone()), (200, json!(0)), "{body}");

        // SendGrid bounce without reason; Postmark HardBounce without Details; Mailgun
        // permanent failure with an empty delivery-status.
        let batch = serde_json::to_vec(&json!([
            { "email": "sg-quiet@example.com", "timestamp": srv.clock_now() / 1000, "event": "bounce",
              "type": "bounce", "sg_event_id": "sg-quiet-1", "sg_message_id": "m.1" }
        ]))
        .expect("json");
        let (status, body) = post(
            &srv,
            "sendgrid",
            batch.clone(),
            &sendgrid_headers(&srv, &batch),
        )
        .await;
        assert_eq!(
            (status, kinds(&body)),
            (200, vec![("bounced".to_string(), true)]),
            "{body}"
        );
        assert!(suppressed(&srv, "sg-quiet@example.com").await);

        let pm = serde_json::to_vec(&json!({
            "RecordType": "Bounce", "ID": 901, "Type": "HardBounce", "TypeCode": 1,
            "MessageID": "00000000-0000-0000-0000-000000000901", "Email": "pm-quiet@example.com",
            "BouncedAt": "2027-01-15T08:00:00Z", "Inactive": true
        }))
        .expect("json");
        let (status, body) = post(&srv, "postmark", pm, &basic(POSTMARK_NEW)).await;
        assert_eq!(
            (status, kinds(&body)),
            (200, vec![("bounced".to_string(), true)]),
            "{body}"
        );
        assert!(suppressed(&srv, "pm-quiet@example.com").await);

        let ts = (srv.clock_now() / 1000).to_string();
        let token = format!("quiet-{}", srv.backend());
        let mg = serde_json::to_vec(&json!({
            "signature": { "timestamp": ts, "token": token,
                           "signature": mailgun::sign(MAILGUN_KEY.as_bytes(), &ts, &token) },
            "event-data": { "event": "failed", "id": "mg-quiet-1", "severity": "permanent",
                            "reason": "bounce", "recipient": "mg-quiet@example.com",
                            "timestamp": srv.clock_now() / 1000,
                            "delivery-status": { "message": "", "description": "" } }
        }))
        .expect("json");
        let (status, body) = post(&srv, "mailgun", mg, &[]).await;
        assert_eq!(
            (status, kinds(&body)),
            (200, vec![("bounced".to_string(), true)]),
            "{body}"
        );
        assert!(suppressed(&srv, "mg-quiet@example.com").await);

        // Mailgun `rejected` names the recipient only in the To header.
        let token = format!("rejected-{}", srv.backend());
        let mg = serde_json::to_vec(&json!({
            "signature": { "timestamp": ts, "token": token,
                           "signature": mailgun::sign(MAILGUN_KEY.as_bytes(), &ts, &token) },
            "event-data": { "event": "rejected", "id": "mg-rej-1", "timestamp": srv.clock_now() / 1000,
                            "reject": { "reason": "sandbox", "description": "Sandbox subdomains are for test purposes only" },
                            "message": { "headers": { "to": "mg-rejected@example.com", "message-id": "x@y" } } }
        }))
        .expect("json");
        let (status, body) = post(&srv, "mailgun", mg, &[]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["outcomes"][0]["recipient"],
            json!("mg-rejected@example.com")
        );
        assert_eq!(kinds(&body), vec![("rejected".to_string(), false)]);

        // Postmark telling us it suppressed an address.
        let change = serde_json::to_vec(&json!({
            "RecordType": "SubscriptionChange", "MessageID": "00000000-0000-0000-0000-000000000902",
            "ServerID": 23, "MessageStream": "outbound", "ChangedAt": "2027-01-15T08:02:00Z",
            "Recipient": "pm-changed@example.com", "Origin": "Recipient", "SuppressSending": true,
            "SuppressionReason": "HardBounce", "Tag": "", "Metadata": {}
        }))
        .expect("json");
        let (status, body) = post(&srv, "postmark", change, &basic(POSTMARK_OLD)).await;
        assert_eq!(
            (status, kinds(&body)),
            (200, vec![("bounced".to_string(), true)]),
            "{body}"
        );
        assert!(suppressed(&srv, "pm-changed@example.com").await);
        srv.stop().await;
    }
}

#[tokio::test]
async fn a_retried_batch_is_stored_once_and_unknown_kinds_are_counted() {
    for srv in servers(config()).await {
        let now = srv.clock_now() / 1000;
        let batch = serde_json::to_vec(&json!([
            { "email": "twice-a@example.com", "timestamp": now, "event": "bounce", "type": "bounce",
              "reason": "550 5.1.1 no such user", "status": "5.1.1", "sg_event_id": "twice-1" },
            { "email": "twice-b@example.com", "timestamp": now, "event": "deferred",
              "response": "451 4.3.0 try later", "attempt": "1", "sg_event_id": "twice-2" },
            { "email": "twice-c@example.com", "timestamp": now, "event": "teleported", "sg_event_id": "twice-3" },
            { "email": "twice-c@example.com", "timestamp": now, "event": "open", "sg_event_id": "twice-4" }
        ]))
        .expect("json");
        let (status, first) = post(
            &srv,
            "sendgrid",
            batch.clone(),
            &sendgrid_headers(&srv, &batch),
        )
        .await;
        assert_eq!(status, 200, "{first}");
        assert_eq!(
            (
                first["events"].clone(),
                first["duplicates"].clone(),
                first["unknown"].clone()
            ),
            (json!(2), json!(0), json!(["teleported"]))
        );
        assert_eq!(first["bounce_ids"].as_array().map(Vec::len), Some(2));
        // SendGrid retries after a timeout: same body, fresh signature.
        let (status, again) = post(
            &srv,
            "sendgrid",
            batch.clone(),
            &sendgrid_headers(&srv, &batch),
        )
        .await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(
            (again["duplicates"].clone(), again["bounce_ids"].clone()),
            (json!(2), json!([]))
        );
        assert_eq!(
            bounces_of(&srv, "twice-a@example.com").await.len(),
            1,
            "stored once"
        );
        assert_eq!(
            bounces_of(&srv, "twice-b@example.com").await.len(),
            1,
            "stored once"
        );
        assert_eq!(applied(&srv, Provider::SendGrid).await, 2);
        let unknown = store::unknown_kinds(&srv.state.db).await.expect("unknown");
        assert_eq!(
            unknown
                .iter()
                .map(|u| (u.provider.as_str(), u.kind.as_str(), u.seen))
                .collect::<Vec<_>>(),
            vec![("sendgrid", "teleported", 2)]
        );

        // Shown to admins on the webhooks page, rendered on the server.
        srv.add_user("admin@example.com", engine::accounts::Role::Admin)
            .await;
        let c = srv.client();
        assert_eq!(
            srv.login(&c, "admin@example.com", support::PASSWORD)
                .await
                .0,
            200
        );
        let res = c
            .get(format!("{}/admin/webhooks", srv.base))
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap_or_default();
        assert!(
            html.contains("ESP webhooks") && html.contains("teleported"),
            "{html}"
        );

        // A body of only unknown kinds is still a 200, never a 4xx the provider would stop on.
        let odd = serde_json::to_vec(&json!([{ "event": "warp", "email": "x@example.com" }]))
            .expect("json");
        let (status, body) =
            post(&srv, "sendgrid", odd.clone(), &sendgrid_headers(&srv, &odd)).await;
        assert_eq!((status, body["unknown"].clone()), (200, json!(["warp"])));
        srv.stop().await;
    }
}

#[tokio::test]
async fn postmark_takes_two_credential_pairs_and_refuses_others() {
    for srv in servers(config()).await {
        let delivery = |n: u32| {
            serde_json::to_vec(&json!({
                "RecordType": "Delivery", "ServerID": 23, "MessageStream": "outbound",
                "MessageID": format!("00000000-0000-0000-0000-00000000{n:04}"),
                "Recipient": "happy@example.com", "DeliveredAt": "2027-01-15T08:00:00Z",
                "Details": "Test delivery webhook details"
            }))
            .expect("json")
        };
        for (i, pair) in [POSTMARK_OLD, POSTMARK_NEW].into_iter().enumerate() {
            let (status, body) = post(&srv, "postmark", delivery(i as u32), &basic(pair)).await;
            assert_eq!(
                (status, kinds(&body)),
                (200, vec![("delivered".to_string(), false)]),
                "{pair}"
            );
        }
        let (status, _) = post(&srv, "postmark", delivery(9), &basic("postmark:guess")).await;
        assert_eq!(status, 401);
        let (status, _) = post(&srv, "postmark", delivery(9), &[]).await;
        assert_eq!(status, 401);
        let (status, _) = post(
            &srv,
            "postmark",
            b"{\"RecordType\":".to_vec(),
            &basic(POSTMARK_OLD),
        )
        .await;
        assert_eq!(status, 400);
        srv.stop().await;
    }
}
