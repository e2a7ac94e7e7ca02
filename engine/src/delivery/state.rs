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
use crate::db::Db;
use crate::error::Result;
use crate::on_pool;

/// Stored (TEXT), sent and parsed as `queued`, `sending`, `retry_scheduled`,
/// `accepted`, `held`: one list of names, derived for serde, sqlx and strum.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    sqlx::Type,
    strum::Display,
    strum::EnumString,
    strum::AsRefStr,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The state a stored name stands for.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
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

/// Proof that an order's receipt was accepted: only such an order can be
/// reopened by a bounce that comes back after the acceptance (an
/// asynchronous DSN or an ESP event).
#[derive(Debug)]
pub struct Delivered {
    order_id: i64,
    attempt_no: i64,
}

impl Delivered {
    /// Only an accepted order (its attempt `attempt_no`) can bounce late.
    pub fn begin(order_id: i64, state: ReceiptState, attempt_no: i64) -> Option<Self> {
        (state == ReceiptState::Accepted).then_some(Self {
            order_id,
            attempt_no,
        })
    }

    /// What a bounce of class `class` arriving now leads to: a hard address
    /// failure or refused content hold the order, a passing failure or a
    /// reputation block send it again after the policy's delay (held when the
    /// retries are used up); anything else (a complaint, an auto-reply, a
    /// soft "address" failure) leaves it accepted.
    pub fn bounced(
        self,
        class: BounceClass,
        hard: bool,
        policy: &RetryPolicy,
        now: Millis,
        reason: &str,
    ) -> Option<LateBounce> {
        let held = || LateBounce::Held {
            order_id: self.order_id,
            reason: reason.to_string(),
        };
        match class {
            BounceClass::RecipientPermanent if hard => Some(held()),
            BounceClass::Content => Some(held()),
            BounceClass::Transient | BounceClass::SenderReputation => {
                Some(match policy.delay_after(self.attempt_no) {
                    Some(delay) => LateBounce::Retry {
                        order_id: self.order_id,
                        next_attempt: self.attempt_no + 1,
                        due_at: now + delay,
                        reason: reason.to_string(),
                    },
                    None => held(),
                })
            }
            _ => None,
        }
    }
}

/// An accepted receipt that came back: the one way an accepted order moves
/// again. Written by [`LateBounce::write`].
#[derive(Debug, Clone, PartialEq)]
pub enum LateBounce {
    Retry {
        order_id: i64,
        next_attempt: i64,
        due_at: Millis,
        reason: String,
    },
    Held {
        order_id: i64,
        reason: String,
    },
}

impl LateBounce {
    pub fn new_state(&self) -> ReceiptState {
        match self {
            LateBounce::Retry { .. } => ReceiptState::RetryScheduled,
            LateBounce::Held { .. } => ReceiptState::Held,
        }
    }

    /// Moves the order (only if it is still accepted), with its timeline
    /// entry and, for a retry, its next send job, in one transaction.
    /// Returns whether the order moved.
    pub async fn write(&self, db: &Db, now: Millis) -> Result<bool> {
        let (order_id, reason, event, job) = match self {
            LateBounce::Retry {
                order_id,
                next_attempt,
                due_at,
                reason,
            } => (
                *order_id,
                reason,
                format!("attempt {next_attempt} after a late bounce"),
                Some((*next_attempt, *due_at)),
            ),
            LateBounce::Held { order_id, reason } => (
                *order_id,
                reason,
                format!("the accepted receipt bounced: {reason}"),
                None,
            ),
        };
        let state = self.new_state();
        let detail = format!("bounced after acceptance: {reason}");
        let _turn = crate::db::write_turn(db).await;
        Ok(on_pool!(db, p => {
            let mut tx = p.begin().await?;
            let moved = sqlx::query(
                "UPDATE orders SET state = $1, state_detail = $2, updated_at = $3
                 WHERE id = $4 AND state = 'accepted'",
            )
            .bind(state).bind(&detail).bind(now).bind(order_id)
            .execute(&mut *tx).await?.rows_affected() == 1;
            if moved {
                if let Some((attempt_no, due_at)) = job {
                    sqlx::query(
                        "INSERT INTO jobs (kind, order_id, attempt_no, due_at, state, created_at)
                         VALUES ('send', $1, $2, $3, 'queued', $4) ON CONFLICT DO NOTHING",
                    )
                    .bind(order_id).bind(attempt_no).bind(due_at).bind(now)
                    .execute(&mut *tx).await?;
                }
                sqlx::query("INSERT INTO order_events (order_id, at, kind, detail) VALUES ($1, $2, $3, $4)")
                    .bind(order_id).bind(now).bind(state.as_str()).bind(&event)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            moved
        }))
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

    #[test]
    fn state_names_are_the_stored_ones() {
        for (s, name) in [
            (ReceiptState::Queued, "queued"),
            (ReceiptState::Sending, "sending"),
            (ReceiptState::RetryScheduled, "retry_scheduled"),
            (ReceiptState::Accepted, "accepted"),
            (ReceiptState::Held, "held"),
        ] {
            assert_eq!((s.as_str(), s.to_string()), (name, name.to_string()));
            assert_eq!(ReceiptState::parse(name), Some(s));
            assert_eq!(
                serde_json::to_string(&s).expect("json"),
                format!("\"{name}\"")
            );
        }
        assert_eq!(ReceiptState::parse("sent"), None);
    }

    #[test]
    fn only_an_accepted_receipt_bounces_late_and_only_a_real_failure_moves_it() {
        let p = RetryPolicy::default();
        for s in [
            ReceiptState::Queued,
            ReceiptState::Sending,
            ReceiptState::RetryScheduled,
            ReceiptState::Held,
        ] {
            assert!(Delivered::begin(7, s, 1).is_none(), "{s:?}");
        }
        let late = |class, hard, attempt_no| {
            Delivered::begin(7, ReceiptState::Accepted, attempt_no)
                .expect("accepted")
                .bounced(class, hard, &p, 1_000, "why")
        };
        assert_eq!(
            late(BounceClass::RecipientPermanent, true, 1),
            Some(LateBounce::Held {
                order_id: 7,
                reason: "why".into()
            })
        );
        assert_eq!(late(BounceClass::RecipientPermanent, false, 1), None);
        assert_eq!(late(BounceClass::Complaint, false, 1), None);
        let retry = late(BounceClass::Transient, false, 1).expect("moves");
        assert_eq!(retry.new_state(), ReceiptState::RetryScheduled);
        assert!(matches!(
            retry,
            LateBounce::Retry { next_attempt: 2, due_at, .. }
                if due_at == 1_000 + p.delay_after(1).expect("a retry after the first")
        ));
        let last = (1..100)
            .find(|n| p.delay_after(*n).is_none())
            .expect("retries end");
        assert_eq!(
            late(BounceClass::SenderReputation, false, last).map(|t| t.new_state()),
            Some(ReceiptState::Held)
        );
    }
}
