//! Brevo (formerly Sendinblue) transactional webhooks.
//!
//! Brevo posts one JSON object per event (`{"event": "hard_bounce", "email": ..., "message-id":
//! ..., "ts_event": ..., "reason": ...}`), or an array of them when the webhook is batched.
//! Brevo does not sign webhooks; it sends HTTP basic-auth credentials put in the webhook URL
//! (`https://user:password@rebound.example.com/api/v1/webhooks/brevo`), checked against
//! `esp_webhooks.brevo_credentials`.

use super::{
    EspError, EspEvent, EventKind, Normalised, Opinion, Provider, compound_id, first_text,
    one_or_many, parse_json, text_at, unix_seconds_ms,
};
use crate::bounce::reason::Reason;

/// Normalises one event or a batch. Sends (`request`), opens and clicks yield nothing; events
/// Brevo did not document are counted as unknown.
pub fn normalise(body: &[u8]) -> Result<Normalised, EspError> {
    let mut out = Normalised::default();
    for item in one_or_many(parse_json(body)?, "Brevo")? {
        let event = text_at(&item, &["event"]).unwrap_or_default();
        let kind = match event.as_str() {
            // Transactional names, and the marketing webhooks' camelCase ones.
            "hard_bounce" | "soft_bounce" | "hardBounce" | "softBounce" => EventKind::Bounce,
            "blocked" | "invalid_email" | "error" => EventKind::Rejected,
            "deferred" => EventKind::Deferral,
            "spam" | "complaint" => EventKind::Complaint,
            "unsubscribed" | "unsubscribe" => EventKind::Unsubscribed,
            "delivered" => EventKind::Delivered,
            "request" | "sent" | "opened" | "unique_opened" | "click" | "proxy_open"
            | "unique_proxy_open" | "first_opening" | "list_addition" | "listAddition"
            | "contact_updated" | "contact_deleted" => continue,
            other => {
                out.unknown(other);
                continue;
            }
        };
        let mut e = EspEvent::new(Provider::Brevo, kind, item.clone());
        e.recipient = text_at(&item, &["email"]);
        e.message_id = text_at(&item, &["message-id"]);
        // `ts_epoch` is in milliseconds, `ts_event` and `ts` in seconds.
        e.timestamp = item
            .get("ts_epoch")
            .and_then(serde_json::Value::as_i64)
            .filter(|t| (0..253_402_300_800_000).contains(t))
            .or_else(|| item.get("ts_event").and_then(unix_seconds_ms))
            .or_else(|| item.get("ts").and_then(unix_seconds_ms));
        // Brevo has no id per event: the message, the event, the recipient and the time.
        let when = first_text(&item, &[&["ts_epoch"], &["ts_event"], &["date"]]);
        e.event_id = compound_id(&[
            e.message_id.as_deref(),
            Some(&event),
            e.recipient.as_deref(),
            when.as_deref(),
        ]);
        e.esp_type = Some(match event.as_str() {
            "hardBounce" => "hard_bounce".to_string(),
            "softBounce" => "soft_bounce".to_string(),
            other => other.to_string(),
        });
        e.diagnostic = text_at(&item, &["reason"]);
        if kind == EventKind::Complaint {
            e.feedback_type = Some("abuse".into());
        }
        out.events.push(e);
    }
    Ok(out)
}

/// Brevo's event name is its verdict.
pub(crate) fn opinion(kind: EventKind, t: &str, _s: &str) -> Opinion {
    let o = |reason: Option<Reason>, permanent: Option<bool>| Opinion { reason, permanent };
    match (kind, t) {
        (EventKind::Bounce, "hard_bounce") => o(None, Some(true)),
        (EventKind::Bounce, "soft_bounce") | (EventKind::Deferral, _) => o(None, Some(false)),
        // `blocked`: the address is on Brevo's block list (an earlier hard bounce, a
        // complaint, an unsubscribe); `invalid_email`: not an address at all.
        (EventKind::Rejected, "blocked") => o(Some(Reason::Suppressed), Some(true)),
        (EventKind::Rejected, "invalid_email") => o(Some(Reason::UserUnknown), Some(true)),
        (EventKind::Rejected, _) => o(Some(Reason::SystemError), Some(false)),
        _ => Opinion::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounce::Classifier;

    const BATCH: &str = include_str!("fixtures/brevo_batch.json");
    const ONE: &str = include_str!("fixtures/brevo_hard_bounce.json");

    #[test]
    fn one_event_or_a_batch() {
        let c = Classifier::shared();
        let one = normalise(ONE.as_bytes()).expect("parse").events;
        assert_eq!(
            (
                one[0].kind,
                one[0].recipient.as_deref(),
                one[0].message_id.as_deref()
            ),
            (
                EventKind::Bounce,
                Some("dead@example.com"),
                Some("<r40.a1.Br@bounce.rebound.local>")
            )
        );
        assert_eq!(one[0].timestamp, Some(1_800_000_000_123));
        assert!(c.classify_esp(&one[0]).hard_bounce);

        let n = normalise(BATCH.as_bytes()).expect("parse");
        let got: Vec<(EventKind, bool)> = n
            .events
            .iter()
            .map(|e| (e.kind, c.classify_esp(e).hard_bounce))
            .collect();
        assert_eq!(
            got,
            vec![
                (EventKind::Bounce, false),
                (EventKind::Deferral, false),
                (EventKind::Rejected, true),
                (EventKind::Rejected, true),
                (EventKind::Complaint, false),
                (EventKind::Unsubscribed, false),
                (EventKind::Delivered, false),
                (EventKind::Bounce, true),
            ],
            "the request and the open are skipped"
        );
        assert_eq!(n.unknown, vec!["teleported".to_string()]);
        let ids: std::collections::HashSet<_> =
            n.events.iter().map(|e| e.event_id.clone()).collect();
        assert_eq!(ids.len(), n.events.len(), "one id per event");
    }

    #[test]
    fn marketing_names_mean_the_same() {
        let n = normalise(br#"{"event":"hardBounce","email":"a@example.com","message-id":"<m@x>","ts_event":1800000000}"#)
            .expect("parse");
        assert_eq!(n.events[0].esp_type.as_deref(), Some("hard_bounce"));
        assert!(Classifier::shared().classify_esp(&n.events[0]).hard_bounce);
    }

    #[test]
    fn junk_is_refused_never_a_panic() {
        for bad in [&b""[..], b"1", b"[1]", b"\"x\"", b"{"] {
            assert!(normalise(bad).is_err(), "{bad:?}");
        }
        assert_eq!(normalise(b"[]"), Ok(Normalised::default()));
    }
}
