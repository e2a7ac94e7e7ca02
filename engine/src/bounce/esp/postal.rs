//! Postal (self-hosted) webhooks.
//!
//! Postal posts one JSON object per event: `{"event": "MessageDeliveryFailed", "timestamp":
//! 1800000000.1, "uuid": "...", "payload": {...}}`. It signs the raw body with the server's
//! RSA key: `X-Postal-Signature` is the base64 RSA-SHA1 (PKCS#1 v1.5) signature, and newer
//! Postal versions add `X-Postal-Signature-256` (RSA-SHA256), checked when present. The
//! public key is the `p=` value of the Postal server's DNS record (base64 DER
//! SubjectPublicKeyInfo), which is what `esp_webhooks.postal_public_key` takes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rsa::RsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use serde_json::Value;

use super::{
    EspError, EspEvent, EventKind, Normalised, Opinion, Provider, Rejection, compound_id,
    first_text, parse_json, text_at, unix_seconds_ms,
};

/// The SHA-1 signature header (every Postal version).
pub const SIGNATURE_HEADER: &str = "x-postal-signature";
/// The SHA-256 signature header (newer Postal versions).
pub const SIGNATURE_256_HEADER: &str = "x-postal-signature-256";

/// Verifies Postal's RSA signatures.
#[derive(Debug, Clone)]
pub struct PostalVerifier {
    key: RsaPublicKey,
}

impl PostalVerifier {
    /// From the public key as Postal's DNS record shows it (`p=` value, base64 DER), the whole
    /// record (`v=DKIM1; t=s; h=sha256; p=...`) or a PEM `PUBLIC KEY` block.
    pub fn new(public_key: &str) -> Result<PostalVerifier, EspError> {
        let text = match public_key
            .split(';')
            .find_map(|p| p.trim().strip_prefix("p="))
        {
            Some(p) => p.to_string(),
            None => public_key
                .lines()
                .filter(|l| !l.trim_start().starts_with("-----"))
                .collect(),
        };
        let b64: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let der = B64
            .decode(b64)
            .map_err(|_| EspError::Config("postal_public_key is not base64".into()))?;
        let key = RsaPublicKey::from_public_key_der(&der).map_err(|e| {
            EspError::Config(format!("postal_public_key is not an RSA public key: {e}"))
        })?;
        Ok(PostalVerifier { key })
    }

    /// Checks the signature headers against the raw `body` (SHA-256 when that header is
    /// there, else SHA-1).
    pub fn verify(
        &self,
        sha1_signature: Option<&str>,
        sha256_signature: Option<&str>,
        body: &[u8],
    ) -> Result<(), EspError> {
        let bad = |why: &str| EspError::unauthorized(Rejection::BadSignature, why);
        let (given, sha256) = match (sha256_signature, sha1_signature) {
            (Some(s), _) => (s, true),
            (None, Some(s)) => (s, false),
            (None, None) => {
                return Err(EspError::unauthorized(
                    Rejection::Missing,
                    "the X-Postal-Signature header is missing",
                ));
            }
        };
        let raw = B64
            .decode(given.trim())
            .map_err(|_| bad("the signature is not base64"))?;
        let sig = rsa::pkcs1v15::Signature::try_from(raw.as_slice())
            .map_err(|_| bad("the signature is malformed"))?;
        let ok = if sha256 {
            rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(self.key.clone())
                .verify(body, &sig)
                .is_ok()
        } else {
            rsa::pkcs1v15::VerifyingKey::<sha1::Sha1>::new(self.key.clone())
                .verify(body, &sig)
                .is_ok()
        };
        if ok {
            Ok(())
        } else {
            Err(bad("the signature does not match"))
        }
    }
}

/// Signs `body` the way Postal does (base64 RSA-SHA1 and RSA-SHA256) with a PKCS#8 PEM key.
/// For tests and for simulating Postal.
pub fn sign(private_key_pem: &str, body: &[u8]) -> Result<(String, String), EspError> {
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(private_key_pem)
        .map_err(|e| EspError::Config(format!("not a PKCS#8 RSA key: {e}")))?;
    let s1 = rsa::pkcs1v15::SigningKey::<sha1::Sha1>::new(key.clone()).sign(body);
    let s256 = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key).sign(body);
    Ok((B64.encode(s1.to_vec()), B64.encode(s256.to_vec())))
}

