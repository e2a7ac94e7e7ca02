//! ESP event webhooks: Amazon SES (through SNS), SendGrid, Postmark, Mailgun, Postal,
//! SparkPost, Brevo, Mailjet, Resend, MailerSend and Mandrill post bounce, deferral,
//! rejection, complaint, unsubscribe and delivery events. Every provider takes one path
//! ([`pipeline`]): verify → parse → normalise → dedupe → classify, then `bounces` applies
//! the events (`bounces::handle_esp_request`). Each provider's module has
//!
//! * its verification, exactly as the provider documents it (SNS: RSA signature with a
//!   certificate from an allowed host; SendGrid: ECDSA P-256; Postal: RSA; Mailgun,
//!   MailerSend, Resend (Svix) and Mandrill: HMAC; Postmark, SparkPost, Brevo and Mailjet:
//!   HTTP basic auth), registered in [`registry`], and
//! * a `normalise` that turns the body into [`EspEvent`]s (one per recipient and event, each
//!   with the provider's event id for [`store`]'s dedupe) and names the event kinds it does
//!   not know (counted, answered 200).
//!
//! [`classify_event`] then turns an event into the same [`RecipientVerdict`] a DSN yields, so
//! storage, correlation and actions do not care where a bounce came from.
//!
//! # Precedence
//!
//! The provider has already decided whether a failure is permanent: its verdict counts on its
//! own (SES `Permanent`, Postmark `HardBounce`, Mailgun `severity: permanent`, SendGrid
//! `bounce`, SparkPost's hard bounce classes, ...). A permanent bounce is hard and suppresses
//! the address even with no diagnostic text; the text only refines the reason. A failure the
//! provider calls temporary never counts as hard, whatever the text says. Without a verdict
//! the classifier decides from the enhanced code, the text and the basic reply code, in its
//! usual stage order ([`Stage`](super::rules::Stage)).
//!
//! Nothing here panics on any input: parsers return [`EspError::Malformed`].

pub mod auth;
pub mod brevo;
mod classify;
mod config;
mod json;
pub mod mailersend;
pub mod mailgun;
pub mod mailjet;
pub mod mandrill;
pub mod pipeline;
pub mod postal;
pub mod postmark;
pub mod registry;
pub mod resend;
pub mod sendgrid;
pub mod ses;
mod ses_events;
pub mod sparkpost;
pub mod store;

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use classify::classify_event;
pub use config::EspWebhooksConfig;
pub(crate) use json::*;

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
    /// Postmark bounce / delivery / spam complaint / subscription change webhooks.
    Postmark,
    /// Mailgun webhooks (JSON, `signature` + `event-data`).
    Mailgun,
    /// Postal (self-hosted), RSA-signed `X-Postal-Signature`.
    Postal,
    /// SparkPost (Bird) event webhooks, batches of `msys` events.
    SparkPost,
    /// Brevo (formerly Sendinblue) transactional webhooks.
    Brevo,
    /// Mailjet event API.
    Mailjet,
    /// Resend, signed through Svix.
    Resend,
    /// MailerSend activity webhooks.
    MailerSend,
    /// Mandrill (Mailchimp Transactional).
    Mandrill,
}

impl Provider {
    /// Every provider.
    pub const ALL: [Provider; 11] = [
        Provider::Ses,
        Provider::SendGrid,
        Provider::Postmark,
        Provider::Mailgun,
        Provider::Postal,
        Provider::SparkPost,
        Provider::Brevo,
        Provider::Mailjet,
        Provider::Resend,
        Provider::MailerSend,
        Provider::Mandrill,
    ];

