//! The receipt's delivery state machine.
//!
//! States are stored as text, but they change only through typed transitions:
//! a send may finish only from an [`InFlight`] value, which exists only for an
//! order that was queued or waiting for a retry. A finished send yields a
//! [`Transition`], the only thing the queue accepts to move an order on. So an
//! accepted receipt cannot be "retried", and a held one cannot be "accepted"
//! by a stale worker: there is no value to call it with.

use serde::{Deserialize, Serialize};

use super::policy::RetryPolicy;
use crate::bounce::BounceClass;
use crate::clock::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptState {
    /// Waiting for its first send.
    Queued,
    /// A worker is sending it now. Seen, not stored: orders are read with
    /// this state while their send job is leased (`orders::repo::STATE_AS_SEEN`);
    /// the stored state stays queued or retry_scheduled until the outcome.
    Sending,
    /// A soft failure; another attempt is scheduled.
    RetryScheduled,
    /// A mail server accepted the receipt.
    Accepted,
    /// Email has failed (retries exhausted, dead address, or content refused);
    /// the fallback path takes over.
    Held,
}

impl ReceiptState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptState::Queued => "queued",
            ReceiptState::Sending => "sending",
            ReceiptState::RetryScheduled => "retry_scheduled",
            ReceiptState::Accepted => "accepted",
            ReceiptState::Held => "held",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::Sending,
            Self::RetryScheduled,
            Self::Accepted,
            Self::Held,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        matches!(self, ReceiptState::Accepted | ReceiptState::Held)
    }
}

/// Proof that an order may be sent now (attempt `attempt_no`).
#[derive(Debug)]
pub struct InFlight {
    pub order_id: i64,
    pub attempt_no: i64,
}

impl InFlight {
    /// Only orders waiting to be sent (or whose sender crashed mid-send) can
    /// be taken in flight.
    pub fn begin(order_id: i64, state: ReceiptState, attempt_no: i64) -> Option<Self> {
        match state {
            ReceiptState::Queued | ReceiptState::RetryScheduled | ReceiptState::Sending => {
                Some(Self {
                    order_id,
                    attempt_no,
                })
            }
            ReceiptState::Accepted | ReceiptState::Held => None,
        }
    }

    pub fn accepted(self) -> Transition {
        Transition::Accepted {
            order_id: self.order_id,
            attempt_no: self.attempt_no,
        }
    }

    /// Decides what a failed attempt leads to. `retry_after_ms` is the
    /// server's own "try again in N" hint, honoured when longer.
    pub fn failed(
        self,
        class: BounceClass,
        policy: &RetryPolicy,
        now: Millis,
        retry_after_ms: Option<i64>,
        why: String,
    ) -> Transition {
        let held = |reason: String| Transition::Held {
            order_id: self.order_id,
            attempt_no: self.attempt_no,
            reason,
            dead_address: class == BounceClass::RecipientPermanent,
        };
        match class {
            BounceClass::RecipientPermanent => held(format!("address rejected, no retries: {why}")),
            BounceClass::Content => held(format!("message refused for its content: {why}")),
            _ => match policy.delay_after(self.attempt_no) {
                Some(delay) => Transition::Retry {
                    order_id: self.order_id,
                    attempt_no: self.attempt_no,
                    next_attempt: self.attempt_no + 1,
                    due_at: now + delay.max(retry_after_ms.unwrap_or(0)),
                    avoid_last_pool: class == BounceClass::SenderReputation,
                    reason: why,
                },
                None => held(format!(
                    "{} soft failures, retries exhausted: {why}",
                    self.attempt_no
                )),
            },
        }
    }
}

/// The outcome of one attempt, ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    Accepted {
        order_id: i64,
        attempt_no: i64,
    },
    Retry {
        order_id: i64,
        attempt_no: i64,
        next_attempt: i64,
        due_at: Millis,
        /// The last pool was blocked for reputation: the retry must use another.
        avoid_last_pool: bool,
        reason: String,
    },
    Held {
        order_id: i64,
        attempt_no: i64,
        reason: String,
        dead_address: bool,
    },
}

impl Transition {
    pub fn new_state(&self) -> ReceiptState {
        match self {
            Transition::Accepted { .. } => ReceiptState::Accepted,
            Transition::Retry { .. } => ReceiptState::RetryScheduled,
            Transition::Held { .. } => ReceiptState::Held,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn final_states_cannot_be_sent_again() {
        assert!(InFlight::begin(1, ReceiptState::Accepted, 2).is_none());
        assert!(InFlight::begin(1, ReceiptState::Held, 2).is_none());
        assert!(InFlight::begin(1, ReceiptState::Queued, 1).is_some());
    }

    #[test]
    fn soft_failures_follow_the_schedule_then_hold() {
        let p = RetryPolicy::default();
        let mut due = Vec::new();
        for attempt in 1..=3 {
            let t = InFlight {
                order_id: 1,
                attempt_no: attempt,
            }
            .failed(BounceClass::Transient, &p, 0, None, "421".into());
            match t {
                Transition::Retry {
                    due_at,
                    next_attempt,
                    ..
                } => {
                    assert_eq!(next_attempt, attempt + 1);
                    due.push(due_at);
                }
                other => panic!("expected a retry, got {other:?}"),
            }
        }
        assert_eq!(due, vec![5 * MIN, 30 * MIN, 120 * MIN]);
        let last = InFlight {
            order_id: 1,
            attempt_no: 4,
        }
        .failed(BounceClass::Transient, &p, 0, None, "421".into());
        assert!(
            matches!(
                last,
                Transition::Held {
                    dead_address: false,
                    ..
                }
            ),
            "{last:?}"
        );
    }

    #[test]
    fn dead_addresses_skip_retries_and_hints_are_honoured() {
        let p = RetryPolicy::default();
        let t = InFlight {
            order_id: 1,
            attempt_no: 1,
        }
        .failed(
            BounceClass::RecipientPermanent,
            &p,
            0,
            None,
            "550 5.1.1".into(),
        );
        assert!(matches!(
            t,
            Transition::Held {
                dead_address: true,
                ..
            }
        ));
        let t = InFlight {
            order_id: 1,
            attempt_no: 1,
        }
        .failed(BounceClass::Transient, &p, 0, Some(20 * MIN), "451".into());
        assert!(matches!(t, Transition::Retry { due_at, .. } if due_at == 20 * MIN));
        let t = InFlight {
            order_id: 1,
            attempt_no: 1,
        }
        .failed(
            BounceClass::SenderReputation,
            &p,
            0,
            None,
            "550 5.7.1".into(),
        );
        assert!(matches!(
            t,
            Transition::Retry {
                avoid_last_pool: true,
                ..
            }
        ));
    }
}