/// The public half of a PKCS#8 PEM RSA key as Postal's DNS record gives it (the `p=` value,
/// base64 DER): what `esp_webhooks.postal_public_key` takes. For tests and simulations.
pub fn public_key_base64(private_key_pem: &str) -> Result<String, EspError> {
    use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(private_key_pem)
        .map_err(|e| EspError::Config(format!("not a PKCS#8 RSA key: {e}")))?;
    let der = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| EspError::Config(format!("cannot encode the public key: {e}")))?;
    Ok(B64.encode(der.as_bytes()))
}

/// Normalises one Postal webhook body. Held messages, opens, clicks and DNS or send-limit
/// notices yield nothing; events Postal did not document are counted as unknown.
pub fn normalise(body: &[u8]) -> Result<Normalised, EspError> {
    let v = parse_json(body)?;
    if !v.is_object() {
        return Err(EspError::malformed("a Postal webhook is a JSON object"));
    }
    let Some(event) = text_at(&v, &["event"]) else {
        return Err(EspError::malformed("not a Postal webhook: no event"));
    };
    let mut out = Normalised::default();
    let p = v.get("payload").cloned().unwrap_or(Value::Null);
    let kind = match event.as_str() {
        "MessageSent" => EventKind::Delivered,
        "MessageDelayed" => EventKind::Deferral,
        "MessageDeliveryFailed" => EventKind::Bounce,
        "MessageBounced" => EventKind::Bounce,
        "MessageHeld"
        | "MessageLoaded"
        | "MessageLinkClicked"
        | "DomainDNSError"
        | "SendLimitApproaching"
        | "SendLimitExceeded" => return Ok(out),
        other => {
            out.unknown(other);
            return Ok(out);
        }
    };
    if !p.is_object() {
        return Err(EspError::malformed(format!(
            "a Postal {event} without payload"
        )));
    }
    // A bounce names the message it answers as `original_message`, the others as `message`.
    let msg = if event == "MessageBounced" {
        p.get("original_message")
    } else {
        p.get("message")
    }
    .cloned()
    .unwrap_or(Value::Null);
    let mut e = EspEvent::new(Provider::Postal, kind, v.clone());
    e.recipient = text_at(&msg, &["to"]);
    e.message_id = text_at(&msg, &["message_id"]);
    e.timestamp = v
        .get("timestamp")
        .or_else(|| p.get("timestamp"))
        .and_then(unix_seconds_ms);
    e.event_id = text_at(&v, &["uuid"]).or_else(|| {
        compound_id(&[
            text_at(&msg, &["id"]).as_deref(),
            Some(&event),
            text_at(&v, &["timestamp"]).as_deref(),
        ])
    });
    if event == "MessageBounced" {
        e.esp_type = Some("Bounced".into());
    } else {
        // `status`: Sent, SoftFail, HardFail; `output` is the receiving server's reply.
        e.esp_type = text_at(&p, &["status"]);
        e.diagnostic = first_text(&p, &[&["output"], &["details"]]);
    }
    out.events.push(e);
    Ok(out)
}

