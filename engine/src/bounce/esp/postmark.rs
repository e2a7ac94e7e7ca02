//! Postmark webhooks (bounce, delivery, spam complaint).
//!
//! Postmark posts one JSON object per event (`RecordType` = `Bounce`, `Delivery`,
//! `SpamComplaint`, ...). It has no signature: the webhook URL carries HTTP basic-auth
//! credentials (`https://user:password@rebound.example.com/api/v1/webhooks/postmark`), checked
//! here in constant time.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

use super::{
    EspError, EspEvent, EventKind, Opinion, Provider, Rejection, ct_eq, parse_json, rfc3339_ms,
    text_at,
};
use crate::bounce::reason::Reason;

/// Checks Postmark's HTTP basic auth.
#[derive(Clone)]
pub struct PostmarkAuth {
    expected: Vec<u8>,
}

impl std::fmt::Debug for PostmarkAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostmarkAuth { .. }")
    }
}

impl PostmarkAuth {
    /// The credentials configured in Postmark's webhook URL.
    pub fn new(username: &str, password: &str) -> PostmarkAuth {
        PostmarkAuth {
            expected: format!("{username}:{password}").into_bytes(),
        }
    }

    /// Checks an `Authorization` header value.
    pub fn verify(&self, authorization: Option<&str>) -> Result<(), EspError> {
        let Some(h) = authorization else {
            return Err(EspError::unauthorized(
                Rejection::Missing,
                "basic auth credentials are missing",
            ));
        };
        let h = h.trim();
        let bad = || EspError::unauthorized(Rejection::BadSignature, "wrong credentials");
        let (scheme, rest) = h.split_once(' ').ok_or_else(bad)?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(bad());
        }
        let given = B64.decode(rest.trim()).map_err(|_| bad())?;
        if ct_eq(&given, &self.expected) {
            Ok(())
        } else {
            Err(bad())
        }
    }
}

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

/// Normalises one Postmark webhook body. Opens, clicks, subscription changes and bounce types
/// that are not about delivery (Subscribe, OpenRelayTest, InboundError, ...) yield nothing.
pub fn parse_event(body: &[u8]) -> Result<Vec<EspEvent>, EspError> {
    let v = parse_json(body)?;
    if !v.is_object() {
        return Err(EspError::malformed("a Postmark webhook is a JSON object"));
    }
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
        (Some("SpamComplaint"), _) | (_, Some("SpamComplaint" | "Unsubscribe")) => {
            EventKind::Complaint
        }
        (Some("Bounce") | None, Some("Transient")) => EventKind::Deferral,
        (
            Some("Bounce") | None,
            Some("Subscribe" | "OpenRelayTest" | "InboundError" | "Unconfirmed"),
        ) => return Ok(Vec::new()),
        (Some("Bounce") | None, Some(_)) => EventKind::Bounce,
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
        _ => return Ok(Vec::new()),
    };
    let mut e = EspEvent::new(Provider::Postmark, kind, v.clone());
    e.message_id = original_message_id(&v);
    if kind == EventKind::Delivered {
        e.recipient = text_at(&v, &["Recipient"]);
        e.timestamp = text_at(&v, &["DeliveredAt"])
            .as_deref()
            .and_then(rfc3339_ms);
    } else {
        e.recipient = text_at(&v, &["Email"]);
        e.timestamp = text_at(&v, &["BouncedAt"]).as_deref().and_then(rfc3339_ms);
        e.esp_type = type_name;
        e.esp_subtype = text_at(&v, &["TypeCode"]);
    }
    // `Description` is Postmark's generic explanation of the type, not the server's reply:
    // only `Details` is classified.
    e.diagnostic = text_at(&v, &["Details"]);
    if kind == EventKind::Complaint {
        e.feedback_type = Some("abuse".into());
    }
    Ok(vec![e])
}

