//! Mandrill (Mailchimp Transactional) webhooks.
//!
//! Mandrill posts a form (`application/x-www-form-urlencoded`) whose `mandrill_events` field
//! is a JSON array of events (`[]` when a webhook is added or tested). `X-Mandrill-Signature`
//! is the base64 HMAC-SHA1, under the webhook's key, of the webhook URL exactly as entered in
//! Mandrill followed by every POST field's name and value, the fields sorted by name.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

use super::auth::{hmac_sha1, require};
use super::{
    EspError, EspEvent, EventKind, MAX_BODY, Normalised, Opinion, Provider, Rejection, compound_id,
    ct_eq, first_text, text_at, unix_seconds_ms,
};
use crate::bounce::reason::Reason;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-mandrill-signature";

/// Verifies Mandrill's signatures for one webhook URL.
#[derive(Clone)]
pub struct MandrillVerifier {
    key: Vec<u8>,
    url: String,
}

impl std::fmt::Debug for MandrillVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MandrillVerifier {{ url: {:?}, .. }}", self.url)
    }
}

/// The POST fields of a form body, decoded.
fn fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

impl MandrillVerifier {
    /// For the webhook key and the URL entered in Mandrill.
    pub fn new(key: &str, url: &str) -> Result<MandrillVerifier, EspError> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(EspError::Config(
                "mandrill_webhook_url must be the full URL entered in Mandrill".into(),
            ));
        }
        Ok(MandrillVerifier {
            key: key.trim().as_bytes().to_vec(),
            url: url.to_string(),
        })
    }

    /// The signature of a form `body` posted to this URL.
    pub fn sign(&self, body: &[u8]) -> String {
        let mut f = fields(body);
        f.sort();
        let mut signed = self.url.clone();
        for (k, v) in &f {
            signed.push_str(k);
            signed.push_str(v);
        }
        B64.encode(hmac_sha1(&self.key, &[signed.as_bytes()]))
    }

    /// Checks `X-Mandrill-Signature` against the form `body`.
    pub fn verify(&self, signature: Option<&str>, body: &[u8]) -> Result<(), EspError> {
        let given = require(signature, "X-Mandrill-Signature")?;
        if ct_eq(given.as_bytes(), self.sign(body).as_bytes()) {
            Ok(())
        } else {
            Err(EspError::unauthorized(
                Rejection::BadSignature,
                "the signature does not match",
            ))
        }
    }
}

/// The form Mandrill posts for an events array (tests, simulations).
pub fn form_body(events_json: &str) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("mandrill_events", events_json)
        .finish()
        .into_bytes()
}

/// Normalises a form body. Sends, opens, clicks, inbound mail and allow/deny-list sync events
/// yield nothing; events Mandrill did not document are counted as unknown.
pub fn normalise(body: &[u8]) -> Result<Normalised, EspError> {
    if body.len() > MAX_BODY {
        return Err(EspError::malformed("body too large"));
    }
    let Some((_, events)) = fields(body)
        .into_iter()
        .find(|(k, _)| k == "mandrill_events")
    else {
        return Err(EspError::malformed("no mandrill_events field"));
    };
    let v: Value = serde_json::from_str(&events)
        .map_err(|e| EspError::malformed(format!("mandrill_events is not JSON: {e}")))?;
    let Some(items) = v.as_array() else {
        return Err(EspError::malformed("mandrill_events is not an array"));
    };
    let mut out = Normalised::default();
    for (i, item) in items.iter().enumerate() {
        if !item.is_object() {
            return Err(EspError::malformed(format!(
                "event {i} is not a JSON object"
            )));
        }
        // Sync events (allow / deny lists) have a `type` and no `event`.
        let Some(event) = text_at(item, &["event"]) else {
            if item.get("type").is_some() {
                continue;
            }
            out.unknown("");
            continue;
        };
        let kind = match event.as_str() {
            "hard_bounce" | "soft_bounce" => EventKind::Bounce,
            "deferral" => EventKind::Deferral,
            "reject" => EventKind::Rejected,
            "spam" => EventKind::Complaint,
            "unsub" => EventKind::Unsubscribed,
            "send" | "open" | "click" | "inbound" => continue,
            other => {
                out.unknown(other);
                continue;
            }
        };
        let msg = item.get("msg").cloned().unwrap_or(Value::Null);
        let mut e = EspEvent::new(Provider::Mandrill, kind, item.clone());
        e.recipient = text_at(&msg, &["email"]);
        e.timestamp = item.get("ts").and_then(unix_seconds_ms);
        e.event_id = compound_id(&[
            first_text(item, &[&["_id"], &["msg", "_id"]]).as_deref(),
            Some(&event),
            e.recipient.as_deref(),
            text_at(item, &["ts"]).as_deref(),
        ]);
        e.message_id = first_text(
            &msg,
            &[
                &["metadata", "message_id"],
                &["metadata", "rebound_message_id"],
            ],
        );
        e.diagnostic = text_at(&msg, &["diag"]).or_else(|| last_smtp_diag(&msg));
        match kind {
            EventKind::Bounce => {
                e.esp_type = Some(event.clone());
                e.esp_subtype = text_at(&msg, &["bounce_description"]);
            }
            EventKind::Rejected => {
                e.esp_type = Some("reject".into());
                e.esp_subtype =
                    first_text(item, &[&["msg", "reject", "reason"], &["reject", "reason"]]);
            }
            EventKind::Complaint => e.feedback_type = Some("abuse".into()),
            _ => {}
        }
        out.events.push(e);
    }
    Ok(out)
}