    /// The lowercase name: the URL segment of `/api/v1/webhooks/{provider}` and the `source`
    /// of stored bounces.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Ses => "ses",
            Provider::SendGrid => "sendgrid",
            Provider::Postmark => "postmark",
            Provider::Mailgun => "mailgun",
            Provider::Postal => "postal",
            Provider::SparkPost => "sparkpost",
            Provider::Brevo => "brevo",
            Provider::Mailjet => "mailjet",
            Provider::Resend => "resend",
            Provider::MailerSend => "mailersend",
            Provider::Mandrill => "mandrill",
        }
    }

    /// The provider named `name` (as in the URL).
    pub fn from_name(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to the message, in Rebound's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// The receiving side refused the message or delivery was given up (hard or soft).
    #[serde(rename = "bounced")]
    Bounce,
    /// Delivery was delayed; the provider keeps trying.
    #[serde(rename = "deferred")]
    Deferral,
    /// The provider refused to send it (suppressed or invalid address, content, policy).
    #[serde(rename = "rejected")]
    Rejected,
    /// The recipient reported the message as spam.
    #[serde(rename = "complained")]
    Complaint,
    /// The recipient unsubscribed through the provider.
    #[serde(rename = "unsubscribed")]
    Unsubscribed,
    /// The receiving server accepted the message.
    #[serde(rename = "delivered")]
    Delivered,
}

impl EventKind {
    /// The name (`bounced`, `deferred`, `rejected`, `complained`, `unsubscribed`,
    /// `delivered`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Bounce => "bounced",
            EventKind::Deferral => "deferred",
            EventKind::Rejected => "rejected",
            EventKind::Complaint => "complained",
            EventKind::Unsubscribed => "unsubscribed",
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
    /// The provider's id of this event (for one recipient): stored once, repeats ignored.
    pub event_id: Option<String>,
    /// The recipient address, as the provider gives it.
    pub recipient: Option<String>,
    /// The provider's own verdict: SES `bounceType` / `delayType`, SendGrid `type` (or the
    /// `dropped` reason), Postmark `Type`, Mailgun `severity`, SparkPost `bounce_class`, ...
    pub esp_type: Option<String>,
    /// Its refinement: SES `bounceSubType`, SendGrid `bounce_classification`, Postmark
    /// `TypeCode`, Mailgun `reason`, ...
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
    pub reason: Option<super::reason::Reason>,
    /// The provider calls the failure permanent (`Some(true)`) or temporary (`Some(false)`).
    pub permanent: Option<bool>,
}

impl EspEvent {
    /// An event with only the required parts; parsers fill in the rest.
    pub(crate) fn new(provider: Provider, kind: EventKind, raw: Value) -> EspEvent {
        EspEvent {
            provider,
            kind,
            event_id: None,
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
            Provider::Ses => ses_events::opinion(self.kind, t, s),
            Provider::SendGrid => sendgrid::opinion(self.kind, t, s),
            Provider::Postmark => postmark::opinion(self.kind, t, s),
            Provider::Mailgun => mailgun::opinion(self.kind, t, s),
            Provider::Postal => postal::opinion(self.kind, t, s),
            Provider::SparkPost => sparkpost::opinion(self.kind, t, s),
            Provider::Brevo => brevo::opinion(self.kind, t, s),
            Provider::Mailjet => mailjet::opinion(self.kind, t, s),
            Provider::Resend => resend::opinion(self.kind, t, s),
            Provider::MailerSend => mailersend::opinion(self.kind, t, s),
            Provider::Mandrill => mandrill::opinion(self.kind, t, s),
        }
    }
}

/// What a request body holds: the events Rebound acts on, and the event kinds it does not
/// know (counted per provider and kind, answered 200). Kinds it knows and ignores (opens,
/// clicks, sends) are in neither.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Normalised {
    pub events: Vec<EspEvent>,
    pub unknown: Vec<String>,
}

impl Normalised {
    /// Notes an event kind this provider's normaliser does not know (cut to 64 bytes).
    pub(crate) fn unknown(&mut self, kind: &str) {
        let k = super::reply::truncate(kind.trim(), 64);
        self.unknown
            .push(if k.is_empty() { "(none)" } else { k }.to_string());
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

impl super::rules::Classifier {
    /// [`classify_event`] with this classifier.
    pub fn classify_esp(&self, ev: &EspEvent) -> super::classify::RecipientVerdict {
        classify_event(self, ev)
    }
}