/// Postmark's `Type` mapped.
pub(crate) fn opinion(kind: EventKind, t: &str, _code: &str) -> Opinion {
    if !matches!(kind, EventKind::Bounce | EventKind::Deferral) {
        return Opinion::default();
    }
    let (reason, permanent) = match t {
        // A hard bounce is permanent, but the reason comes from the server's reply: Postmark
        // also files blocks against us under HardBounce.
        "HardBounce" => (None, Some(true)),
        "BadEmailAddress" => (Some(Reason::UserUnknown), Some(true)),
        "AddressChange" => (Some(Reason::HasMoved), Some(true)),
        "ManuallyDeactivated" => (Some(Reason::Suppressed), Some(true)),
        "Transient" | "SoftBounce" | "Unknown" => (None, Some(false)),
        "DnsError" => (Some(Reason::NetworkError), Some(false)),
        "ChallengeVerification" => (Some(Reason::Filtered), Some(false)),
        "AutoResponder" => (Some(Reason::Vacation), Some(false)),
        "Blocked" => (Some(Reason::Blocked), Some(false)),
        "SpamNotification" => (Some(Reason::SpamDetected), Some(false)),
        "DMARCPolicy" => (Some(Reason::AuthFailure), Some(false)),
        "VirusNotification" => (Some(Reason::VirusDetected), None),
        "TemplateRenderingFailed" => (Some(Reason::ContentError), None),
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

    #[test]
    fn basic_auth_is_checked() {
        let a = PostmarkAuth::new("postmark", "s3cret");
        let good = format!("Basic {}", B64.encode("postmark:s3cret"));
        a.verify(Some(&good)).expect("good credentials");
        a.verify(Some(&good.replace("Basic", "basic")))
            .expect("scheme is case-insensitive");
        for bad in [
            format!("Basic {}", B64.encode("postmark:s3creT")),
            format!("Basic {}", B64.encode("postmark:s3cret ")),
            format!("Bearer {}", B64.encode("postmark:s3cret")),
            "Basic %%%".to_string(),
            "Basic".to_string(),
            String::new(),
        ] {
            assert!(matches!(
                a.verify(Some(&bad)),
                Err(EspError::Unauthorized(Rejection::BadSignature, _))
            ));
        }
        assert!(matches!(
            a.verify(None),
            Err(EspError::Unauthorized(Rejection::Missing, _))
        ));
        assert_eq!(
            format!("{a:?}"),
            "PostmarkAuth { .. }",
            "no secret in Debug"
        );
    }

    #[test]
    fn bounces_deliveries_and_complaints_are_normalised() {
        let c = Classifier::shared();
        let b = parse_event(BOUNCE.as_bytes()).expect("parse");
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

        let d = parse_event(DELIVERY.as_bytes()).expect("parse");
        assert_eq!(
            (d[0].kind, d[0].recipient.as_deref()),
            (EventKind::Delivered, Some("happy@example.com"))
        );
        assert_eq!(d[0].message_id, None, "a Postmark UUID is not ours");

        let s = parse_event(COMPLAINT.as_bytes()).expect("parse");
        assert_eq!(s[0].kind, EventKind::Complaint);
        assert_eq!(c.classify_esp(&s[0]).verdict.class, BounceClass::Complaint);

        let k = parse_event(BLOCKED.as_bytes()).expect("parse");
        let v = c.classify_esp(&k[0]);
        assert_eq!(v.verdict.class, BounceClass::SenderReputation);
        assert!(!v.hard_bounce);
    }

    #[test]
    fn junk_is_refused_or_ignored_never_a_panic() {
        for bad in [
            &b""[..],
            b"[]",
            b"{}",
            b"{\"RecordType\":\"Bounce\"}",
            b"{\"RecordType\":",
        ] {
            assert!(parse_event(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_event(b"{\"RecordType\":\"Open\"}"), Ok(vec![]));
        assert_eq!(
            parse_event(b"{\"RecordType\":\"Bounce\",\"Type\":\"Subscribe\"}"),
            Ok(vec![])
        );
        let by_code = parse_event(b"{\"TypeCode\":4096,\"Email\":\"a@b.c\"}").expect("code");
        assert_eq!(by_code[0].esp_type.as_deref(), Some("SoftBounce"));
        assert!(!Classifier::shared().classify_esp(&by_code[0]).hard_bounce);
    }
}
