//! Mailjet event API (event tracking webhooks).
//!
//! Mailjet posts one JSON object per event, or an array when "group events" is on: `{"event":
//! "bounce", "time": 1800000000, "MessageID": 19421777835146490, "email": ...,
//! "hard_bounce": true, "error_related_to": "recipient", "error": "user unknown", ...}`.
//! Mailjet does not sign events; it sends HTTP basic-auth credentials put in the event URL
//! (`https://user:password@rebound.example.com/api/v1/webhooks/mailjet`), checked against
//! `esp_webhooks.mailjet_credentials`.

use serde_json::Value;

use super::{
    EspError, EspEvent, EventKind, Normalised, Opinion, Provider, compound_id, one_or_many,
    parse_json, text_at, unix_seconds_ms,
};
use crate::bounce::reason::Reason;

/// Normalises one event or a batch. Opens and clicks yield nothing; events Mailjet did not
/// document are counted as unknown.
pub fn normalise(body: &[u8]) -> Result<Normalised, EspError> {
    let mut out = Normalised::default();
    for item in one_or_many(parse_json(body)?, "Mailjet")? {
        let event = text_at(&item, &["event"]).unwrap_or_default();
        let kind = match event.as_str() {
            "sent" => EventKind::Delivered,
            "bounce" => EventKind::Bounce,
            "blocked" => EventKind::Rejected,
            "spam" => EventKind::Complaint,
            "unsub" => EventKind::Unsubscribed,
            "open" | "click" => continue,
            other => {
                out.unknown(other);
                continue;
            }
        };
        let mut e = EspEvent::new(Provider::Mailjet, kind, item.clone());
        e.recipient = text_at(&item, &["email"]);
        e.timestamp = item.get("time").and_then(unix_seconds_ms);
        // Our Message-ID only when the message was sent with it as `CustomID`.
        e.message_id = text_at(&item, &["CustomID"]).filter(|s| s.contains('@'));
        e.event_id = compound_id(&[
            first_id(&item).as_deref(),
            Some(&event),
            e.recipient.as_deref(),
            text_at(&item, &["time"]).as_deref(),
        ]);
        match kind {
            EventKind::Bounce => {
                e.esp_type = Some(
                    match item.get("hard_bounce").and_then(Value::as_bool) {
                        Some(true) => "hard",
                        Some(false) => "soft",
                        None => "",
                    }
                    .to_string(),
                )
                .filter(|s| !s.is_empty());
                e.esp_subtype = text_at(&item, &["error"]);
            }
            EventKind::Rejected => {
                e.esp_type = text_at(&item, &["error_related_to"]);
                e.esp_subtype = text_at(&item, &["error"]);
            }
            EventKind::Delivered => e.diagnostic = text_at(&item, &["smtp_reply"]),
            EventKind::Complaint => e.feedback_type = Some("abuse".into()),
            _ => {}
        }
        if matches!(kind, EventKind::Bounce | EventKind::Rejected) {
            e.diagnostic = text_at(&item, &["comment"]).or_else(|| text_at(&item, &["error"]));
        }
        out.events.push(e);
    }
    Ok(out)
}

/// Mailjet's message id (`MessageID`, or the older `Message_GUID`).
fn first_id(item: &Value) -> Option<String> {
    text_at(item, &["MessageID"]).or_else(|| text_at(item, &["Message_GUID"]))
}

/// The reason Mailjet names in `error` (its "Event API: error codes" list).
fn error_reason(error: &str) -> Option<Reason> {
    Some(match error {
        "user unknown" => Reason::UserUnknown,
        "invalid domain" | "no mail host" | "domain error" => Reason::HostUnknown,
        "mailbox inactive" => Reason::Suspend,
        "quota exceeded" => Reason::MailboxFull,
        "preblocked" | "spam preblocked" | "bounce preblocked" | "sender blocked" => {
            Reason::Suppressed
        }
        "content blocked" | "spam reporter" | "policy issue" => Reason::PolicyViolation,
        "duplicate in campaign" => Reason::PolicyViolation,
        "blacklisted" | "relay/access denied" => Reason::Blocked,
        "greylisted" | "connection issue" | "timeout" => Reason::NetworkError,
        _ => return None,
    })
}

/// `hard_bounce` is Mailjet's verdict on a bounce; a block is about the address only when
/// Mailjet relates it to the recipient and names an address reason.
pub(crate) fn opinion(kind: EventKind, t: &str, error: &str) -> Opinion {
    let reason = error_reason(error);
    match kind {
        EventKind::Bounce => Opinion {
            reason: reason.filter(|r| {
                (t == "hard") == (r.class() == crate::bounce::BounceClass::RecipientPermanent)
            }),
            permanent: match t {
                "hard" => Some(true),
                "soft" => Some(false),
                _ => None,
            },
        },
        EventKind::Rejected => {
            let address = t == "recipient"
                && reason
                    .is_some_and(|r| r.class() == crate::bounce::BounceClass::RecipientPermanent);
            Opinion {
                reason: reason.or(Some(Reason::PolicyViolation)),
                permanent: Some(address),
            }
        }
        _ => Opinion::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounce::Classifier;

    const BATCH: &str = include_str!("fixtures/mailjet_batch.json");

    #[test]
    fn one_event_or_a_batch() {
        let c = Classifier::shared();
        let n = normalise(BATCH.as_bytes()).expect("parse");
        let got: Vec<(EventKind, Option<&str>, bool)> = n
            .events
            .iter()
            .map(|e| {
                (
                    e.kind,
                    e.recipient.as_deref(),
                    c.classify_esp(e).hard_bounce,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (EventKind::Delivered, Some("jane@example.com"), false),
                (EventKind::Bounce, Some("dead@example.com"), true),
                (EventKind::Bounce, Some("full@example.com"), false),
                (EventKind::Rejected, Some("listed@example.com"), true),
                (EventKind::Rejected, Some("twice@example.com"), false),
                (EventKind::Complaint, Some("grumpy@example.com"), false),
                (EventKind::Unsubscribed, Some("bye@example.com"), false),
                (EventKind::Bounce, Some("gone@example.com"), true),
            ],
            "the open is skipped"
        );
        assert_eq!(n.unknown, vec!["teleport".to_string()]);
        let one = serde_json::to_vec(&serde_json::from_str::<Value>(BATCH).expect("json")[1])
            .expect("one");
        let single = normalise(&one).expect("one").events;
        assert_eq!(single.len(), 1);
        assert_eq!(single[0].event_id, n.events[1].event_id);
    }

    #[test]
    fn junk_is_refused_never_a_panic() {
        for bad in [&b""[..], b"1", b"[1]", b"{"] {
            assert!(normalise(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            normalise(b"{\"event\":\"open\"}"),
            Ok(Normalised::default())
        );
    }
}
