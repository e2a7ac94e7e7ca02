//! Resend webhooks, delivered and signed by Svix.
//!
//! Each request carries `svix-id`, `svix-timestamp` (Unix seconds) and `svix-signature`
//! (space-separated `v1,<base64>` entries); a signature is the HMAC-SHA256 of
//! `{svix-id}.{svix-timestamp}.{body}` under the base64 key after `whsec_` in the endpoint's
//! signing secret. The body is one event: `{"type": "email.bounced", "created_at": ...,
//! "data": {"email_id": ..., "to": [...], "bounce": {"type": "Permanent", ...}}}`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

use super::auth::{fresh, hmac_sha256, require};
use super::{
    EspError, EspEvent, EventKind, Normalised, Opinion, Provider, Rejection, compound_id, ct_eq,
    first_text, parse_json, rfc3339_ms, text_at,
};
use crate::bounce::reason::Reason;

/// Svix's headers.
pub const ID_HEADER: &str = "svix-id";
pub const TIMESTAMP_HEADER: &str = "svix-timestamp";
pub const SIGNATURE_HEADER: &str = "svix-signature";

/// Verifies Svix signatures.
#[derive(Clone)]
pub struct SvixVerifier {
    key: Vec<u8>,
}

impl std::fmt::Debug for SvixVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SvixVerifier { .. }")
    }
}

impl SvixVerifier {
    /// From the endpoint's signing secret (`whsec_<base64>`; the bare base64 works too).
    pub fn new(secret: &str) -> Result<SvixVerifier, EspError> {
        let b64 = secret.trim();
        let b64 = b64.strip_prefix("whsec_").unwrap_or(b64);
        let key = B64
            .decode(b64)
            .map_err(|_| EspError::Config("resend_signing_secret is not whsec_<base64>".into()))?;
        if key.is_empty() {
            return Err(EspError::Config("resend_signing_secret is empty".into()));
        }
        Ok(SvixVerifier { key })
    }

    /// The `v1,<base64>` signature of `body` for `id` and `timestamp`.
    pub fn sign(&self, id: &str, timestamp: &str, body: &[u8]) -> String {
        let mac = hmac_sha256(
            &self.key,
            &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body],
        );
        format!("v1,{}", B64.encode(mac))
    }

    /// Checks the Svix headers against `body`; the timestamp must be within
    /// `max_age_seconds` of `now_ms`.
    pub fn verify(
        &self,
        id: Option<&str>,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        now_ms: i64,
        max_age_seconds: i64,
    ) -> Result<(), EspError> {
        let id = require(id, ID_HEADER)?;
        let ts = require(timestamp, TIMESTAMP_HEADER)?;
        let given = require(signature, SIGNATURE_HEADER)?;
        let expected = self.sign(id, ts, body);
        // Several signatures while a secret is rotated; any one matching is enough.
        let hit = given
            .split_whitespace()
            .filter(|s| s.starts_with("v1,"))
            .fold(false, |hit, s| {
                ct_eq(s.as_bytes(), expected.as_bytes()) | hit
            });
        if !hit {
            return Err(EspError::unauthorized(
                Rejection::BadSignature,
                "the signature does not match",
            ));
        }
        fresh(ts, now_ms, max_age_seconds)
    }
}

/// Normalises one Resend event: one per recipient in `data.to`. Sends, opens, clicks,
/// scheduling and contact or domain events yield nothing; types Resend did not document are
/// counted as unknown.
pub fn normalise(body: &[u8]) -> Result<Normalised, EspError> {
    let v = parse_json(body)?;
    if !v.is_object() {
        return Err(EspError::malformed("a Resend event is a JSON object"));
    }
    let Some(t) = text_at(&v, &["type"]) else {
        return Err(EspError::malformed("not a Resend event: no type"));
    };
    let mut out = Normalised::default();
    let kind = match t.as_str() {
        "email.delivered" => EventKind::Delivered,
        "email.delivery_delayed" => EventKind::Deferral,
        "email.bounced" => EventKind::Bounce,
        "email.complained" => EventKind::Complaint,
        "email.failed" | "email.suppressed" => EventKind::Rejected,
        "email.sent" | "email.opened" | "email.clicked" | "email.scheduled" | "email.received" => {
            return Ok(out);
        }
        other if other.starts_with("contact.") || other.starts_with("domain.") => return Ok(out),
        other => {
            out.unknown(other);
            return Ok(out);
        }
    };
    let data = v
        .get("data")
        .filter(|d| d.is_object())
        .ok_or_else(|| EspError::malformed(format!("a Resend {t} without data")))?;
    let to: Vec<String> = match data.get("to") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    };
    let email_id = text_at(data, &["email_id"]);
    let when = first_text(&v, &[&["created_at"]]).or_else(|| text_at(data, &["created_at"]));
    for rcpt in if to.is_empty() {
        vec![None]
    } else {
        to.into_iter().map(Some).collect()
    } {
        let mut e = EspEvent::new(Provider::Resend, kind, v.clone());
        e.event_id = compound_id(&[email_id.as_deref(), Some(&t), rcpt.as_deref()]);
        e.recipient = rcpt;
        e.timestamp = when.as_deref().and_then(rfc3339_ms);
        e.message_id = message_id_header(data);
        match kind {
            EventKind::Bounce => {
                e.esp_type = text_at(data, &["bounce", "type"]);
                e.esp_subtype = text_at(data, &["bounce", "subType"]);
                e.diagnostic = text_at(data, &["bounce", "message"]);
            }
            EventKind::Rejected => {
                e.esp_type = Some(t.clone());
                e.diagnostic =
                    first_text(data, &[&["failed", "reason"], &["suppressed", "message"]]);
            }
            EventKind::Complaint => e.feedback_type = Some("abuse".into()),
            _ => {}
        }
        out.events.push(e);
    }
    Ok(out)
}

