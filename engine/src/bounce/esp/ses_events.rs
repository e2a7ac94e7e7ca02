//! Amazon SES notifications (the `Message` of a verified SNS notification): identity
//! notifications (`notificationType`) and configuration-set events (`eventType`).

use serde_json::Value;

use super::{
    EspError, EspEvent, EventKind, Normalised, Opinion, Provider, compound_id, rfc3339_ms, text_at,
};
use crate::bounce::reason::Reason;

/// Our Message-ID as SES echoes it: `mail.commonHeaders.messageId`, else the `Message-ID`
/// among `mail.headers`.
fn original_message_id(n: &Value) -> Option<String> {
    text_at(n, &["mail", "commonHeaders", "messageId"]).or_else(|| {
        n.get("mail")?
            .get("headers")?
            .as_array()?
            .iter()
            .find(|h| {
                h.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|x| x.eq_ignore_ascii_case("message-id"))
            })
            .and_then(|h| text_at(h, &["value"]))
    })
}

/// Normalises an SES notification into events, one per recipient. A message that is not an
/// SES event at all (SNS's "Successfully validated SNS topic" text, a JSON without a type) is
/// ignored, not refused: refusing makes SNS retry it and may disable the subscription. Sends,
/// opens, clicks and rendering failures yield nothing; types SES did not document are counted
/// as unknown.
pub fn parse_notification(message: &[u8]) -> Result<Normalised, EspError> {
    let mut out = Normalised::default();
    let Ok(n) = serde_json::from_slice::<Value>(message) else {
        return Ok(out);
    };
    let Some(kind) = text_at(&n, &["notificationType"]).or_else(|| text_at(&n, &["eventType"]))
    else {
        return Ok(out);
    };
    let mid = original_message_id(&n);
    let ses_id = text_at(&n, &["mail", "messageId"]);
    let section = |name: &str| {
        n.get(name)
            .filter(|s| s.is_object())
            .ok_or_else(|| EspError::malformed(format!("a {kind} notification without `{name}`")))
    };
    let list = |s: &Value, name: &str| -> Result<Vec<Value>, EspError> {
        s.get(name)
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| EspError::malformed(format!("a {kind} notification without `{name}`")))
    };
    let base = |k: EventKind, s: &Value, rcpt: Option<String>| {
        let mut e = EspEvent::new(Provider::Ses, k, n.clone());
        e.message_id = mid.clone();
        let ts = text_at(s, &["timestamp"]);
        e.timestamp = ts.as_deref().and_then(rfc3339_ms);
        // SES has no event id: its message id, the type, the recipient and the time are one.
        e.event_id = compound_id(&[
            ses_id.as_deref(),
            Some(&kind),
            rcpt.as_deref(),
            ts.as_deref(),
        ]);
        e.recipient = rcpt;
        e
    };
    match kind.as_str() {
        "Bounce" => {
            let b = section("bounce")?;
            for r in list(b, "bouncedRecipients")? {
                let mut e = base(EventKind::Bounce, b, text_at(&r, &["emailAddress"]));
                e.esp_type = text_at(b, &["bounceType"]);
                e.esp_subtype = text_at(b, &["bounceSubType"]);
                e.enhanced = text_at(&r, &["status"]);
                e.diagnostic = text_at(&r, &["diagnosticCode"]);
                out.events.push(e);
            }
        }
        "Complaint" => {
            let c = section("complaint")?;
            for r in list(c, "complainedRecipients")? {
                let mut e = base(EventKind::Complaint, c, text_at(&r, &["emailAddress"]));
                e.feedback_type = text_at(c, &["complaintFeedbackType"]);
                e.esp_subtype = text_at(c, &["complaintSubType"]);
                out.events.push(e);
            }
        }
        "Delivery" => {
            let d = section("delivery")?;
            for r in list(d, "recipients")? {
                let mut e = base(EventKind::Delivered, d, r.as_str().map(str::to_string));
                e.diagnostic = text_at(d, &["smtpResponse"]);
                out.events.push(e);
            }
        }
        "DeliveryDelay" => {
            let d = section("deliveryDelay")?;
            for r in list(d, "delayedRecipients")? {
                let mut e = base(EventKind::Deferral, d, text_at(&r, &["emailAddress"]));
                e.esp_type = text_at(d, &["delayType"]);
                e.enhanced = text_at(&r, &["status"]);
                e.diagnostic = text_at(&r, &["diagnosticCode"]);
                out.events.push(e);
            }
        }
        // SES refused to send it (a virus in it): for every recipient of the mail.
        "Reject" => {
            let r = section("reject")?;
            let mail = section("mail")?;
            let when = n.get("mail").cloned().unwrap_or(Value::Null);
            for to in list(mail, "destination")? {
                let mut e = base(EventKind::Rejected, &when, to.as_str().map(str::to_string));
                e.esp_type = Some("Reject".into());
                e.diagnostic = text_at(r, &["reason"]);
                out.events.push(e);
            }
        }
        "Send"
        | "Open"
        | "Click"
        | "Rendering Failure"
        | "Subscription"
        | "AmazonSnsSubscriptionSucceeded"
        | "Received" => {}
        other => out.unknown(other),
    }
    Ok(out)
}

