//! ESP event webhooks: Amazon SES (through SNS), SendGrid, Postmark and Mailgun post bounce,
//! deferral, complaint and delivery events as JSON. Each provider's module
//!
//! * verifies that a request really comes from the provider (SNS: RSA signature with a
//!   certificate fetched from an allowed host; SendGrid: ECDSA P-256; Postmark: HTTP basic
//!   auth; Mailgun: HMAC-SHA256 over timestamp + token), and
//! * normalises the body into [`EspEvent`]s: one per recipient and event.
//!
//! [`classify_event`] then turns an event into the same [`RecipientVerdict`] a DSN yields, so
//! storage, correlation and actions do not care where a bounce came from.
//!
//! # Precedence
//!
//! The provider's own verdict decides where it is reliable (SES `Permanent/NoEmail`, SendGrid
//! `bounce_classification = Reputation`, Postmark `Blocked`, Mailgun `suppress-bounce` ...).
//! When the diagnostic names a reason of the same class, that more precise reason is kept (a
//! SendGrid "Reputation" block whose text names a blocklist is `blocked`, not `badreputation`).
//! Without a reliable verdict the classifier decides from the enhanced code, the text and the
//! basic reply code, in its usual stage order ([`Stage`]). Whatever the text says, an event the
//! provider calls temporary (SES `Transient`, SendGrid `blocked`/`deferred`, Postmark
//! `SoftBounce`, Mailgun `severity: temporary`) never counts as a hard bounce: it is never
//! suppressed.
//!
//! Nothing here panics on any input: parsers return [`EspError::Malformed`].

pub mod mailgun;
pub mod postmark;
pub mod sendgrid;
pub mod ses;

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::classify::{RecipientVerdict, reply_for};
use super::parse::{RecipientReport, ReportKind};
use super::reason::{BounceClass, Reason};
use super::rules::{Classifier, Context, Stage, Verdict};

/// The largest webhook body accepted (bytes). Providers batch well below this.
pub const MAX_BODY: usize = 1024 * 1024;

/// An email service provider that posts event webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Amazon SES, notifications through SNS.
    Ses,
    /// Twilio SendGrid Event Webhook.
    SendGrid,
    /// Postmark bounce / delivery / spam complaint webhooks.
    Postmark,
    /// Mailgun webhooks (JSON, `signature` + `event-data`).
    Mailgun,
}

impl Provider {
    /// Every provider.
    pub const ALL: [Provider; 4] = [
        Provider::Ses,
        Provider::SendGrid,
        Provider::Postmark,
        Provider::Mailgun,
    ];

    /// The lowercase name, also the `source` of stored bounces.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Ses => "ses",
            Provider::SendGrid => "sendgrid",
            Provider::Postmark => "postmark",
            Provider::Mailgun => "mailgun",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to the message, in the provider's words normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The message was refused or given up (or the provider refused to send it).
    Bounce,
    /// Delivery was delayed; the provider keeps trying.
    Deferral,
    /// The recipient reported the message as spam (or unsubscribed through the provider).
    Complaint,
    /// The receiving server accepted the message.
    Delivered,
}

impl EventKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Bounce => "bounce",
            EventKind::Deferral => "deferral",
            EventKind::Complaint => "complaint",
            EventKind::Delivered => "delivered",
        }
    }
}

/// One provider event for one recipient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EspEvent {
    /// Who posted it.
    pub provider: Provider,
    /// What happened.
    pub kind: EventKind,
    /// The recipient address, as the provider gives it.
    pub recipient: Option<String>,
    /// The provider's own verdict: SES `bounceType` / `delayType`, SendGrid `type` (or the
    /// `dropped` reason), Postmark `Type`, Mailgun `severity`.
    pub esp_type: Option<String>,
    /// Its refinement: SES `bounceSubType`, SendGrid `bounce_classification`, Postmark
    /// `TypeCode`, Mailgun `reason`.
    pub esp_subtype: Option<String>,
    /// The receiving server's reply or the provider's diagnostic (`smtp; 550 5.1.1 ...`).
    pub diagnostic: Option<String>,
    /// Basic SMTP reply code, when given apart from the text.
    pub reply_code: Option<u16>,
    /// Enhanced status code (`5.1.1`), when given apart from the text.
    pub enhanced: Option<String>,
    /// Our Message-ID when the provider echoes it (brackets kept as given).
    pub message_id: Option<String>,
    /// When the provider saw it (Unix milliseconds).
    pub timestamp: Option<i64>,
    /// Complaint feedback type (`abuse`, ...).
    pub feedback_type: Option<String>,
    /// The provider's JSON for this event (stored with the bounce).
    pub raw: Value,
}