/// Our Message-ID, when Resend echoes the message's headers.
fn message_id_header(data: &Value) -> Option<String> {
    data.get("headers")?.as_array()?.iter().find_map(|h| {
        let name = h.get("name")?.as_str()?;
        name.eq_ignore_ascii_case("message-id")
            .then(|| text_at(h, &["value"]))
            .flatten()
    })
}

/// Resend sends through Amazon SES and passes SES's `bounce.type` on: `Permanent` or
/// `Transient` (`Undetermined`: no verdict). A suppressed address is Resend's own refusal.
pub(crate) fn opinion(kind: EventKind, t: &str, s: &str) -> Opinion {
    match (kind, t) {
        (EventKind::Bounce, _) => super::ses_events::opinion(kind, t, s),
        (EventKind::Rejected, "email.suppressed") => Opinion {
            reason: Some(Reason::Suppressed),
            permanent: Some(true),
        },
        (EventKind::Rejected, _) => Opinion {
            reason: Some(Reason::SystemError),
            permanent: Some(false),
        },
        (EventKind::Deferral, _) => Opinion {
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

    const BOUNCED: &str = include_str!("fixtures/resend_bounced.json");
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn svix_signatures_verify_and_everything_else_is_refused() {
        let v = SvixVerifier::new(SECRET).expect("secret");
        let ts = (NOW / 1000).to_string();
        let sig = v.sign("msg_1", &ts, BOUNCED.as_bytes());
        v.verify(
            Some("msg_1"),
            Some(&ts),
            Some(&sig),
            BOUNCED.as_bytes(),
            NOW,
            300,
        )
        .expect("good");
        let two = format!("v1,AAAA {sig}");
        v.verify(
            Some("msg_1"),
            Some(&ts),
            Some(&two),
            BOUNCED.as_bytes(),
            NOW,
            300,
        )
        .expect("one of several");
        let refused = |r: Result<(), EspError>, want: Rejection| match r {
            Err(EspError::Unauthorized(got, _)) => assert_eq!(got, want),
            other => panic!("expected {want:?}, got {other:?}"),
        };
        refused(
            v.verify(
                Some("msg_2"),
                Some(&ts),
                Some(&sig),
                BOUNCED.as_bytes(),
                NOW,
                300,
            ),
            Rejection::BadSignature,
        );
        refused(
            v.verify(Some("msg_1"), Some(&ts), Some(&sig), b"{}", NOW, 300),
            Rejection::BadSignature,
        );
        let old = (NOW / 1000 - 301).to_string();
        let old_sig = v.sign("msg_1", &old, BOUNCED.as_bytes());
        refused(
            v.verify(
                Some("msg_1"),
                Some(&old),
                Some(&old_sig),
                BOUNCED.as_bytes(),
                NOW,
                300,
            ),
            Rejection::Stale,
        );
        refused(
            v.verify(None, Some(&ts), Some(&sig), BOUNCED.as_bytes(), NOW, 300),
            Rejection::Missing,
        );
        let other = SvixVerifier::new("whsec_c2VjcmV0").expect("other");
        refused(
            other.verify(
                Some("msg_1"),
                Some(&ts),
                Some(&sig),
                BOUNCED.as_bytes(),
                NOW,
                300,
            ),
            Rejection::BadSignature,
        );
        assert!(SvixVerifier::new("whsec_%%%").is_err());
        assert_eq!(format!("{v:?}"), "SvixVerifier { .. }");
    }

    #[test]
    fn bounces_follow_the_bounce_type_for_every_recipient() {
        let c = Classifier::shared();
        let e = normalise(BOUNCED.as_bytes()).expect("parse").events;
        assert_eq!(e.len(), 2);
        assert_eq!(
            (e[0].kind, e[1].recipient.as_deref()),
            (EventKind::Bounce, Some("other@example.com"))
        );
        assert!(c.classify_esp(&e[0]).hard_bounce);
        assert_ne!(e[0].event_id, e[1].event_id);
        let soft = BOUNCED
            .replace("\"Permanent\"", "\"Transient\"")
            .replace("\"Suppressed\"", "\"General\"");
        assert!(
            !c.classify_esp(&normalise(soft.as_bytes()).expect("parse").events[0])
                .hard_bounce
        );
        for (t, kind) in [
            ("email.delivered", Some(EventKind::Delivered)),
            ("email.delivery_delayed", Some(EventKind::Deferral)),
            ("email.complained", Some(EventKind::Complaint)),
            ("email.failed", Some(EventKind::Rejected)),
            ("email.opened", None),
        ] {
            let body = BOUNCED.replace("email.bounced", t);
            let n = normalise(body.as_bytes()).expect("parse");
            assert_eq!(n.events.first().map(|e| e.kind), kind, "{t}");
        }
        let n = normalise(
            BOUNCED
                .replace("email.bounced", "email.teleported")
                .as_bytes(),
        )
        .expect("unknown");
        assert_eq!(n.unknown, vec!["email.teleported".to_string()]);
    }

    #[test]
    fn junk_is_refused_never_a_panic() {
        for bad in [
            &b""[..],
            b"[]",
            b"{}",
            b"{\"type\":\"email.bounced\"}",
            b"{",
        ] {
            assert!(normalise(bad).is_err(), "{bad:?}");
        }
    }
}
