//! Twilio SendGrid Event Webhook.
//!
//! A POST carries a JSON array of events (`processed`, `deferred`, `delivered`, `bounce`,
//! `dropped`, `spamreport`, `open`, ...). With "Signed Event Webhook" on, SendGrid signs
//! `timestamp + body` with ECDSA P-256 over SHA-256: the base64 DER signature is in
//! `X-Twilio-Email-Event-Webhook-Signature`, the timestamp (Unix seconds) in
//! `X-Twilio-Email-Event-Webhook-Timestamp`; the verification key is the base64 DER
//! SubjectPublicKeyInfo SendGrid shows in its settings.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;

use super::{
    EspError, EspEvent, EventKind, Normalised, Opinion, Provider, Rejection, parse_json, text_at,
    unix_seconds_ms,
};
use crate::bounce::reason::Reason;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-twilio-email-event-webhook-signature";
/// The timestamp header.
pub const TIMESTAMP_HEADER: &str = "x-twilio-email-event-webhook-timestamp";

/// Verifies signed SendGrid event batches.
#[derive(Debug, Clone)]
pub struct SendGridVerifier {
    key: VerifyingKey,
}

/// The key bytes: base64 DER, with or without the PEM armour.
fn decode_key_text(text: &str) -> Option<Vec<u8>> {
    let b64: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("-----"))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    B64.decode(b64).ok()
}

impl SendGridVerifier {
    /// A verifier for the public key as SendGrid shows it (base64 DER SubjectPublicKeyInfo;
    /// a PEM `PUBLIC KEY` block works too).
    pub fn new(public_key: &str) -> Result<SendGridVerifier, EspError> {
        let der = decode_key_text(public_key)
            .ok_or_else(|| EspError::Config("sendgrid_public_key is not base64".into()))?;
        let key = VerifyingKey::from_public_key_der(&der).map_err(|e| {
            EspError::Config(format!(
                "sendgrid_public_key is not a P-256 public key: {e}"
            ))
        })?;
        Ok(SendGridVerifier { key })
    }

    /// Checks the signature headers against `body`; the timestamp must be within
    /// `max_age_seconds` of `now_ms`.
    pub fn verify(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
        now_ms: i64,
        max_age_seconds: i64,
    ) -> Result<(), EspError> {
        let (Some(signature), Some(timestamp)) = (signature, timestamp) else {
            return Err(EspError::unauthorized(
                Rejection::Missing,
                "the signature or timestamp header is missing",
            ));
        };
        let bad = |why: &str| EspError::unauthorized(Rejection::BadSignature, why);
        let der = B64
            .decode(signature.trim())
            .map_err(|_| bad("the signature is not base64"))?;
        let sig = Signature::from_der(&der).map_err(|_| bad("the signature is not DER ECDSA"))?;
        let sig = sig.normalize_s().unwrap_or(sig);
        let mut signed = Vec::with_capacity(timestamp.len() + body.len());
        signed.extend_from_slice(timestamp.as_bytes());
        signed.extend_from_slice(body);
        self.key
            .verify(&signed, &sig)
            .map_err(|_| bad("the signature does not match"))?;
        let ts: i64 = timestamp.trim().parse().map_err(|_| {
            EspError::unauthorized(Rejection::Stale, "the timestamp is not a number")
        })?;
        if (now_ms / 1000).saturating_sub(ts).abs() > max_age_seconds {
            return Err(EspError::unauthorized(
                Rejection::Stale,
                "the signed timestamp is too old",
            ));
        }
        Ok(())
    }
}

/// Signs `timestamp + body` with a P-256 private key (32-byte scalar) the way SendGrid does;
/// returns the base64 DER signature. For tests and for simulating SendGrid.
pub fn sign(private_key: &[u8], timestamp: &str, body: &[u8]) -> Result<String, EspError> {
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer;
    let key = SigningKey::from_slice(private_key)
        .map_err(|_| EspError::Config("not a P-256 private key".into()))?;
    let mut signed = timestamp.as_bytes().to_vec();
    signed.extend_from_slice(body);
    let sig: Signature = key.sign(&signed);
    Ok(B64.encode(sig.to_der().as_bytes()))
}

/// The public key of a P-256 private key, as SendGrid shows one (base64 DER
/// SubjectPublicKeyInfo).
pub fn public_key_base64(private_key: &[u8]) -> Result<String, EspError> {
    use p256::ecdsa::SigningKey;
    use p256::pkcs8::EncodePublicKey;
    let key = SigningKey::from_slice(private_key)
        .map_err(|_| EspError::Config("not a P-256 private key".into()))?;
    let der = VerifyingKey::from(&key)
        .to_public_key_der()
        .map_err(|e| EspError::Config(format!("cannot encode the public key: {e}")))?;
    Ok(B64.encode(der.as_bytes()))
}

