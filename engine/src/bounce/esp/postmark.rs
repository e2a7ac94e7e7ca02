//! Postmark webhooks (bounce, delivery, spam complaint, subscription change).
//!
//! Postmark posts one JSON object per event (`RecordType` = `Bounce`, `Delivery`,
//! `SpamComplaint`, `SubscriptionChange`, `Open`, `Click`). It has no signature: the webhook
//! URL carries HTTP basic-auth credentials
//! (`https://user:password@rebound.example.com/api/v1/webhooks/postmark`), checked by
//! [`BasicAuth`](super::auth::BasicAuth) against a list of pairs (rotation).

use serde_json::Value;

use super::{
    EspError, EspEvent, EventKind, Normalised, Opinion, Provider, compound_id, parse_json,
    rfc3339_ms, text_at,
};
use crate::bounce::reason::Reason;

/// Postmark's bounce `TypeCode`s and their `Type` names.
const TYPES: &[(u64, &str)] = &[
    (1, "HardBounce"),
    (2, "Transient"),
    (16, "Unsubscribe"),
    (32, "Subscribe"),
    (64, "AutoResponder"),
    (128, "AddressChange"),
    (256, "DnsError"),
    (512, "SpamNotification"),
    (1024, "OpenRelayTest"),
    (2048, "Unknown"),
    (4096, "SoftBounce"),
    (8192, "VirusNotification"),
    (16384, "ChallengeVerification"),
    (100000, "BadEmailAddress"),
    (100001, "SpamComplaint"),
    (100002, "ManuallyDeactivated"),
    (100003, "Unconfirmed"),
    (100006, "Blocked"),
    (100007, "SMTPApiError"),
    (100008, "InboundError"),
    (100009, "DMARCPolicy"),
    (100010, "TemplateRenderingFailed"),
];

/// Our Message-ID: from `Metadata` (`message_id`, `message-id`, `rebound_message_id`), else
/// `MessageID` when it is one of ours (Postmark's own ids are UUIDs without `@`).
fn original_message_id(v: &Value) -> Option<String> {
    let from_meta = v.get("Metadata").and_then(Value::as_object).and_then(|m| {
        m.iter()
            .find(|(k, _)| {
                let k: String = k
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .collect::<String>()
                    .to_ascii_lowercase();
                k == "messageid" || k == "reboundmessageid"
            })
            .and_then(|(_, v)| v.as_str())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    });
    from_meta.or_else(|| text_at(v, &["MessageID"]).filter(|s| s.contains('@')))
}

/// Normalises one Postmark webhook body. Opens, clicks, re-activations and bounce types that
/// are not about delivery (Subscribe, AutoResponder, OpenRelayTest, InboundError, ...) yield
/// nothing; a `RecordType` Postmark did not document is counted as unknown.
pub fn normalise(body: &[u8]) -> Result<Normalised, EspError> {
    let v = parse_json(body)?;
    if !v.is_object() {
        return Err(EspError::malformed("a Postmark webhook is a JSON object"));
    }
    let mut out = Normalised::default();
    let record = text_at(&v, &["RecordType"]);
    let type_name = text_at(&v, &["Type"]).or_else(|| {
        let code = v.get("TypeCode")?.as_u64()?;
        TYPES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, n)| (*n).to_string())
    });
    let kind = match (record.as_deref(), type_name.as_deref()) {
        (Some("Delivery"), _) => EventKind::Delivered,
        (Some("SubscriptionChange"), _) => return Ok(subscription_change(&v, out)),
        (Some("SpamComplaint"), _) | (Some("Bounce") | None, Some("SpamComplaint")) => {
            EventKind::Complaint
        }
        (Some("Open" | "Click" | "Inbound"), _) => return Ok(out),
        (Some("Bounce") | None, Some(t)) => match bounce_kind(t) {
            Some(k) => k,
            None if TYPES.iter().any(|(_, n)| *n == t) => return Ok(out),
            None => {
                out.unknown(&format!("Bounce/{t}"));
                return Ok(out);
            }
        },
        (Some("Bounce"), None) => {
            return Err(EspError::malformed(
                "a Postmark bounce without Type or TypeCode",
            ));
        }
        (None, None) => {
            return Err(EspError::malformed(
                "not a Postmark webhook: no RecordType or Type",
            ));
        }
        (Some(other), _) => {
            out.unknown(other);
            return Ok(out);
        }
    };
    let mut e = EspEvent::new(Provider::Postmark, kind, v.clone());
    e.message_id = original_message_id(&v);
    let pm_id = text_at(&v, &["MessageID"]);
    if kind == EventKind::Delivered {
        e.recipient = text_at(&v, &["Recipient"]);
        e.timestamp = text_at(&v, &["DeliveredAt"])
            .as_deref()
            .and_then(rfc3339_ms);
        e.event_id = compound_id(&[pm_id.as_deref(), Some("Delivery"), e.recipient.as_deref()]);
    } else {
        e.recipient = text_at(&v, &["Email"]);
        e.timestamp = text_at(&v, &["BouncedAt"]).as_deref().and_then(rfc3339_ms);
        e.esp_type = type_name.clone();
        e.esp_subtype = text_at(&v, &["TypeCode"]);
        // A bounce's `ID` is Postmark's id of that bounce record.
        e.event_id = match text_at(&v, &["ID"]) {
            Some(id) => Some(format!("bounce:{id}")),
            None => compound_id(&[
                pm_id.as_deref(),
                type_name.as_deref(),
                e.recipient.as_deref(),
            ]),
        };
    }
    // `Description` is Postmark's generic explanation of the type, not the server's reply:
    // only `Details` is classified.
    e.diagnostic = text_at(&v, &["Details"]);
    if kind == EventKind::Complaint {
        e.feedback_type = Some("abuse".into());
    }
    out.events.push(e);
    Ok(out)
}

