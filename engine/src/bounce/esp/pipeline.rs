//! The one path every provider's request takes: verify → parse → normalise → dedupe →
//! classify ([`receive`]) → apply (`bounces::handle_esp_request`, a layer above, which
//! calls [`receive`] and applies what it returns).

use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Serialize};

use super::registry::{Registry, Verifier, normaliser};
use super::{EspError, EspEvent, EventKind, Provider, store};
use crate::bounce::Classifier;
use crate::clock::Millis;
use crate::db::Db;

/// One webhook request as the server received it.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    /// Header names (any case) and values.
    pub headers: &'a [(&'a str, &'a str)],
    /// The raw body.
    pub body: &'a [u8],
}

impl<'a> Inbound<'a> {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// What a verified request carries.
enum Verified {
    /// The body itself is the provider's payload.
    Body,
    /// The payload inside a signed envelope (the SES notification inside SNS's message).
    Inner(String),
    /// An SNS subscription message, handled: `confirmed` or `unsubscribed`.
    Subscription(&'static str),
}

/// Authenticates a request with the provider's verifier.
async fn verify(
    v: &Verifier,
    req: &Inbound<'_>,
    now: Millis,
    max_age_seconds: i64,
) -> Result<Verified, EspError> {
    use super::{mailersend, mandrill, postal, resend, sendgrid};
    match v {
        Verifier::Sns(v) => {
            let m = v.verify(req.body).await?;
            match m.kind.as_str() {
                "SubscriptionConfirmation" => {
                    v.confirm_subscription(&m).await?;
                    tracing::info!(topic = %m.topic_arn, "SNS subscription confirmed");
                    Ok(Verified::Subscription("confirmed"))
                }
                "UnsubscribeConfirmation" => {
                    tracing::warn!(topic = %m.topic_arn, "SNS subscription removed");
                    Ok(Verified::Subscription("unsubscribed"))
                }
                _ => Ok(Verified::Inner(m.message)),
            }
        }
        Verifier::SendGrid(v) => {
            v.verify(
                req.header(sendgrid::SIGNATURE_HEADER),
                req.header(sendgrid::TIMESTAMP_HEADER),
                req.body,
                now,
                max_age_seconds,
            )?;
            Ok(Verified::Body)
        }
        Verifier::Basic(a) => {
            a.verify(req.header("authorization"))?;
            Ok(Verified::Body)
        }
        Verifier::Mailgun(v) => {
            let (signature, _) = super::mailgun::split_body(req.body)?;
            v.verify(signature.as_ref(), now, max_age_seconds)?;
            Ok(Verified::Body)
        }
        Verifier::Postal(v) => {
            v.verify(
                req.header(postal::SIGNATURE_HEADER),
                req.header(postal::SIGNATURE_256_HEADER),
                req.body,
            )?;
            Ok(Verified::Body)
        }
        Verifier::Svix(v) => {
            v.verify(
                req.header(resend::ID_HEADER),
                req.header(resend::TIMESTAMP_HEADER),
                req.header(resend::SIGNATURE_HEADER),
                req.body,
                now,
                max_age_seconds,
            )?;
            Ok(Verified::Body)
        }
        Verifier::MailerSend(v) => {
            v.verify(req.header(mailersend::SIGNATURE_HEADER), req.body)?;
            Ok(Verified::Body)
        }
        Verifier::Mandrill(v) => {
            v.verify(req.header(mandrill::SIGNATURE_HEADER), req.body)?;
            Ok(Verified::Body)
        }
    }
}

/// One event of the request and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventOutcome {
    /// `bounced`, `deferred`, `rejected`, `complained`, `unsubscribed` or `delivered`.
    pub kind: EventKind,
    /// A hard bounce (or a rejection of the address itself): the address is suppressed.
    pub hard: bool,
    /// The recipient, as the provider named it.
    pub recipient: Option<String>,
    /// Already applied from an earlier request: not stored again.
    pub duplicate: bool,
}

/// What one request did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Every event Rebound acts on, in the order given.
    pub events: Vec<EventOutcome>,
    /// Event kinds the provider's normaliser does not know (counted, not refused).
    pub unknown: Vec<String>,
    /// Applied events tied to a send attempt.
    pub matched: usize,
    /// Applied events no send could be tied to (kept and shown).
    pub unmatched: usize,
    /// The stored bounces.
    pub bounce_ids: Vec<i64>,
    /// SES only: `confirmed` / `unsubscribed` after an SNS subscription message.
    pub subscription: Option<String>,
}