/// What a provider's verdict means for us.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Opinion {
    /// A reliable reason: decides the class (the diagnostic may refine it within the class).
    pub reason: Option<Reason>,
    /// The provider calls the failure permanent (`Some(true)`) or temporary (`Some(false)`).
    pub permanent: Option<bool>,
}

impl EspEvent {
    /// An event with only the required parts; parsers fill in the rest.
    pub(crate) fn new(provider: Provider, kind: EventKind, raw: Value) -> EspEvent {
        EspEvent {
            provider,
            kind,
            recipient: None,
            esp_type: None,
            esp_subtype: None,
            diagnostic: None,
            reply_code: None,
            enhanced: None,
            message_id: None,
            timestamp: None,
            feedback_type: None,
            raw,
        }
    }

    /// The provider's verdict, mapped to a reason where it is reliable.
    pub fn opinion(&self) -> Opinion {
        let t = self.esp_type.as_deref().unwrap_or("");
        let s = self.esp_subtype.as_deref().unwrap_or("");
        match self.provider {
            Provider::Ses => ses::opinion(self.kind, t, s),
            Provider::SendGrid => sendgrid::opinion(self.kind, t, s),
            Provider::Postmark => postmark::opinion(self.kind, t, s),
            Provider::Mailgun => mailgun::opinion(self.kind, t, s),
        }
    }
}

/// Why a webhook request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EspError {
    /// The provider is not configured (its endpoint is off).
    #[error("the {0} webhook is not configured")]
    NotConfigured(Provider),
    /// The configuration is unusable (e.g. a key that does not parse).
    #[error("webhook configuration: {0}")]
    Config(String),
    /// The request failed authentication.
    #[error("{1}")]
    Unauthorized(Rejection, String),
    /// The body is not what the provider sends.
    #[error("{0}")]
    Malformed(String),
    /// Verification needs a resource that could not be fetched now (the SNS certificate).
    #[error("{0}")]
    Unavailable(String),
}

impl EspError {
    pub(crate) fn malformed(msg: impl Into<String>) -> Self {
        EspError::Malformed(msg.into())
    }

    pub(crate) fn unauthorized(r: Rejection, msg: impl Into<String>) -> Self {
        EspError::Unauthorized(r, msg.into())
    }
}

/// The category of an authentication failure (what the rejection counters count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    /// No signature / credentials at all.
    Missing,
    /// The signature or credentials do not match.
    BadSignature,
    /// The signed timestamp is too old (or in the future), or the token was seen before.
    Stale,
    /// The SNS certificate URL is not on an allowed host, or the certificate is unusable.
    UntrustedCertificate,
    /// The SNS topic is not one of ours.
    UnknownTopic,
}

impl Rejection {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::Missing => "missing",
            Rejection::BadSignature => "bad_signature",
            Rejection::Stale => "stale",
            Rejection::UntrustedCertificate => "untrusted_certificate",
            Rejection::UnknownTopic => "unknown_topic",
        }
    }
}