/// A bounce `Type`'s event kind; `None` for types that are not about delivering this message
/// (auto-replies, subscribe requests, relay tests, inbound errors).
fn bounce_kind(t: &str) -> Option<EventKind> {
    Some(match t {
        "HardBounce" | "SoftBounce" | "Unknown" | "VirusNotification" | "Blocked"
        | "SpamNotification" | "DMARCPolicy" => EventKind::Bounce,
        "Transient" | "DnsError" => EventKind::Deferral,
        "BadEmailAddress"
        | "ManuallyDeactivated"
        | "Unconfirmed"
        | "SMTPApiError"
        | "TemplateRenderingFailed" => EventKind::Rejected,
        "Unsubscribe" => EventKind::Unsubscribed,
        _ => return None,
    })
}

/// `SubscriptionChange`: Postmark telling us it stopped (or resumed) sending to an address.
/// A suppression for a hard bounce or a spam complaint is that verdict; a manual one is an
/// unsubscribe; a re-activation (`SuppressSending: false`) changes nothing here.
fn subscription_change(v: &Value, mut out: Normalised) -> Normalised {
    if v.get("SuppressSending").and_then(Value::as_bool) != Some(true) {
        return out;
    }
    let reason = text_at(v, &["SuppressionReason"]);
    let kind = match reason.as_deref() {
        Some("HardBounce") => EventKind::Bounce,
        Some("SpamComplaint") => EventKind::Complaint,
        Some("ManualSuppression") => EventKind::Unsubscribed,
        other => {
            out.unknown(&format!("SubscriptionChange/{}", other.unwrap_or("")));
            return out;
        }
    };
    let mut e = EspEvent::new(Provider::Postmark, kind, v.clone());
    e.recipient = text_at(v, &["Recipient"]);
    e.message_id = original_message_id(v);
    e.timestamp = text_at(v, &["ChangedAt"]).as_deref().and_then(rfc3339_ms);
    e.esp_type = reason.clone();
    e.event_id = compound_id(&[
        text_at(v, &["MessageID"]).as_deref(),
        Some("SubscriptionChange"),
        e.recipient.as_deref(),
        text_at(v, &["ChangedAt"]).as_deref(),
    ]);
    if kind == EventKind::Complaint {
        e.feedback_type = Some("abuse".into());
    }
    out.events.push(e);
    out
}