/// Normalises an event batch. Processed, open, click and resubscribe events yield nothing;
/// events SendGrid did not document are counted as unknown.
pub fn normalise(body: &[u8]) -> Result<Normalised, EspError> {
    let v = parse_json(body)?;
    let Some(items) = v.as_array() else {
        return Err(EspError::malformed(
            "a SendGrid event batch is a JSON array",
        ));
    };
    let mut out = Normalised::default();
    for (i, item) in items.iter().enumerate() {
        if !item.is_object() {
            return Err(EspError::malformed(format!(
                "event {i} is not a JSON object"
            )));
        }
        let event = text_at(item, &["event"]).unwrap_or_default();
        let kind = match event.as_str() {
            "bounce" => EventKind::Bounce,
            "dropped" => EventKind::Rejected,
            "deferred" => EventKind::Deferral,
            "delivered" => EventKind::Delivered,
            "spamreport" => EventKind::Complaint,
            "unsubscribe" | "group_unsubscribe" => EventKind::Unsubscribed,
            "processed" | "open" | "click" | "group_resubscribe" => continue,
            other => {
                out.unknown(other);
                continue;
            }
        };
        let mut e = EspEvent::new(Provider::SendGrid, kind, item.clone());
        e.event_id = text_at(item, &["sg_event_id"]);
        e.recipient = text_at(item, &["email"]);
        e.message_id = text_at(item, &["smtp-id"]);
        e.timestamp = item.get("timestamp").and_then(unix_seconds_ms);
        match event.as_str() {
            "bounce" => {
                // `type` is `bounce` (permanent) or `blocked` (temporary); older payloads
                // have no `type`, and a bounce event is then permanent.
                e.esp_type = text_at(item, &["type"]).or_else(|| Some("bounce".into()));
                e.esp_subtype = text_at(item, &["bounce_classification"]);
                e.diagnostic = text_at(item, &["reason"]);
                e.enhanced = text_at(item, &["status"]);
            }
            "dropped" => {
                e.esp_type = Some("dropped".into());
                e.esp_subtype = text_at(item, &["reason"]);
                e.diagnostic = text_at(item, &["reason"]);
            }
            "deferred" => {
                e.esp_type = Some("deferred".into());
                e.diagnostic = text_at(item, &["response"]);
            }
            "spamreport" => e.feedback_type = Some("abuse".into()),
            _ => e.diagnostic = text_at(item, &["response"]),
        }
        out.events.push(e);
    }
    Ok(out)
}

/// The events of a batch, without the unknown kinds (for callers that only apply events).
pub fn parse_events(body: &[u8]) -> Result<Vec<EspEvent>, EspError> {
    normalise(body).map(|n| n.events)
}