/// The verdict for one ESP event, in the same shape a DSN recipient gets, so the rest of the
/// pipeline (correlation, storage, suppression, retries) is unchanged.
pub fn classify_event(classifier: &Classifier, ev: &EspEvent) -> RecipientVerdict {
    let report = RecipientReport {
        final_recipient: ev.recipient.clone(),
        action: match ev.kind {
            EventKind::Bounce => Some("failed".into()),
            EventKind::Deferral => Some("delayed".into()),
            EventKind::Delivered => Some("delivered".into()),
            EventKind::Complaint => None,
        },
        status: ev.enhanced.clone(),
        diagnostic: ev.diagnostic.clone(),
        reply_code: ev.reply_code,
        feedback_type: ev.feedback_type.clone(),
        ..RecipientReport::default()
    };
    let reply = reply_for(&report);
    let fixed = |reason: Reason, id: String| Verdict {
        reason,
        class: reason.class(),
        rule_id: id,
        stage: Stage::Esp,
    };
    let provider = ev.provider.as_str();
    let opinion = ev.opinion();
    let temporary = opinion.permanent == Some(false) || ev.kind == EventKind::Deferral;
    let verdict = match ev.kind {
        EventKind::Complaint => fixed(Reason::Feedback, format!("esp-{provider}-complaint")),
        EventKind::Delivered => fixed(Reason::Delivered, format!("esp-{provider}-delivered")),
        EventKind::Bounce | EventKind::Deferral => {
            let rules = classifier.classify_with(&reply, &Context::default());
            let mut v = match opinion.reason {
                // A precise rule (not a vague text, a code class or a bare reply code) names
                // the provider's class more precisely.
                Some(r) if rules.class == r.class() && rules.stage < Stage::TextWeak => rules,
                Some(r) => fixed(r, format!("esp-{provider}")),
                None => rules,
            };
            if ev.kind == EventKind::Deferral && v.stage >= Stage::StatusClass {
                v = fixed(Reason::Expired, format!("esp-{provider}-deferred"));
            }
            if temporary && v.class == BounceClass::RecipientPermanent {
                // The provider says it may still work: the reason is kept for the record,
                // but it is acted on as a passing failure.
                v.class = BounceClass::Transient;
            }
            v
        }
    };
    let hard_bounce = ev.kind == EventKind::Bounce
        && verdict.class == BounceClass::RecipientPermanent
        && !reply.is_temporary()
        && !temporary;
    RecipientVerdict {
        recipient: ev.recipient.clone(),
        kind: if ev.kind == EventKind::Complaint {
            ReportKind::Feedback
        } else {
            ReportKind::Dsn
        },
        report,
        reply,
        verdict,
        hard_bounce,
        original_message_id: ev.message_id.clone(),
        verp_token: None,
    }
}

impl Classifier {
    /// [`classify_event`] with this classifier.
    pub fn classify_esp(&self, ev: &EspEvent) -> RecipientVerdict {
        classify_event(self, ev)
    }
}

// ---- small JSON helpers shared by the normalisers ----

/// The value at `path` (object keys), if every step exists.
pub(crate) fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, k| cur.get(*k))
}

