//! Planning a claimed batch: what each receipt job does (finish, write a
//! transition without a send, or send through which pool), decided from the
//! rows read for the whole batch, and the split by pacing slot.

use std::collections::BTreeMap;

use super::attempts::{Attempt, AttemptOutcome};
use super::outcome::Outcome;
use super::pools::{SenderPool, pick_pool};
use super::queue::Job;
use super::state::{InFlight, ReceiptState, Transition};
use super::worker::Worker;
use crate::bounce::BounceClass;
use crate::clock::Millis;
use crate::orders::Order;

/// What a send batch does with one claimed receipt job, decided from the
/// rows read for the whole batch.
pub(super) enum Plan {
    /// Nothing to do: the order is gone, or accepted or held already.
    Finish(Job),
    /// A transition without a send (accepted before a restart, no pool, suppressed).
    Write(Box<Outcome>),
    /// A send, unless pacing gives it a later slot.
    Send(Box<SendPlan>),
}

pub(super) struct SendPlan {
    pub(super) job: Job,
    pub(super) order: Order,
    pub(super) flight: InFlight,
    pub(super) pool: SenderPool,
    pub(super) provider: &'static str,
    /// The attempt a crashed run recorded: re-sent with its Message-ID.
    pub(super) started: Option<Attempt>,
    /// A first try of this attempt takes a pacing token.
    pub(super) needs_slot: bool,
    /// The later slot pacing reserved; the job waits in the queue until then.
    pub(super) slot: Option<Millis>,
}

/// A claimed batch's plans, split by what happens to each.
pub(super) struct Batch {
    /// Nothing to do: done.
    pub(super) finished: Vec<Job>,
    /// Back to the queue until their pacing slot.
    pub(super) deferred: Vec<(Job, Millis)>,
    /// Transitions without a send.
    pub(super) writes: Vec<Outcome>,
    /// Sends that go now.
    pub(super) sends: Vec<SendPlan>,
}

impl Batch {
    /// Splits `plans`, giving the sends that wanted a token (`wanting`, by
    /// pair) the slots their pair's reservation (`reserved`) holds for them.
    pub(super) fn split(
        mut plans: Vec<Plan>,
        wanting: &BTreeMap<(i64, &'static str), Vec<usize>>,
        reserved: &[super::pace::Reserved],
        now: Millis,
        cfg: &crate::config::PaceConfig,
    ) -> Self {
        for r in reserved {
            let provider = crate::provider::PROVIDERS
                .iter()
                .find(|p| **p == r.provider);
            let Some(idxs) = provider.and_then(|&p| wanting.get(&(r.pool_id, p))) else {
                continue;
            };
            for (&i, slot) in idxs.iter().zip(super::pace::slots(now, r, idxs.len(), cfg)) {
                if let (Some(Plan::Send(s)), super::pace::Slot::At(at)) = (plans.get_mut(i), slot) {
                    s.slot = Some(at);
                }
            }
        }
        let mut batch = Batch {
            finished: Vec::new(),
            deferred: Vec::new(),
            writes: Vec::new(),
            sends: Vec::new(),
        };
        for plan in plans {
            match plan {
                Plan::Finish(job) => batch.finished.push(job),
                Plan::Write(o) => batch.writes.push(*o),
                Plan::Send(s) => match s.slot {
                    Some(at) => batch.deferred.push((s.job, at)),
                    None => batch.sends.push(*s),
                },
            }
        }
        batch
    }
}

impl Worker {
    /// Decides what to do with one claimed send job from the rows read for
    /// its whole batch. No I/O: every write happens batched, afterwards.
    pub(super) fn plan(
        &self,
        job: Job,
        order: Option<Order>,
        history: &[Attempt],
        pools: &[SenderPool],
        chain: &[&SenderPool],
        suppressed: &crate::suppression::ActiveSuppressions,
    ) -> Plan {
        let Some(order) = order else {
            return Plan::Finish(job);
        };
        let state = ReceiptState::parse(&order.state).unwrap_or(ReceiptState::Held);
        let Some(flight) = InFlight::begin(order.id, state, job.attempt_no) else {
            // Already accepted or held: a duplicate or stale job.
            return Plan::Finish(job);
        };
        let write = |job: Job, transition: Transition, note: &str| {
            Plan::Write(Box::new(Outcome {
                email: order.customer_email.clone(),
                job,
                attempt: None,
                transition,
                note: note.to_string(),
                sent: None,
            }))
        };
        if history
            .iter()
            .any(|a| a.attempt_no == job.attempt_no && a.outcome == Some(AttemptOutcome::Accepted))
        {
            // The relay accepted before a crash; record it, never resend.
            return write(job, flight.accepted(), "accepted before a restart");
        }
        // A non-ASCII local part goes only through pools that offer SMTPUTF8
        // (RFC 6531); intake accepted it because one of them does.
        let utf8_chain: Vec<&SenderPool>;
        let chain = if order.customer_email.is_ascii() {
            chain
        } else {
            utf8_chain = chain.iter().copied().filter(|p| p.smtputf8).collect();
            &utf8_chain
        };
        let current = history.iter().find(|a| a.attempt_no == job.attempt_no);
        let previous = history.iter().rev().find(|a| a.attempt_no < job.attempt_no);
        let pool = match current {
            Some(a) => pools.iter().find(|p| p.id == a.pool_id && p.enabled),
            None => None,
        }
        .or_else(|| {
            // A high-risk order's first attempt goes where the risk policy routed
            // it, while that pool is still in the chain (enabled, not masked).
            let routed = order.route_pool_id.filter(|_| previous.is_none());
            if let Some(p) = routed.and_then(|id| chain.iter().find(|p| p.id == id)) {
                return Some(*p);
            }
            let avoid = previous.is_some_and(|a| {
                a.class.as_deref() == Some(BounceClass::SenderReputation.as_str())
            });
            pick_pool(chain, previous.map(|a| a.pool_id), avoid)
        });
        let Some(pool) = pool.cloned() else {
            let t = Transition::Held {
                order_id: order.id,
                attempt_no: job.attempt_no,
                reason: "no enabled sender pool can take this receipt".into(),
                dead_address: false,
            };
            return write(job, t, "no sender pool");
        };
        if let Some(s) = suppressed.for_email(&order.customer_email) {
            // Never mail a suppressed address: straight to the fallback path.
            let t = Transition::Held {
                order_id: order.id,
                attempt_no: job.attempt_no,
                reason: format!(
                    "the address is suppressed ({}, from {})",
                    s.reason, s.source
                ),
                dead_address: true,
            };
            return write(job, t, "suppressed address: not sent");
        }
        // Spreading: a first try of this attempt takes a token per (pool, provider);
        // a re-run, or a job that already waited for its slot, does not.
        let needs_slot = current.is_none() && job.slot_at.is_none();
        Plan::Send(Box::new(SendPlan {
            provider: crate::provider::provider_of(&order.customer_email),
            started: current.cloned(),
            needs_slot,
            slot: None,
            job,
            order,
            flight,
            pool,
        }))
    }
}
