//! What a finished send means: the SMTP result mapped to the order's
//! [`Transition`] and the attempt's record, and the words and side effects
//! (timeline entry, suppression, soft-bounce count) that go with it.

use super::attempts::{Attempt, AttemptOutcome};
use super::plan::SendPlan;
use super::policy::{RetryPolicy, retry_hint_ms};
use super::pools::SenderPool;
use super::queue::Job;
use super::smtp::{SendOutcome, SmtpResponse};
use super::state::{InFlight, Transition};
use crate::bounce::{BounceClass, Classifier, SmtpReply};
use crate::clock::Millis;
use crate::error::Result;
use crate::soft_bounces::Effect as SoftEffect;

/// The `rule` of a failed attempt that was the relay's own failure (connect,
/// greeting, TLS, EHLO, AUTH, a reply that is not SMTP): the relay health guard
/// counts these and nothing else.
pub(crate) const RELAY_FAULT_RULE: &str = "transport:relay";

/// What an attempt ended with, as recorded.
pub(super) struct Recorded {
    pub(super) outcome: AttemptOutcome,
    pub(super) rule: Option<String>,
    pub(super) code: Option<i64>,
    pub(super) text: Option<String>,
    pub(super) reason: Option<String>,
    pub(super) class: Option<String>,
}