/// A non-empty string at `path` (numbers are given as text).
pub(crate) fn text_at(v: &Value, path: &[&str]) -> Option<String> {
    match at(v, path)? {
        Value::String(s) => {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_string())
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An RFC 3339 time (`2016-01-27T14:59:38.237Z`) as Unix milliseconds.
pub(crate) fn rfc3339_ms(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Unix seconds (integer or fractional, number or text) as milliseconds.
pub(crate) fn unix_seconds_ms(v: &Value) -> Option<i64> {
    let secs = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    // Years 1970..=9999 only; anything else is junk, not a time.
    (secs.is_finite() && (0.0..253_402_300_800.0).contains(&secs)).then_some((secs * 1000.0) as i64)
}

/// A plausible SMTP reply code (200..=599) from a number or text.
pub(crate) fn smtp_code(v: Option<&Value>) -> Option<u16> {
    let n = match v? {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (200..600).contains(&n).then_some(n as u16)
}

/// Parses a JSON body, refusing empty and oversized ones.
pub(crate) fn parse_json(body: &[u8]) -> Result<Value, EspError> {
    if body.len() > MAX_BODY {
        return Err(EspError::malformed(format!(
            "body too large: {} bytes (limit {MAX_BODY})",
            body.len()
        )));
    }
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(EspError::malformed("empty body"));
    }
    serde_json::from_slice(body).map_err(|e| EspError::malformed(format!("not valid JSON: {e}")))
}

/// Constant-time equality of two byte strings (the length is not hidden).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(provider: Provider, kind: EventKind) -> EspEvent {
        let mut e = EspEvent::new(provider, kind, json!({}));
        e.recipient = Some("jane@example.com".into());
        e
    }

    #[test]
    fn ses_permanent_general_with_5_1_1_is_a_dead_address() {
        let mut e = event(Provider::Ses, EventKind::Bounce);
        e.esp_type = Some("Permanent".into());
        e.esp_subtype = Some("General".into());
        e.enhanced = Some("5.1.1".into());
        e.diagnostic = Some("smtp; 550 5.1.1 user unknown".into());
        let v = classify_event(Classifier::shared(), &e);
        assert_eq!(v.verdict.reason, Reason::UserUnknown);
        assert_eq!(v.verdict.class, BounceClass::RecipientPermanent);
        assert!(v.hard_bounce);
    }

    #[test]
    fn ses_transient_never_suppresses() {
        let mut e = event(Provider::Ses, EventKind::Bounce);
        e.esp_type = Some("Transient".into());
        e.esp_subtype = Some("General".into());
        e.diagnostic = Some("smtp; 550 5.1.1 user unknown".into());
        let v = classify_event(Classifier::shared(), &e);
        assert_eq!(v.verdict.reason, Reason::UserUnknown, "kept for the record");
        assert_eq!(v.verdict.class, BounceClass::Transient);
        assert!(!v.hard_bounce);
    }

    #[test]
    fn a_reliable_verdict_beats_vague_text_and_is_refined_by_precise_text() {
        let mut e = event(Provider::SendGrid, EventKind::Bounce);
        e.esp_type = Some("blocked".into());
        e.esp_subtype = Some("Reputation".into());
        e.diagnostic = Some("550 rejected".into());
        let v = classify_event(Classifier::shared(), &e);
        assert_eq!(
            (v.verdict.reason, v.verdict.rule_id.as_str()),
            (Reason::BadReputation, "esp-sendgrid")
        );
        e.diagnostic = Some(
            "550 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using Spamhaus".into(),
        );
        let v = classify_event(Classifier::shared(), &e);
        assert_eq!(v.verdict.class, BounceClass::SenderReputation);
        assert_ne!(v.verdict.rule_id, "esp-sendgrid", "the text decided");
        assert!(!v.hard_bounce);
    }

    #[test]
    fn complaints_deliveries_and_deferrals() {
        let v = classify_event(
            Classifier::shared(),
            &event(Provider::Mailgun, EventKind::Complaint),
        );
        assert_eq!(
            (v.verdict.class, v.kind, v.hard_bounce),
            (BounceClass::Complaint, ReportKind::Feedback, false)
        );
        let v = classify_event(
            Classifier::shared(),
            &event(Provider::Postmark, EventKind::Delivered),
        );
        assert_eq!(v.verdict.class, BounceClass::Delivered);
        let mut e = event(Provider::SendGrid, EventKind::Deferral);
        e.diagnostic = Some("451 4.3.0 try again later".into());
        let v = classify_event(Classifier::shared(), &e);
        assert_ne!(v.verdict.class, BounceClass::RecipientPermanent);
        assert_eq!(v.report.action.as_deref(), Some("delayed"));
        assert!(!v.hard_bounce);
    }

    #[test]
    fn helpers_refuse_junk() {
        assert_eq!(unix_seconds_ms(&json!(1e300)), None);
        assert_eq!(unix_seconds_ms(&json!("-5")), None);
        assert_eq!(
            unix_seconds_ms(&json!(1521472262.908181)),
            Some(1521472262908)
        );
        assert_eq!(smtp_code(Some(&json!(605))), None);
        assert_eq!(smtp_code(Some(&json!("550"))), Some(550));
        assert_eq!(
            rfc3339_ms("2019-11-05T16:33:54.9070259Z"),
            Some(1572971634907)
        );
        assert!(parse_json(b"  ").is_err());
        assert!(ct_eq(b"abc", b"abc") && !ct_eq(b"abc", b"abd") && !ct_eq(b"ab", b"abc"));
    }
}
