//! Mailgun webhooks (JSON: `{"signature": {...}, "event-data": {...}}`).
//!
//! `signature.signature` is the hex HMAC-SHA256 of `timestamp + token` with the account's
//! webhook signing key. Timestamps older than the allowed age are refused, and a token is
//! accepted only once while it is fresh (replays).

use std::collections::HashMap;
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::{
    EspError, EspEvent, EventKind, Normalised, Opinion, Provider, Rejection, ct_eq, parse_json,
    smtp_code, text_at, unix_seconds_ms,
};
use crate::bounce::reason::Reason;

/// Tokens remembered for replay protection (oldest dropped beyond this).
const MAX_TOKENS: usize = 10_000;

/// Verifies Mailgun webhook signatures.
pub struct MailgunVerifier {
    key: Vec<u8>,
    seen: Mutex<HashMap<String, i64>>,
}

impl std::fmt::Debug for MailgunVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MailgunVerifier { .. }")
    }
}

/// The hex HMAC-SHA256 of `timestamp + token` under `key`, as Mailgun computes it. Used to
/// verify, and for tests and simulations.
pub fn sign(key: &[u8], timestamp: &str, token: &str) -> String {
    // HMAC takes keys of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.as_bytes());
    mac.update(token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

impl MailgunVerifier {
    /// A verifier for the HTTP webhook signing key.
    pub fn new(signing_key: &str) -> MailgunVerifier {
        MailgunVerifier {
            key: signing_key.as_bytes().to_vec(),
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Checks the body's `signature` object: the HMAC matches, the timestamp is within
    /// `max_age_seconds` of `now_ms`, and the token was not used before.
    pub fn verify(
        &self,
        signature: Option<&Value>,
        now_ms: i64,
        max_age_seconds: i64,
    ) -> Result<(), EspError> {
        let missing = || EspError::unauthorized(Rejection::Missing, "no signature");
        let sig = signature.ok_or_else(missing)?;
        let field = |k: &str| sig.get(k).and_then(Value::as_str).map(str::trim);
        let (Some(timestamp), Some(token), Some(given)) =
            (field("timestamp"), field("token"), field("signature"))
        else {
            return Err(missing());
        };
        let expected = sign(&self.key, timestamp, token);
        if expected.is_empty() || !ct_eq(given.to_ascii_lowercase().as_bytes(), expected.as_bytes())
        {
            return Err(EspError::unauthorized(
                Rejection::BadSignature,
                "the signature does not match",
            ));
        }
        let stale = |why: &str| EspError::unauthorized(Rejection::Stale, why);
        let ts: i64 = timestamp
            .parse()
            .map_err(|_| stale("the timestamp is not a number"))?;
        let now = now_ms / 1000;
        if now.saturating_sub(ts).abs() > max_age_seconds {
            return Err(stale("the signed timestamp is too old"));
        }
        let mut seen = self
            .seen
            .lock()
            .map_err(|_| EspError::Unavailable("replay cache unavailable".into()))?;
        seen.retain(|_, t| now.saturating_sub(*t) <= max_age_seconds);
        if seen.contains_key(token) {
            return Err(stale("the token was used before"));
        }
        if seen.len() >= MAX_TOKENS
            && let Some(oldest) = seen.iter().min_by_key(|(_, t)| **t).map(|(k, _)| k.clone())
        {
            seen.remove(&oldest);
        }
        seen.insert(token.to_string(), ts);
        Ok(())
    }
}

/// The parts of a Mailgun webhook body: `signature` (if any) and `event-data`.
pub fn split_body(body: &[u8]) -> Result<(Option<Value>, Value), EspError> {
    let v = parse_json(body)?;
    let Value::Object(mut obj) = v else {
        return Err(EspError::malformed("a Mailgun webhook is a JSON object"));
    };
    let sig = obj.remove("signature");
    let data = obj
        .remove("event-data")
        .ok_or_else(|| EspError::malformed("no event-data"))?;
    Ok((sig, data))
}

/// Normalises an `event-data` object. Accepted, opened, clicked and stored events and list
/// events yield nothing; events Mailgun did not document are counted as unknown.
pub fn normalise(data: &Value) -> Result<Normalised, EspError> {
    if !data.is_object() {
        return Err(EspError::malformed("event-data is not a JSON object"));
    }
    let Some(event) = text_at(data, &["event"]) else {
        return Err(EspError::malformed("event-data has no event"));
    };
    let mut out = Normalised::default();
    let severity = text_at(data, &["severity"]);
    let kind = match event.as_str() {
        "failed" if severity.as_deref() == Some("temporary") => EventKind::Deferral,
        "failed" | "bounced" | "dropped" => EventKind::Bounce,
        "rejected" => EventKind::Rejected,
        "delivered" => EventKind::Delivered,
        "complained" => EventKind::Complaint,
        "unsubscribed" => EventKind::Unsubscribed,
        "accepted"
        | "opened"
        | "clicked"
        | "stored"
        | "list_member_uploaded"
        | "list_member_upload_error"
        | "list_uploaded" => return Ok(out),
        other => {
            out.unknown(other);
            return Ok(out);
        }
    };
    let mut e = EspEvent::new(Provider::Mailgun, kind, data.clone());
    e.event_id = text_at(data, &["id"]);
    // A rejected message never had a recipient of its own: the `To` header names it.
    e.recipient =
        text_at(data, &["recipient"]).or_else(|| text_at(data, &["message", "headers", "to"]));
    e.message_id = text_at(data, &["message", "headers", "message-id"]);
    e.timestamp = data.get("timestamp").and_then(unix_seconds_ms);
    let status = |k: &str| text_at(data, &["delivery-status", k]);
    e.diagnostic = status("message").or_else(|| status("description"));
    e.reply_code = smtp_code(super::at(data, &["delivery-status", "code"]));
    e.enhanced = status("enhanced-code");
    match kind {
        EventKind::Delivered | EventKind::Unsubscribed => {}
        EventKind::Rejected => {
            e.esp_type = Some("rejected".into());
            e.esp_subtype = text_at(data, &["reject", "reason"]);
            e.diagnostic = text_at(data, &["reject", "description"]).or(e.diagnostic);
        }
        _ => {
            e.esp_type = match event.as_str() {
                "bounced" => Some("permanent".into()),
                _ => severity,
            };
            e.esp_subtype = text_at(data, &["reason"]);
        }
    }
    if kind == EventKind::Complaint {
        e.feedback_type = Some("abuse".into());
    }
    out.events.push(e);
    Ok(out)
}

/// Parses an unverified body and normalises it (the fuzzers' entry point).
pub fn parse_event(body: &[u8]) -> Result<Normalised, EspError> {
    let (_, data) = split_body(body)?;
    normalise(&data)
}

/// Mailgun's `severity` and `reason` mapped.
pub(crate) fn opinion(kind: EventKind, severity: &str, reason: &str) -> Opinion {
    if kind == EventKind::Rejected {
        // Mailgun's own refusal (sandbox, sending limits, ...): not the address.
        return Opinion {
            reason: Some(Reason::Rejected),
            permanent: Some(false),
        };
    }
    if !matches!(kind, EventKind::Bounce | EventKind::Deferral) {
        return Opinion::default();
    }
    let permanent = match severity {
        "permanent" => Some(true),
        "temporary" => Some(false),
        _ => None,
    };
    let reason = match reason {
        "suppress-bounce" | "suppress-complaint" | "suppress-unsubscribe" => {
            Some(Reason::Suppressed)
        }
        "espblock" => Some(Reason::Blocked),
        "old" => Some(Reason::Expired),
        _ => None,
    };
    Opinion { reason, permanent }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounce::{BounceClass, Classifier};
    use serde_json::json;

    const FAILED: &str = include_str!("fixtures/mailgun_failed_permanent.json");
    const TEMPORARY: &str = include_str!("fixtures/mailgun_failed_temporary.json");
    const DELIVERED: &str = include_str!("fixtures/mailgun_delivered.json");
    const COMPLAINED: &str = include_str!("fixtures/mailgun_complained.json");
    const KEY: &str = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
    const NOW: i64 = 1_800_000_000_000;

    fn signature(ts: i64, token: &str, key: &str) -> Value {
        let ts = ts.to_string();
        json!({ "timestamp": ts, "token": token, "signature": sign(key.as_bytes(), &ts, token) })
    }

    #[test]
    fn signatures_are_checked_with_age_and_replays() {
        let v = MailgunVerifier::new(KEY);
        let now_s = NOW / 1000;
        let good = signature(
            now_s - 5,
            "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0",
            KEY,
        );
        v.verify(Some(&good), NOW, 600).expect("good signature");
        assert!(
            matches!(
                v.verify(Some(&good), NOW, 600),
                Err(EspError::Unauthorized(Rejection::Stale, _))
            ),
            "a token is used once"
        );
        let refused = |r: Result<(), EspError>, want: Rejection| match r {
            Err(EspError::Unauthorized(got, _)) => assert_eq!(got, want),
            other => panic!("expected {want:?}, got {other:?}"),
        };
        refused(
            v.verify(Some(&signature(now_s, "t2", "other-key")), NOW, 600),
            Rejection::BadSignature,
        );
        let mut tampered = signature(now_s, "t3", KEY);
        tampered["token"] = json!("t4");
        refused(v.verify(Some(&tampered), NOW, 600), Rejection::BadSignature);
        refused(
            v.verify(Some(&signature(now_s - 601, "t5", KEY)), NOW, 600),
            Rejection::Stale,
        );
        refused(
            v.verify(Some(&signature(now_s + 601, "t6", KEY)), NOW, 600),
            Rejection::Stale,
        );
        refused(v.verify(None, NOW, 600), Rejection::Missing);
        refused(
            v.verify(Some(&json!({"timestamp": 5})), NOW, 600),
            Rejection::Missing,
        );
        let mut upper = signature(now_s, "t7", KEY);
        upper["signature"] = json!(upper["signature"].as_str().unwrap_or("").to_uppercase());
        v.verify(Some(&upper), NOW, 600)
            .expect("hex case does not matter");
        assert_eq!(
            format!("{v:?}"),
            "MailgunVerifier { .. }",
            "no key in Debug"
        );
    }

    #[test]
    fn failures_deliveries_and_complaints_are_normalised() {
        let c = Classifier::shared();
        let f = parse_event(FAILED.as_bytes()).expect("parse").events;
        assert_eq!(
            (f[0].kind, f[0].recipient.as_deref(), f[0].reply_code),
            (EventKind::Bounce, Some("jane@example.com"), Some(550))
        );
        assert_eq!(
            f[0].message_id.as_deref(),
            Some("r14.a1.Mg@bounce.rebound.local")
        );
        assert_eq!(f[0].timestamp, Some(1_800_000_000_908));
        let v = c.classify_esp(&f[0]);
        assert_eq!(
            (v.verdict.reason, v.hard_bounce),
            (Reason::UserUnknown, true)
        );

        let t = parse_event(TEMPORARY.as_bytes()).expect("parse").events;
        assert_eq!(t[0].kind, EventKind::Deferral);
        let v = c.classify_esp(&t[0]);
        assert!(!v.hard_bounce);
        assert_ne!(v.verdict.class, BounceClass::RecipientPermanent);

        let d = parse_event(DELIVERED.as_bytes()).expect("parse").events;
        assert_eq!(d[0].kind, EventKind::Delivered);
        let k = parse_event(COMPLAINED.as_bytes()).expect("parse").events;
        assert_eq!(c.classify_esp(&k[0]).verdict.class, BounceClass::Complaint);
    }

    #[test]
    fn suppressed_and_blocked_follow_mailgun() {
        let data = json!({
            "event": "failed", "severity": "permanent", "reason": "suppress-bounce",
            "recipient": "old@example.com",
            "delivery-status": {"code": 605, "message": "", "description": "Not delivering to previously bounced address"}
        });
        let e = normalise(&data).expect("parse").events;
        assert_eq!(e[0].reply_code, None, "605 is Mailgun's, not SMTP");
        let v = Classifier::shared().classify_esp(&e[0]);
        assert_eq!(
            (v.verdict.reason, v.hard_bounce),
            (Reason::Suppressed, true)
        );
        let data = json!({
            "event": "failed", "severity": "permanent", "reason": "espblock",
            "recipient": "x@example.com",
            "delivery-status": {"code": 554, "message": "554 5.7.1 rejected: poor reputation"}
        });
        let v = Classifier::shared().classify_esp(&normalise(&data).expect("parse").events[0]);
        assert_eq!(v.verdict.class, BounceClass::SenderReputation);
        assert!(!v.hard_bounce);
    }

    #[test]
    fn rejected_reads_the_to_header_and_permanent_needs_no_text() {
        let data = json!({
            "event": "rejected", "id": "rej-1", "timestamp": 1800000000.5,
            "reject": {"reason": "hardfail", "description": "Not delivering to a previously bounced address"},
            "message": {"headers": {"to": "gone@example.com", "message-id": "m@x", "from": "shop@x", "subject": "s"}},
            "flags": {"is-test-mode": false}
        });
        let e = normalise(&data).expect("parse").events;
        assert_eq!(
            (
                e[0].kind,
                e[0].recipient.as_deref(),
                e[0].event_id.as_deref()
            ),
            (EventKind::Rejected, Some("gone@example.com"), Some("rej-1"))
        );
        let data = json!({
            "event": "failed", "id": "f-2", "severity": "permanent", "reason": "bounce",
            "recipient": "dead@example.com", "delivery-status": {"message": "", "description": ""}
        });
        let e = normalise(&data).expect("parse").events;
        let v = Classifier::shared().classify_esp(&e[0]);
        assert_eq!(
            (v.verdict.class, v.hard_bounce),
            (BounceClass::RecipientPermanent, true)
        );
        let unsub = normalise(&json!({"event": "unsubscribed", "recipient": "a@b.c", "id": "u"}))
            .expect("parse")
            .events;
        assert_eq!(unsub[0].kind, EventKind::Unsubscribed);
    }

    #[test]
    fn junk_is_refused_or_ignored_never_a_panic() {
        for bad in [
            &b""[..],
            b"[]",
            b"{}",
            b"{\"event-data\":[]}",
            b"{\"event-data\":{}}",
            b"{\"event-data\":",
        ] {
            assert!(parse_event(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_event(b"{\"event-data\":{\"event\":\"opened\"}}"),
            Ok(Normalised::default())
        );
        let n = parse_event(b"{\"event-data\":{\"event\":\"teleported\"}}").expect("unknown");
        assert_eq!(n.unknown, vec!["teleported".to_string()]);
        let (sig, _) = split_body(FAILED.as_bytes()).expect("split");
        assert!(sig.is_some());
    }
}