/// The last SMTP reply Mandrill saw (a deferral's reason).
fn last_smtp_diag(msg: &Value) -> Option<String> {
    msg.get("smtp_events")?
        .as_array()?
        .iter()
        .rev()
        .find_map(|s| text_at(s, &["diag"]))
}

/// The event and its `bounce_description` (or a rejection's reason) mapped.
pub(crate) fn opinion(kind: EventKind, t: &str, s: &str) -> Opinion {
    let described = match s {
        "bad_mailbox" => Some(Reason::UserUnknown),
        "invalid_domain" => Some(Reason::HostUnknown),
        "mailbox_full" => Some(Reason::MailboxFull),
        "spam_related" => Some(Reason::SpamDetected),
        "policy_related" => Some(Reason::PolicyViolation),
        "invalid" => Some(Reason::UserUnknown),
        _ => None,
    };
    match (kind, t) {
        (EventKind::Bounce, "hard_bounce") => Opinion {
            reason: described
                .filter(|r| r.class() == crate::bounce::BounceClass::RecipientPermanent),
            permanent: Some(true),
        },
        (EventKind::Bounce, _) | (EventKind::Deferral, _) => Opinion {
            reason: described,
            permanent: Some(false),
        },
        // On Mandrill's rejection list for a bounce, a complaint or an unsubscribe: the
        // address; anything else (rules, test mode, custom) is not.
        (EventKind::Rejected, _) => match s {
            "hard-bounce" | "spam" | "unsub" => Opinion {
                reason: Some(Reason::Suppressed),
                permanent: Some(true),
            },
            _ => Opinion {
                reason: Some(Reason::PolicyViolation),
                permanent: Some(false),
            },
        },
        _ => Opinion::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounce::Classifier;

    const EVENTS: &str = include_str!("fixtures/mandrill_events.json");
    const URL: &str = "https://rebound.example.com/api/v1/webhooks/mandrill";

    fn form(events: &str) -> Vec<u8> {
        form_body(events)
    }

    #[test]
    fn signatures_cover_the_url_and_the_fields() {
        let v = MandrillVerifier::new("k3y", URL).expect("verifier");
        let body = form(EVENTS);
        let sig = v.sign(&body);
        v.verify(Some(&sig), &body).expect("good");
        // Computed by hand: the URL, then `mandrill_events` and its decoded value.
        let by_hand = B64.encode(hmac_sha1(
            b"k3y",
            &[URL.as_bytes(), b"mandrill_events", EVENTS.as_bytes()],
        ));
        assert_eq!(sig, by_hand);
        let elsewhere = MandrillVerifier::new("k3y", "https://other.example/hook").expect("v");
        assert!(
            elsewhere.verify(Some(&sig), &body).is_err(),
            "the URL is signed"
        );
        assert!(matches!(
            v.verify(Some(&sig), &form("[]")),
            Err(EspError::Unauthorized(Rejection::BadSignature, _))
        ));
        assert!(matches!(
            v.verify(None, &body),
            Err(EspError::Unauthorized(Rejection::Missing, _))
        ));
        assert!(MandrillVerifier::new("k", "/relative").is_err());
    }

    #[test]
    fn kinds_and_verdicts() {
        let c = Classifier::shared();
        let n = normalise(&form(EVENTS)).expect("parse");
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
                (EventKind::Bounce, Some("dead@example.com"), true),
                (EventKind::Bounce, Some("full@example.com"), false),
                (EventKind::Deferral, Some("slow@example.com"), false),
                (EventKind::Rejected, Some("listed@example.com"), true),
                (EventKind::Complaint, Some("grumpy@example.com"), false),
                (EventKind::Unsubscribed, Some("bye@example.com"), false),
            ],
            "send, open and the sync event are skipped"
        );
        assert_eq!(n.unknown, vec!["teleport".to_string()]);
        assert_eq!(
            n.events[0].message_id.as_deref(),
            Some("<r80.a1.Md@bounce.rebound.local>")
        );
        assert_eq!(normalise(&form("[]")), Ok(Normalised::default()));
    }

    #[test]
    fn junk_is_refused_never_a_panic() {
        for bad in [
            &b""[..],
            b"x=1",
            &form("{")[..],
            &form("{}")[..],
            &form("[1]")[..],
        ] {
            assert!(normalise(bad).is_err(), "{bad:?}");
        }
    }
}