/// Postmark's `Type` mapped.
pub(crate) fn opinion(kind: EventKind, t: &str, _code: &str) -> Opinion {
    if !matches!(
        kind,
        EventKind::Bounce | EventKind::Deferral | EventKind::Rejected
    ) {
        return Opinion::default();
    }
    let (reason, permanent) = match t {
        // A hard bounce is permanent; the reason comes from the server's reply.
        "HardBounce" => (None, Some(true)),
        "BadEmailAddress" => (Some(Reason::UserUnknown), Some(true)),
        "ManuallyDeactivated" => (Some(Reason::Suppressed), Some(true)),
        "Transient" | "SoftBounce" | "Unknown" => (None, Some(false)),
        "DnsError" => (Some(Reason::NetworkError), Some(false)),
        "Blocked" => (Some(Reason::Blocked), Some(false)),
        "SpamNotification" => (Some(Reason::SpamDetected), Some(false)),
        "DMARCPolicy" => (Some(Reason::AuthFailure), Some(false)),
        "Unconfirmed" => (Some(Reason::Rejected), Some(false)),
        "SMTPApiError" => (Some(Reason::ContentError), Some(false)),
        "VirusNotification" => (Some(Reason::VirusDetected), Some(false)),
        "TemplateRenderingFailed" => (Some(Reason::ContentError), Some(false)),
        _ => (None, None),
    };
    Opinion { reason, permanent }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounce::{BounceClass, Classifier};

    const BOUNCE: &str = include_str!("fixtures/postmark_bounce.json");
    const DELIVERY: &str = include_str!("fixtures/postmark_delivery.json");
    const COMPLAINT: &str = include_str!("fixtures/postmark_spam_complaint.json");
    const BLOCKED: &str = include_str!("fixtures/postmark_blocked.json");
    const SUBSCRIPTION: &str = include_str!("fixtures/postmark_subscription_change.json");

    fn events(body: &[u8]) -> Vec<EspEvent> {
        normalise(body).expect("parse").events
    }

    #[test]
    fn bounces_deliveries_and_complaints_are_normalised() {
        let c = Classifier::shared();
        let b = events(BOUNCE.as_bytes());
        assert_eq!(
            (
                b[0].kind,
                b[0].recipient.as_deref(),
                b[0].esp_type.as_deref()
            ),
            (
                EventKind::Bounce,
                Some("jane@example.com"),
                Some("HardBounce")
            )
        );
        assert_eq!(b[0].event_id.as_deref(), Some("bounce:4323372036854775807"));
        assert_eq!(
            b[0].message_id.as_deref(),
            Some("<r12.a1.Pm@bounce.rebound.local>"),
            "from Metadata"
        );
        assert_eq!(b[0].timestamp, rfc3339_ms("2026-11-27T21:04:58.9070259Z"));
        let v = c.classify_esp(&b[0]);
        assert_eq!(
            (v.verdict.reason, v.hard_bounce),
            (Reason::UserUnknown, true)
        );

        let d = events(DELIVERY.as_bytes());
        assert_eq!(
            (d[0].kind, d[0].recipient.as_deref()),
            (EventKind::Delivered, Some("happy@example.com"))
        );
        assert_eq!(d[0].message_id, None, "a Postmark UUID is not ours");
        assert!(
            d[0].event_id
                .as_deref()
                .is_some_and(|i| i.ends_with("|Delivery|happy@example.com"))
        );

        let s = events(COMPLAINT.as_bytes());
        assert_eq!(s[0].kind, EventKind::Complaint);
        assert_eq!(c.classify_esp(&s[0]).verdict.class, BounceClass::Complaint);

        let k = events(BLOCKED.as_bytes());
        let v = c.classify_esp(&k[0]);
        assert_eq!(v.verdict.class, BounceClass::SenderReputation);
        assert!(!v.hard_bounce);
    }

    #[test]
    fn a_hard_bounce_without_details_is_still_hard() {
        let body = BOUNCE.replace("\"Details\"", "\"NoDetails\"");
        let b = events(body.as_bytes());
        assert_eq!(b[0].diagnostic, None);
        assert!(Classifier::shared().classify_esp(&b[0]).hard_bounce);
    }

    #[test]
    fn subscription_changes_carry_postmarks_suppressions() {
        let c = Classifier::shared();
        let e = events(SUBSCRIPTION.as_bytes());
        assert_eq!(
            (e[0].kind, e[0].recipient.as_deref()),
            (EventKind::Bounce, Some("gone@example.com"))
        );
        assert!(
            c.classify_esp(&e[0]).hard_bounce,
            "suppressed for a hard bounce"
        );
        let spam = SUBSCRIPTION.replace("\"HardBounce\"", "\"SpamComplaint\"");
        assert_eq!(events(spam.as_bytes())[0].kind, EventKind::Complaint);
        let manual = SUBSCRIPTION.replace("\"HardBounce\"", "\"ManualSuppression\"");
        assert_eq!(events(manual.as_bytes())[0].kind, EventKind::Unsubscribed);
        let back = SUBSCRIPTION.replace("\"SuppressSending\": true", "\"SuppressSending\": false");
        assert_eq!(normalise(back.as_bytes()), Ok(Normalised::default()));
    }

    #[test]
    fn kinds_follow_postmarks_types() {
        for (t, kind, hard) in [
            ("SoftBounce", Some(EventKind::Bounce), false),
            ("Transient", Some(EventKind::Deferral), false),
            ("DnsError", Some(EventKind::Deferral), false),
            ("BadEmailAddress", Some(EventKind::Rejected), true),
            ("ManuallyDeactivated", Some(EventKind::Rejected), true),
            ("Unsubscribe", Some(EventKind::Unsubscribed), false),
            ("AutoResponder", None, false),
            ("OpenRelayTest", None, false),
        ] {
            let body = BOUNCE.replace("\"HardBounce\"", &format!("\"{t}\""));
            let e = events(body.as_bytes());
            assert_eq!(e.first().map(|e| e.kind), kind, "{t}");
            if let Some(e) = e.first() {
                assert_eq!(
                    Classifier::shared().classify_esp(e).hard_bounce,
                    hard,
                    "{t}"
                );
            }
        }
    }

    #[test]
    fn junk_is_refused_unknown_is_counted_never_a_panic() {
        for bad in [
            &b""[..],
            b"[]",
            b"{}",
            b"{\"RecordType\":\"Bounce\"}",
            b"{\"RecordType\":",
        ] {
            assert!(normalise(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            normalise(b"{\"RecordType\":\"Open\"}"),
            Ok(Normalised::default())
        );
        let n = normalise(b"{\"RecordType\":\"Teleport\"}").expect("unknown");
        assert_eq!(
            (n.events.len(), n.unknown),
            (0, vec!["Teleport".to_string()])
        );
        let by_code = events(b"{\"TypeCode\":4096,\"Email\":\"a@b.c\"}");
        assert_eq!(by_code[0].esp_type.as_deref(), Some("SoftBounce"));
        assert!(!Classifier::shared().classify_esp(&by_code[0]).hard_bounce);
    }
}