/// Why a request was not applied.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// The provider's request was refused (not configured, authentication, malformed).
    #[error(transparent)]
    Esp(#[from] EspError),
    /// Storing failed.
    #[error(transparent)]
    Store(#[from] crate::error::Error),
}

/// Everything the pipeline uses.
pub struct Context<'a> {
    pub db: &'a Db,
    pub now: Millis,
    pub registry: &'a Registry,
    pub classifier: &'a Classifier,
    pub max_age_seconds: i64,
}

/// A request verified, normalised, deduped and classified: what is left is to apply its
/// fresh events.
#[derive(Debug)]
pub struct Received {
    /// What the request did so far (nothing applied yet: `matched`, `unmatched` and
    /// `bounce_ids` empty).
    pub outcome: Outcome,
    /// The events not applied by an earlier request, in the order given.
    pub fresh: Vec<EspEvent>,
    /// The dedupe claims taken for them ([`store::claim`]): released when applying fails,
    /// so the provider's retry applies them.
    pub claimed: Vec<String>,
}

/// When this process last forgot old applied events (Unix ms).
static LAST_FORGET: AtomicI64 = AtomicI64::new(0);

/// Forgets applied events older than [`store::REMEMBER_MS`], at most once an hour per process.
async fn forget_old(cx: &Context<'_>) -> Result<(), Refused> {
    let last = LAST_FORGET.load(Ordering::Relaxed);
    if cx.now - last < 60 * 60 * 1000
        || LAST_FORGET
            .compare_exchange(last, cx.now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return Ok(());
    }
    store::forget_before(cx.db, cx.now - store::REMEMBER_MS).await?;
    Ok(())
}

/// Verifies, normalises, dedupes and classifies one provider request. An SNS subscription
/// message is handled here: its `outcome` names it and there is nothing to apply.
pub async fn receive(
    cx: &Context<'_>,
    p: Provider,
    req: &Inbound<'_>,
) -> Result<Received, Refused> {
    let v = cx.registry.verifier(p)?;
    let payload = match verify(v, req, cx.now, cx.max_age_seconds).await? {
        Verified::Subscription(s) => {
            return Ok(Received {
                outcome: Outcome {
                    subscription: Some(s.into()),
                    ..Outcome::default()
                },
                fresh: Vec::new(),
                claimed: Vec::new(),
            });
        }
        Verified::Body => None,
        Verified::Inner(m) => Some(m),
    };
    forget_old(cx).await?;
    let body = payload.as_deref().map_or(req.body, str::as_bytes);
    let n = normaliser(p)(body)?;
    let mut out = Outcome {
        unknown: n.unknown.clone(),
        ..Outcome::default()
    };
    for kind in &n.unknown {
        store::count_unknown(cx.db, cx.now, p, kind).await?;
    }
    let mut fresh = Vec::new();
    let mut claimed = Vec::new();
    for ev in n.events {
        let hard = cx.classifier.classify_esp(&ev).hard_bounce;
        let duplicate = match &ev.event_id {
            Some(id) => {
                let key = store::event_key(id);
                let first = store::claim(cx.db, cx.now, p, &key, ev.kind, hard).await?;
                if first {
                    claimed.push(key);
                }
                !first
            }
            // Without an id there is nothing to recognise a repeat by.
            None => false,
        };
        out.events.push(EventOutcome {
            kind: ev.kind,
            hard,
            recipient: ev.recipient.clone(),
            duplicate,
        });
        if !duplicate {
            fresh.push(ev);
        }
    }
    Ok(Received {
        outcome: out,
        fresh,
        claimed,
    })
}