/// SendGrid's `type` (`bounce` / `blocked`, or `dropped` / `deferred`) and
/// `bounce_classification` (or the `dropped` reason) mapped.
pub(crate) fn opinion(kind: EventKind, t: &str, s: &str) -> Opinion {
    let classification = |s: &str| match s {
        "Invalid Address" => Some(Reason::UserUnknown),
        "Reputation" => Some(Reason::BadReputation),
        "Frequency or Volume" => Some(Reason::RateLimited),
        "Content" => Some(Reason::ContentError),
        _ => None,
    };
    match (kind, t) {
        (EventKind::Rejected, _) => Opinion {
            reason: match s {
                "Bounced Address"
                | "Invalid"
                | "Unsubscribed Address"
                | "Spam Reporting Address" => Some(Reason::Suppressed),
                s if s.starts_with("Spam Content") => Some(Reason::SpamDetected),
                _ => None,
            },
            permanent: Some(true),
        },
        // Blocks are SendGrid's temporary failures (blocklists, throttling).
        (EventKind::Bounce, "blocked") => Opinion {
            reason: classification(s),
            permanent: Some(false),
        },
        (EventKind::Bounce, _) => Opinion {
            reason: classification(s),
            permanent: Some(true),
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
    use crate::bounce::{BounceClass, Classifier};

    const EVENTS: &str = include_str!("fixtures/sendgrid_events.json");
    const SECRET: [u8; 32] = [7u8; 32];
    const OTHER: [u8; 32] = [9u8; 32];
    const NOW: i64 = 1_800_000_000_000;

    fn verifier(secret: &[u8]) -> SendGridVerifier {
        SendGridVerifier::new(&public_key_base64(secret).expect("public key")).expect("verifier")
    }

    #[test]
    fn good_signatures_pass_and_everything_else_is_refused() {
        let ts = (NOW / 1000).to_string();
        let body = EVENTS.as_bytes();
        let sig = sign(&SECRET, &ts, body).expect("sign");
        let v = verifier(&SECRET);
        v.verify(Some(&sig), Some(&ts), body, NOW, 600)
            .expect("good signature");
        // The same key as PEM.
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            public_key_base64(&SECRET).expect("pk")
        );
        SendGridVerifier::new(&pem)
            .expect("pem")
            .verify(Some(&sig), Some(&ts), body, NOW, 600)
            .expect("pem key");

        let tampered = EVENTS.replace("dead@example.com", "live@example.com");
        let refused = |r: Result<(), EspError>, want: Rejection| match r {
            Err(EspError::Unauthorized(got, _)) => assert_eq!(got, want),
            other => panic!("expected {want:?}, got {other:?}"),
        };
        refused(
            v.verify(Some(&sig), Some(&ts), tampered.as_bytes(), NOW, 600),
            Rejection::BadSignature,
        );
        refused(
            verifier(&OTHER).verify(Some(&sig), Some(&ts), body, NOW, 600),
            Rejection::BadSignature,
        );
        let other_ts = (NOW / 1000 + 1).to_string();
        refused(
            v.verify(Some(&sig), Some(&other_ts), body, NOW, 600),
            Rejection::BadSignature,
        );
        let old = (NOW / 1000 - 601).to_string();
        let old_sig = sign(&SECRET, &old, body).expect("sign");
        refused(
            v.verify(Some(&old_sig), Some(&old), body, NOW, 600),
            Rejection::Stale,
        );
        refused(
            v.verify(None, Some(&ts), body, NOW, 600),
            Rejection::Missing,
        );
        refused(
            v.verify(Some("not base64!"), Some(&ts), body, NOW, 600),
            Rejection::BadSignature,
        );
        refused(
            v.verify(Some("AAAA"), Some(&ts), body, NOW, 600),
            Rejection::BadSignature,
        );
        assert!(SendGridVerifier::new("bm90IGEga2V5").is_err());
        assert!(SendGridVerifier::new("%%").is_err());
    }

    #[test]
    fn the_batch_is_normalised_and_classified() {
        let n = normalise(EVENTS.as_bytes()).expect("parse");
        assert!(n.unknown.is_empty());
        let evs = n.events;
        let kinds: Vec<(EventKind, Option<&str>)> = evs
            .iter()
            .map(|e| (e.kind, e.recipient.as_deref()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (EventKind::Deferral, Some("slow@example.com")),
                (EventKind::Delivered, Some("jane@example.com")),
                (EventKind::Bounce, Some("dead@example.com")),
                (EventKind::Bounce, Some("blocked@example.com")),
                (EventKind::Rejected, Some("dropped@example.com")),
                (EventKind::Complaint, Some("grumpy@example.com")),
            ],
            "processed and open events are skipped"
        );
        let c = Classifier::shared();
        let dead = c.classify_esp(&evs[2]);
        assert_eq!(
            evs[2].message_id.as_deref(),
            Some("<r9.a1.Sg@bounce.rebound.local>")
        );
        assert_eq!(evs[2].timestamp, Some(1_800_000_000_000));
        assert!(
            evs.iter().all(|e| e.event_id.is_some()),
            "sg_event_id on every event"
        );
        assert_eq!(dead.verdict.class, BounceClass::RecipientPermanent);
        assert!(dead.hard_bounce);
        let blocked = c.classify_esp(&evs[3]);
        assert_eq!(blocked.verdict.class, BounceClass::SenderReputation);
        assert!(!blocked.hard_bounce);
        let dropped = c.classify_esp(&evs[4]);
        assert_eq!(
            (dropped.verdict.reason, dropped.hard_bounce),
            (Reason::Suppressed, true)
        );
        assert!(!c.classify_esp(&evs[0]).hard_bounce);
        assert_eq!(
            c.classify_esp(&evs[5]).verdict.class,
            BounceClass::Complaint
        );
    }

    #[test]
    fn a_bounce_without_reason_is_hard_and_unsubscribes_are_kept() {
        let n = normalise(
            br#"[{"email":"gone@example.com","timestamp":1800000000,"event":"bounce","type":"bounce","sg_event_id":"e1","sg_message_id":"m1"},
                 {"email":"bye@example.com","timestamp":1800000001,"event":"unsubscribe","sg_event_id":"e2"},
                 {"email":"bye@example.com","timestamp":1800000002,"event":"group_unsubscribe","asm_group_id":1,"sg_event_id":"e3"}]"#,
        )
        .expect("parse");
        let v = Classifier::shared().classify_esp(&n.events[0]);
        assert_eq!(
            (v.verdict.class, v.hard_bounce),
            (BounceClass::RecipientPermanent, true)
        );
        assert_eq!(n.events[1].kind, EventKind::Unsubscribed);
        assert_eq!(n.events[2].kind, EventKind::Unsubscribed);
    }

    #[test]
    fn junk_is_refused_never_a_panic() {
        for bad in [&b""[..], b"{}", b"[1]", b"[{\"event\":\"bounce\"}", b"nul"] {
            assert!(normalise(bad).is_err(), "{bad:?}");
        }
        assert_eq!(normalise(b"[]"), Ok(Normalised::default()));
        let n = normalise(b"[{\"event\":\"warp\"},{\"event\":\"open\"}]").expect("unknown");
        assert_eq!((n.events.len(), n.unknown), (0, vec!["warp".to_string()]));
        let odd = normalise(b"[{\"event\":\"bounce\",\"email\":[],\"timestamp\":\"x\"}]")
            .expect("lenient")
            .events;
        assert_eq!(
            (odd[0].recipient.as_deref(), odd[0].timestamp),
            (None, None)
        );
    }
}