/// SES `bounceType`/`bounceSubType` (and `delayType` for delays) mapped.
pub(crate) fn opinion(kind: EventKind, t: &str, s: &str) -> Opinion {
    match kind {
        EventKind::Bounce => match t {
            "Permanent" => Opinion {
                reason: match s {
                    "NoEmail" => Some(Reason::UserUnknown),
                    "Suppressed" | "OnAccountSuppressionList" => Some(Reason::Suppressed),
                    _ => None,
                },
                permanent: Some(true),
            },
            "Transient" => Opinion {
                reason: match s {
                    "MailboxFull" => Some(Reason::MailboxFull),
                    "MessageTooLarge" => Some(Reason::MesgTooBig),
                    "ContentRejected" | "AttachmentRejected" => Some(Reason::ContentError),
                    _ => None,
                },
                permanent: Some(false),
            },
            _ => Opinion::default(),
        },
        EventKind::Deferral => Opinion {
            reason: match t {
                "MailboxFull" => Some(Reason::MailboxFull),
                "SpamDetected" => Some(Reason::SpamDetected),
                "IPFailure" => Some(Reason::Blocked),
                "RecipientServerError" | "InternalFailure" => Some(Reason::SystemError),
                "TransientCommunicationFailure" => Some(Reason::NetworkError),
                _ => None,
            },
            permanent: Some(false),
        },
        // "Bad content": SES found a virus.
        EventKind::Rejected => Opinion {
            reason: Some(Reason::VirusDetected),
            permanent: Some(false),
        },
        _ => Opinion::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounce::{BounceClass, Classifier};

    const BOUNCE: &str = include_str!("fixtures/ses_bounce.json");
    const TRANSIENT: &str = include_str!("fixtures/ses_bounce_transient.json");
    const COMPLAINT: &str = include_str!("fixtures/ses_complaint.json");
    const DELIVERY: &str = include_str!("fixtures/ses_delivery.json");
    const DELAY: &str = include_str!("fixtures/ses_delivery_delay.json");
    const REJECT: &str = include_str!("fixtures/ses_reject.json");

    fn parse(body: &str) -> Vec<EspEvent> {
        parse_notification(body.as_bytes()).expect("parse").events
    }

    #[test]
    fn a_permanent_bounce_is_normalised_and_classified() {
        let evs = parse(BOUNCE);
        assert_eq!(evs.len(), 1);
        let e = &evs[0];
        assert_eq!(
            (
                e.kind,
                e.recipient.as_deref(),
                e.esp_type.as_deref(),
                e.esp_subtype.as_deref()
            ),
            (
                EventKind::Bounce,
                Some("jane@example.com"),
                Some("Permanent"),
                Some("General")
            )
        );
        assert_eq!(
            e.message_id.as_deref(),
            Some("<r1.a1.Zx81Qb@bounce.rebound.local>")
        );
        assert_eq!(e.enhanced.as_deref(), Some("5.1.1"));
        assert_eq!(e.timestamp, rfc3339_ms("2026-11-27T21:04:58.237Z"));
        let id = e.event_id.as_deref().unwrap_or_default();
        assert!(
            id.contains("|Bounce|jane@example.com|2026-11-27T21:04:58.237Z"),
            "{id}"
        );
        let v = Classifier::shared().classify_esp(e);
        assert_eq!(v.verdict.reason, Reason::UserUnknown);
        assert_eq!(v.verdict.class, BounceClass::RecipientPermanent);
        assert!(v.hard_bounce);
        assert_eq!(v.reply.code, Some(550));
    }

    #[test]
    fn permanent_general_without_a_diagnostic_is_hard() {
        let body = BOUNCE
            .replace("\"diagnosticCode\"", "\"noDiagnostic\"")
            .replace("\"status\"", "\"noStatus\"");
        let e = parse(&body);
        assert_eq!(
            (e[0].diagnostic.as_deref(), e[0].enhanced.as_deref()),
            (None, None)
        );
        let v = Classifier::shared().classify_esp(&e[0]);
        assert!(v.hard_bounce);
        assert_eq!(v.verdict.class, BounceClass::RecipientPermanent);
    }

    #[test]
    fn a_reject_is_a_rejected_event_for_every_destination() {
        let e = parse(REJECT);
        assert_eq!(e.len(), 2);
        assert!(e.iter().all(|e| e.kind == EventKind::Rejected));
        assert_eq!(e[1].recipient.as_deref(), Some("other@example.com"));
        let v = Classifier::shared().classify_esp(&e[0]);
        assert_eq!(
            (v.verdict.reason, v.hard_bounce),
            (Reason::VirusDetected, false)
        );
    }

    #[test]
    fn transient_bounces_complaints_deliveries_and_delays() {
        let t = parse(TRANSIENT);
        let v = Classifier::shared().classify_esp(&t[0]);
        assert_eq!(v.verdict.reason, Reason::MailboxFull);
        assert!(!v.hard_bounce);
        // From mail.headers when commonHeaders has none.
        assert_eq!(
            t[0].message_id.as_deref(),
            Some("<r2.a1.Qq@bounce.rebound.local>")
        );

        let c = parse(COMPLAINT);
        assert_eq!(
            (c[0].kind, c[0].feedback_type.as_deref()),
            (EventKind::Complaint, Some("abuse"))
        );
        assert_eq!(
            Classifier::shared().classify_esp(&c[0]).verdict.class,
            BounceClass::Complaint
        );

        let d = parse(DELIVERY);
        assert_eq!(d.len(), 2);
        assert_eq!(d[1].kind, EventKind::Delivered);
        assert_ne!(d[0].event_id, d[1].event_id, "one id per recipient");
        assert_eq!(
            Classifier::shared().classify_esp(&d[0]).verdict.class,
            BounceClass::Delivered
        );

        let l = parse(DELAY);
        assert_eq!(
            (l[0].kind, l[0].esp_type.as_deref()),
            (EventKind::Deferral, Some("TransientCommunicationFailure"))
        );
        let v = Classifier::shared().classify_esp(&l[0]);
        assert_eq!(v.verdict.class, BounceClass::Transient);
        assert_eq!(v.report.action.as_deref(), Some("delayed"));
        assert!(!v.hard_bounce);
        // Without a precise code the delay type decides.
        let mut vague = l[0].clone();
        vague.enhanced = None;
        vague.diagnostic = Some("smtp; 421 try later".into());
        let v = Classifier::shared().classify_esp(&vague);
        assert_eq!(
            (v.verdict.reason, v.verdict.rule_id.as_str()),
            (Reason::NetworkError, "esp-ses")
        );
    }

    #[test]
    fn what_is_not_an_event_is_ignored_broken_events_refused_never_a_panic() {
        for bad in [
            &b"{\"notificationType\":\"Bounce\"}"[..],
            b"{\"notificationType\":\"Bounce\",\"bounce\":{\"bouncedRecipients\":7}}",
            b"{\"eventType\":\"Delivery\",\"delivery\":[]}",
            b"{\"eventType\":\"Reject\",\"reject\":{}}",
        ] {
            assert!(parse_notification(bad).is_err(), "{bad:?}");
        }
        for ignored in [
            &b""[..],
            b"[]",
            b"\"x\"",
            b"{}",
            b"Successfully validated SNS topic for Amazon SES event publishing.",
            b"{\"notificationType\":\"AmazonSnsSubscriptionSucceeded\"}",
            b"{\"eventType\":\"Open\"}",
        ] {
            assert_eq!(
                parse_notification(ignored),
                Ok(Normalised::default()),
                "{ignored:?}"
            );
        }
        let n = parse_notification(b"{\"eventType\":\"Teleport\"}").expect("unknown");
        assert_eq!(n.unknown, vec!["Teleport".to_string()]);
        let odd = parse(
            "{\"notificationType\":\"Bounce\",\"bounce\":{\"bouncedRecipients\":[1, {}, {\"emailAddress\": 5}]}}",
        );
        assert_eq!(odd.len(), 3);
        assert!(odd.iter().all(|e| e.recipient.as_deref() != Some("")));
    }
}