/// Postal's delivery `status` mapped: a `HardFail` is a permanent refusal, a `SoftFail` a
/// temporary one. A bounce message received later has no verdict of Postal's.
pub(crate) fn opinion(kind: EventKind, t: &str, _s: &str) -> Opinion {
    match (kind, t) {
        (EventKind::Bounce, "HardFail") => Opinion {
            reason: None,
            permanent: Some(true),
        },
        (EventKind::Bounce | EventKind::Deferral, "SoftFail") => Opinion {
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

    const KEY: &str = include_str!("fixtures/sns-test-key.pem");
    const OTHER_KEY: &str = include_str!("fixtures/sns-other-key.pem");
    const FAILED: &str = include_str!("fixtures/postal_delivery_failed.json");
    const BOUNCED: &str = include_str!("fixtures/postal_bounced.json");

    /// The test key's public half as Postal's DNS record gives it.
    fn dns_record() -> String {
        let p = public_key_base64(KEY).expect("public key");
        format!("v=DKIM1; t=s; h=sha256; p={p};")
    }

    #[test]
    fn both_signatures_verify_and_tampering_is_refused() {
        let v = PostalVerifier::new(&dns_record()).expect("key");
        let (s1, s256) = sign(KEY, FAILED.as_bytes()).expect("sign");
        v.verify(Some(&s1), None, FAILED.as_bytes()).expect("sha1");
        v.verify(Some(&s1), Some(&s256), FAILED.as_bytes())
            .expect("sha256 preferred");
        let tampered = FAILED.replace("HardFail", "SoftFail");
        assert!(matches!(
            v.verify(Some(&s1), None, tampered.as_bytes()),
            Err(EspError::Unauthorized(Rejection::BadSignature, _))
        ));
        let (o1, _) = sign(OTHER_KEY, FAILED.as_bytes()).expect("sign");
        assert!(v.verify(Some(&o1), None, FAILED.as_bytes()).is_err());
        assert!(v.verify(Some("%%"), None, FAILED.as_bytes()).is_err());
        assert!(matches!(
            v.verify(None, None, FAILED.as_bytes()),
            Err(EspError::Unauthorized(Rejection::Missing, _))
        ));
        assert!(PostalVerifier::new("p=bm90IGEga2V5").is_err());
        let bare = dns_record();
        let p = bare
            .split("p=")
            .nth(1)
            .unwrap_or_default()
            .trim_end_matches(';');
        PostalVerifier::new(p).expect("the bare p= value");
    }

    #[test]
    fn failures_bounces_delays_and_sends() {
        let c = Classifier::shared();
        let f = normalise(FAILED.as_bytes()).expect("parse").events;
        assert_eq!(
            (
                f[0].kind,
                f[0].recipient.as_deref(),
                f[0].esp_type.as_deref()
            ),
            (
                EventKind::Bounce,
                Some("jane@example.com"),
                Some("HardFail")
            )
        );
        assert_eq!(
            f[0].event_id.as_deref(),
            Some("0d7b3d9c-8a0b-4b2e-9f44-8e1f3c2d1a01")
        );
        let v = c.classify_esp(&f[0]);
        assert_eq!(
            (v.verdict.class, v.hard_bounce),
            (BounceClass::RecipientPermanent, true)
        );

        let no_output = FAILED
            .replace("\"output\"", "\"x_output\"")
            .replace("\"details\"", "\"x_details\"");
        let f = normalise(no_output.as_bytes()).expect("parse").events;
        assert!(c.classify_esp(&f[0]).hard_bounce, "HardFail alone is hard");

        let soft = FAILED
            .replace("MessageDeliveryFailed", "MessageDelayed")
            .replace("HardFail", "SoftFail");
        let d = normalise(soft.as_bytes()).expect("parse").events;
        assert_eq!(d[0].kind, EventKind::Deferral);
        assert!(!c.classify_esp(&d[0]).hard_bounce);

        let sent = FAILED
            .replace("MessageDeliveryFailed", "MessageSent")
            .replace("HardFail", "Sent");
        assert_eq!(
            normalise(sent.as_bytes()).expect("parse").events[0].kind,
            EventKind::Delivered
        );

        let b = normalise(BOUNCED.as_bytes()).expect("parse").events;
        assert_eq!(
            (
                b[0].kind,
                b[0].recipient.as_deref(),
                b[0].message_id.as_deref()
            ),
            (
                EventKind::Bounce,
                Some("gone@example.com"),
                Some("<r20.a1.Po@bounce.rebound.local>")
            )
        );
    }

    #[test]
    fn junk_is_refused_unknown_counted() {
        for bad in [
            &b""[..],
            b"[]",
            b"{}",
            b"{\"event\":\"MessageSent\"}",
            b"{\"event\":",
        ] {
            assert!(normalise(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            normalise(b"{\"event\":\"MessageHeld\",\"payload\":{}}"),
            Ok(Normalised::default())
        );
        let n = normalise(b"{\"event\":\"MessageTeleported\",\"payload\":{}}").expect("unknown");
        assert_eq!(n.unknown, vec!["MessageTeleported".to_string()]);
    }
}
