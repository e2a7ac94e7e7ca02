//! MailerSend activity webhooks.
//!
//! MailerSend signs each request: the `Signature` header is the hex HMAC-SHA256 of the raw
//! body under the webhook's signing secret. The body is one event: `{"type":
//! "activity.hard_bounced", "created_at": ..., "data": {"id": ..., "type": "hard_bounced",
//! "email": {"recipient": {"email": ...}, "message": {...}}, "morph": {"reason": ...}}}`.

use super::auth::{hmac_sha256, require};
use super::{
    EspError, EspEvent, EventKind, Normalised, Opinion, Provider, Rejection, ct_eq, first_text,
    parse_json, rfc3339_ms, text_at,
};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "signature";

/// Verifies MailerSend's signatures.
#[derive(Clone)]
pub struct MailerSendVerifier {
    secret: Vec<u8>,
}

impl std::fmt::Debug for MailerSendVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MailerSendVerifier { .. }")
    }
}

impl MailerSendVerifier {
    /// From the webhook's signing secret.
    pub fn new(secret: &str) -> MailerSendVerifier {
        MailerSendVerifier {
            secret: secret.trim().as_bytes().to_vec(),
        }
    }

    /// The hex signature of `body`.
    pub fn sign(&self, body: &[u8]) -> String {
        hex::encode(hmac_sha256(&self.secret, &[body]))
    }

    /// Checks the `Signature` header against `body`.
    pub fn verify(&self, signature: Option<&str>, body: &[u8]) -> Result<(), EspError> {
        let given = require(signature, "Signature")?;
        if ct_eq(
            given.to_ascii_lowercase().as_bytes(),
            self.sign(body).as_bytes(),
        ) {
            Ok(())
        } else {
            Err(EspError::unauthorized(
                Rejection::BadSignature,
                "the signature does not match",
            ))
        }
    }
}

/// Normalises one MailerSend event. Sends, opens, clicks and survey events yield nothing;
/// types MailerSend did not document are counted as unknown.
pub fn normalise(body: &[u8]) -> Result<Normalised, EspError> {
    let v = parse_json(body)?;
    if !v.is_object() {
        return Err(EspError::malformed("a MailerSend event is a JSON object"));
    }
    let Some(t) = text_at(&v, &["type"]) else {
        return Err(EspError::malformed("not a MailerSend event: no type"));
    };
    let mut out = Normalised::default();
    let kind = match t.as_str() {
        "activity.delivered" => EventKind::Delivered,
        "activity.soft_bounced" | "activity.hard_bounced" => EventKind::Bounce,
        "activity.spam_complaint" => EventKind::Complaint,
        "activity.unsubscribed" => EventKind::Unsubscribed,
        "activity.sent"
        | "activity.opened"
        | "activity.opened_unique"
        | "activity.clicked"
        | "activity.clicked_unique"
        | "activity.survey_opened"
        | "activity.survey_submitted"
        | "webhook.test" => return Ok(out),
        other if other.starts_with("maintenance.") || other.starts_with("sender_identity.") => {
            return Ok(out);
        }
        other => {
            out.unknown(other);
            return Ok(out);
        }
    };
    let data = v
        .get("data")
        .filter(|d| d.is_object())
        .ok_or_else(|| EspError::malformed(format!("a MailerSend {t} without data")))?;
    let mut e = EspEvent::new(Provider::MailerSend, kind, v.clone());
    e.event_id = text_at(data, &["id"]);
    e.recipient = first_text(
        data,
        &[&["email", "recipient", "email"], &["recipient", "email"]],
    );
    e.timestamp = first_text(data, &[&["created_at"]])
        .or_else(|| text_at(&v, &["created_at"]))
        .as_deref()
        .and_then(rfc3339_ms);
    e.message_id = first_text(
        data,
        &[
            &["email", "headers", "Message-ID"],
            &["email", "headers", "message-id"],
        ],
    );
    if kind == EventKind::Bounce {
        e.esp_type = Some(t.trim_start_matches("activity.").to_string());
    }
    // `morph` is what happened: the bounce's reason, the complaint, the unsubscribe.
    e.diagnostic = text_at(data, &["morph", "reason"]);
    if kind == EventKind::Complaint {
        e.feedback_type = Some("abuse".into());
    }
    out.events.push(e);
    Ok(out)
}

/// The event type is MailerSend's verdict.
pub(crate) fn opinion(kind: EventKind, t: &str, _s: &str) -> Opinion {
    match (kind, t) {
        (EventKind::Bounce, "hard_bounced") => Opinion {
            reason: None,
            permanent: Some(true),
        },
        (EventKind::Bounce, "soft_bounced") => Opinion {
            reason: None,
            permanent: Some(false),
        },
        _ => Opinion::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounce::Classifier;

    const HARD: &str = include_str!("fixtures/mailersend_hard_bounced.json");

    #[test]
    fn signatures_verify_and_everything_else_is_refused() {
        let v = MailerSendVerifier::new("Vho2Rt0TqfqGhPSRRzWHq9XBNtQ5hCm1");
        let sig = v.sign(HARD.as_bytes());
        v.verify(Some(&sig), HARD.as_bytes()).expect("good");
        v.verify(Some(&sig.to_uppercase()), HARD.as_bytes())
            .expect("hex case");
        assert!(matches!(
            v.verify(Some(&sig), b"{}"),
            Err(EspError::Unauthorized(Rejection::BadSignature, _))
        ));
        assert!(matches!(
            MailerSendVerifier::new("other").verify(Some(&sig), HARD.as_bytes()),
            Err(EspError::Unauthorized(Rejection::BadSignature, _))
        ));
        assert!(matches!(
            v.verify(None, HARD.as_bytes()),
            Err(EspError::Unauthorized(Rejection::Missing, _))
        ));
    }

    #[test]
    fn kinds_and_verdicts() {
        let c = Classifier::shared();
        let e = normalise(HARD.as_bytes()).expect("parse").events;
        assert_eq!(
            (
                e[0].kind,
                e[0].recipient.as_deref(),
                e[0].event_id.as_deref()
            ),
            (
                EventKind::Bounce,
                Some("dead@example.com"),
                Some("62134a2d7de3253bf10d6642")
            )
        );
        assert!(c.classify_esp(&e[0]).hard_bounce);
        let soft = HARD.replace("hard_bounced", "soft_bounced");
        assert!(
            !c.classify_esp(&normalise(soft.as_bytes()).expect("parse").events[0])
                .hard_bounce
        );
        for (t, kind) in [
            ("activity.delivered", Some(EventKind::Delivered)),
            ("activity.spam_complaint", Some(EventKind::Complaint)),
            ("activity.unsubscribed", Some(EventKind::Unsubscribed)),
            ("activity.opened", None),
        ] {
            let body = HARD.replace("activity.hard_bounced", t);
            assert_eq!(
                normalise(body.as_bytes())
                    .expect("parse")
                    .events
                    .first()
                    .map(|e| e.kind),
                kind,
                "{t}"
            );
        }
        let n = normalise(
            HARD.replace("activity.hard_bounced", "activity.teleported")
                .as_bytes(),
        )
        .expect("unknown");
        assert_eq!(n.unknown, vec!["activity.teleported".to_string()]);
    }

    #[test]
    fn junk_is_refused_never_a_panic() {
        for bad in [
            &b""[..],
            b"[]",
            b"{}",
            b"{\"type\":\"activity.hard_bounced\"}",
            b"{",
        ] {
            assert!(normalise(bad).is_err(), "{bad:?}");
        }
    }
}