/// One transition to write, with the attempt's record when there was a send.
pub(super) struct Outcome {
    pub(super) job: Job,
    pub(super) attempt: Option<(Attempt, Recorded)>,
    pub(super) transition: Transition,
    pub(super) note: String,
    pub(super) email: String,
    /// The pool and recipient provider of a send (for metrics and shaping).
    pub(super) sent: Option<(SenderPool, &'static str)>,
}

/// The words and side effects of an [`Outcome`], ready to bind.
pub(super) struct OutcomeRow {
    pub(super) detail: String,
    pub(super) event_kind: &'static str,
    pub(super) event_detail: String,
    /// A dead address, normalised, and the bounce reason.
    pub(super) suppress: Option<(String, String)>,
    pub(super) soft: Option<(String, SoftEffect)>,
}

impl OutcomeRow {
    pub(super) fn of(o: &Outcome) -> Self {
        let note = &o.note;
        let detail = match &o.transition {
            Transition::Accepted { .. } => "receipt accepted".to_string(),
            Transition::Retry {
                next_attempt,
                reason,
                ..
            } => format!("attempt {next_attempt} scheduled after: {reason}"),
            Transition::Held { reason, .. } => reason.clone(),
        };
        let (event_kind, event_detail) = match &o.transition {
            Transition::Accepted { .. } => ("accepted", note.to_string()),
            Transition::Retry {
                next_attempt,
                due_at,
                avoid_last_pool,
                ..
            } => (
                "retry_scheduled",
                format!(
                    "{note}; attempt {next_attempt} due {}{}",
                    crate::clock::format_utc(*due_at),
                    if *avoid_last_pool {
                        " through another pool"
                    } else {
                        ""
                    }
                ),
            ),
            Transition::Held { dead_address, .. } => (
                "held",
                format!(
                    "{note}{}",
                    if *dead_address {
                        "; the address is dead"
                    } else {
                        ""
                    }
                ),
            ),
        };
        let normalized = crate::accounts::normalize_email(&o.email).ok();
        let recorded = o.attempt.as_ref().map(|(_, r)| r);
        let dead = matches!(
            o.transition,
            Transition::Held {
                dead_address: true,
                ..
            }
        );
        let suppress = match (dead, recorded.and_then(|r| r.reason.clone()), &normalized) {
            (true, Some(reason), Some(email)) => Some((email.clone(), reason)),
            _ => None,
        };
        let soft = recorded
            .and_then(|r| crate::soft_bounces::effect_of(r.outcome.as_str(), r.class.as_deref()))
            .zip(normalized)
            .map(|(effect, email)| (email, effect));
        Self {
            detail,
            event_kind,
            event_detail,
            suppress,
            soft,
        }
    }
}

/// A send that did not finish its attempt: the job goes back to the queue,
/// keeping its attempt number and send token, so it goes again with the same
/// Message-ID. The order's state does not move.
pub(super) struct Again {
    pub(super) job: Job,
    /// An unknown outcome's attempt, recorded as `unknown` (none when nothing was sent).
    pub(super) attempt: Option<(Attempt, Recorded)>,
    pub(super) due_at: Millis,
    /// The timeline entry (an unknown outcome only).
    pub(super) event: Option<String>,
    /// The pool and recipient provider of the send (for metrics).
    pub(super) sent: (SenderPool, &'static str),
}

/// What a finished send leads to.
pub(super) enum Finished {
    /// A transition of the order (with the attempt's record).
    Moved(Outcome),
    /// The same attempt again later.
    Again(Again),
}

/// A send that found no free relay connection in time waits this long in the
/// queue before it goes again (our own queueing: no attempt, no relay mark).
const NOT_SENT_AGAIN_MS: i64 = 1_000;

/// What a finished send means: the transition and the attempt's record, or the
/// same attempt again later.
pub(super) fn of_send(
    classifier: &Classifier,
    policy: &RetryPolicy,
    s: SendPlan,
    attempt: Attempt,
    result: Result<SendOutcome>,
    now: Millis,
) -> Finished {
    let SendPlan {
        job,
        order,
        flight,
        pool,
        provider,
        ..
    } = s;
    let again = |attempt: Option<(Attempt, Recorded)>, due_at: Millis, event: Option<String>| {
        Finished::Again(Again {
            job: job.clone(),
            attempt,
            due_at,
            event,
            sent: (pool.clone(), provider),
        })
    };
    let (transition, recorded, note) = match result {
        Ok(SendOutcome::NotSent { detail }) => {
            tracing::info!(order = job.order_id, attempt = job.attempt_no, pool = %pool.name, %detail, "not sent: waiting for a relay connection; back to the queue");
            return again(None, now + NOT_SENT_AGAIN_MS, None);
        }
        Ok(SendOutcome::Unknown { detail }) => {
            let recorded = Recorded {
                rule: Some("transport:after-data".into()),
                outcome: AttemptOutcome::Unknown,
                code: None,
                text: Some(detail.clone()),
                reason: Some("networkerror".into()),
                class: Some(BounceClass::Transient.as_str().into()),
            };
            let why = format!(
                "outcome unknown at {}: {detail} (the relay may have the message)",
                pool.name
            );
            match policy.delay_after(attempt.unknowns + 1) {
                Some(delay) => {
                    let event = format!(
                        "{why}; re-sending with the same Message-ID {}",
                        crate::clock::format_utc(now + delay)
                    );
                    return again(Some((attempt, recorded)), now + delay, Some(event));
                }
                None => (
                    Transition::Held {
                        order_id: order.id,
                        attempt_no: job.attempt_no,
                        reason: format!(
                            "{why}; {} re-sends with the same Message-ID were never confirmed",
                            attempt.unknowns
                        ),
                        dead_address: false,
                    },
                    recorded,
                    why,
                ),
            }
        }
        Ok(SendOutcome::Accepted { response }) => (
            flight.accepted(),
            Recorded {
                rule: None,
                outcome: AttemptOutcome::Accepted,
                code: Some(i64::from(response.code)),
                text: Some(response.text),
                reason: Some("delivered".into()),
                class: Some("delivered".into()),
            },
            format!("accepted by {} (attempt {})", pool.name, job.attempt_no),
        ),
        Ok(SendOutcome::Captured) => (
            flight.accepted(),
            Recorded {
                rule: None,
                outcome: AttemptOutcome::Accepted,
                code: Some(250),
                text: Some("captured (development outbox)".into()),
                reason: Some("delivered".into()),
                class: Some("delivered".into()),
            },
            format!(
                "captured in the outbox by {} (attempt {})",
                pool.name, job.attempt_no
            ),
        ),
        Ok(SendOutcome::Rejected {
            response,
            permanent,
            stage,
        }) => refused(
            classifier, policy, flight, &pool.name, now, response, permanent, stage,
        ),
        Ok(SendOutcome::Failed {
            detail,
            relay_fault,
        }) => {
            let why = format!("no answer from {}: {detail}", pool.name);
            (
                flight.failed(BounceClass::Transient, policy, now, None, why.clone()),
                Recorded {
                    // What the relay health guard counts: only the relay's own failures.
                    rule: Some(
                        if relay_fault {
                            RELAY_FAULT_RULE
                        } else {
                            "transport:transaction"
                        }
                        .into(),
                    ),
                    outcome: AttemptOutcome::Failed,
                    code: None,
                    text: Some(detail),
                    reason: Some("networkerror".into()),
                    class: Some(BounceClass::Transient.as_str().into()),
                },
                why,
            )
        }
        Err(e) => {
            let why = format!("could not build the receipt: {e}");
            (
                Transition::Held {
                    order_id: order.id,
                    attempt_no: job.attempt_no,
                    reason: why.clone(),
                    dead_address: false,
                },
                Recorded {
                    rule: None,
                    outcome: AttemptOutcome::Failed,
                    code: None,
                    text: Some(e.to_string()),
                    reason: Some("contenterror".into()),
                    class: Some(BounceClass::Content.as_str().into()),
                },
                why,
            )
        }
    };
    Finished::Moved(Outcome {
        job,
        attempt: Some((attempt, recorded)),
        transition,
        note,
        email: order.customer_email,
        sent: Some((pool, provider)),
    })
}

/// A refusal (a 4xx or 5xx reply): classified, and the transition it leads to.
#[allow(clippy::too_many_arguments)]
fn refused(
    classifier: &Classifier,
    policy: &RetryPolicy,
    flight: InFlight,
    pool: &str,
    now: Millis,
    response: SmtpResponse,
    permanent: bool,
    stage: &str,
) -> (Transition, Recorded, String) {
    let reply = SmtpReply::parse(&format!("{} {}", response.code, response.text));
    let verdict = classifier.classify(&reply, None);
    // A 4xx is never the end of an address, whatever its words say.
    let class = if !permanent && verdict.class == BounceClass::RecipientPermanent {
        BounceClass::Transient
    } else {
        verdict.class
    };
    let why = format!(
        "{} {} at {stage} via {} ({}, {})",
        response.code,
        response.text,
        pool,
        verdict.reason.as_str(),
        class.as_str()
    );
    let t = flight.failed(
        class,
        policy,
        now,
        retry_hint_ms(&response.text),
        why.clone(),
    );
    (
        t,
        Recorded {
            rule: Some(verdict.rule_id.clone()),
            outcome: if permanent {
                AttemptOutcome::Rejected
            } else {
                AttemptOutcome::Deferred
            },
            code: Some(i64::from(response.code)),
            text: Some(response.text),
            reason: Some(verdict.reason.as_str().into()),
            class: Some(class.as_str().into()),
        },
        why,
    )
}
