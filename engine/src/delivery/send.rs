//! The batch loop: claim a batch, plan it, reserve its pacing slots, send
//! concurrently, and write the outcomes in waves as the sends finish.
//!
//! Sending is at-least-once: a crash after the relay accepted but before the
//! outcome was written makes the next worker send again, with the same
//! Message-ID (receivers and threads collapse it). A re-claimed job whose
//! attempt is already recorded as accepted is never sent again.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use futures::StreamExt;

use super::attempts::{self, Attempt, AttemptOutcome};
use super::message::{ReceiptEmail, build};
use super::outcome::{self, Finished};
use super::plan::{Batch, Plan, SendPlan};
use super::pools::{self, SenderPool, send_chain};
use super::queue::{self, Job};
use super::record::json_unless_empty;
use super::smtp::{Envelope, SendOutcome};
use super::worker::Worker;
use crate::clock::Millis;
use crate::error::{Error, Result};
use crate::orders::{self, Order};
use crate::privacy::mask_email;
use crate::receipt::Receipt;
use crate::{exec_on_pool, on_pool};

/// A batch's jobs in [`Worker::held`] for as long as it runs (also when it
/// is dropped mid-way).
struct Held<'a> {
    worker: &'a Worker,
    ids: Vec<i64>,
}

impl<'a> Held<'a> {
    fn new(worker: &'a Worker, ids: Vec<i64>) -> Self {
        worker
            .held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(ids.iter().copied());
        Self { worker, ids }
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let mut held = self.worker.held.lock().unwrap_or_else(|e| e.into_inner());
        for id in &self.ids {
            held.remove(id);
        }
    }
}

/// After a send finishes, how long to wait for the next one to share its
/// transaction.
const GATHER_OUTCOMES: Duration = Duration::from_millis(5);

impl Worker {
    /// Claims one batch of due jobs and processes them concurrently. Returns
    /// how many jobs it took.
    pub async fn run_once(&self) -> Result<usize> {
        let jobs = queue::claim(
            &self.db,
            self.clock.now_ms(),
            &self.id,
            self.lease_ms,
            self.batch,
        )
        .await?;
        let n = jobs.len();
        if n == 0 {
            return Ok(0);
        }
        // Renewed while this batch runs, and not after (see `renew_leases`).
        let _held = Held::new(self, jobs.iter().map(|j| j.id).collect());
        // Pools are read once per batch, not once per message.
        let pools = pools::list(&self.db).await?;
        let (masked, sends): (Vec<Job>, Vec<Job>) =
            jobs.into_iter().partition(|j| j.kind == "masked_link");
        // Concurrently, so SMTP round trips overlap.
        let masked_runs = futures::future::join_all(
            masked
                .into_iter()
                .map(|job| self.process_masked(job, &pools)),
        );
        let send_run = async {
            if sends.is_empty() {
                Ok(())
            } else {
                self.process_sends(sends, &pools).await
            }
        };
        let (masked_results, send_result) = tokio::join!(masked_runs, send_run);
        for r in masked_results.into_iter().chain([send_result]) {
            if let Err(e) = r {
                tracing::error!(error = %e, "send job failed; its lease will expire and it will be retried");
            }
        }
        Ok(n)
    }

    /// Sends one claimed batch of receipt jobs. The rows they need are read in
    /// a few queries for the whole batch, pacing slots are reserved in one
    /// transaction, and each attempt is written once, with its outcome, as the
    /// sends finish: those finishing together share one transaction, so a slow
    /// relay holds up only its own.
    async fn process_sends(&self, jobs: Vec<Job>, pools: &[SenderPool]) -> Result<()> {
        let db = &self.db;
        let now = self.clock.now_ms();
        let order_ids: Vec<i64> = jobs.iter().map(|j| j.order_id).collect();
        let by_id: HashMap<i64, Order> = orders::get_many(db, &order_ids)
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
        let histories = attempts::of_orders(db, &self.attempt_sql, &order_ids).await?;
        let emails: Vec<&str> = by_id.values().map(|o| o.customer_email.as_str()).collect();
        let suppressed = crate::suppression::active_many(db, now, &emails).await?;
        let chain = send_chain(pools);
        let plans: Vec<Plan> = jobs
            .into_iter()
            .map(|job| {
                let order = by_id.get(&job.order_id).cloned();
                let history = histories.get(&job.order_id).map_or(&[][..], Vec::as_slice);
                self.plan(job, order, history, pools, &chain, &suppressed)
            })
            .collect();

        // Spreading: a first try takes a token per (pool, provider) pair, one
        // reservation for the whole batch, made in the transaction that records
        // its attempts; a send without a token waits in the queue for its slot.
        // Ordered: concurrent batches lock the pairs' rows in the same order, so
        // PostgreSQL never finds two of them waiting for each other.
        let mut wanting: BTreeMap<(i64, &'static str), Vec<usize>> = BTreeMap::new();
        for (i, plan) in plans.iter().enumerate() {
            if let Plan::Send(s) = plan
                && s.needs_slot
            {
                wanting.entry((s.pool.id, s.provider)).or_default().push(i);
            }
        }
        let pace_rows = wanting
            .iter()
            .map(|(&(pool, provider), idxs)| {
                let amount = super::pace::reserve_amount(idxs.len(), &self.config.pace)?;
                Ok((pool, provider, amount))
            })
            .collect::<Result<Vec<_>>>()?;
        let pace_json = json_unless_empty(&pace_rows)?;
        let sql = &self.record_sql;
        let reserve_sql = &self.reserve_sql;
        let turn = crate::db::write_turn(db).await;
        let batch: Batch = on_pool!(db, p => {
            let mut tx = p.begin().await?;
            let reserved: Vec<super::pace::Reserved> = match &pace_json {
                Some(rows) => sqlx::query_as(reserve_sql).bind(now).bind(rows)
                    .fetch_all(&mut *tx).await?,
                None => Vec::new(),
            };
            let batch = Batch::split(plans, &wanting, &reserved, now, &self.config.pace);
            if let Some(ids) = json_unless_empty(&batch.finished.iter().map(|j| j.id).collect::<Vec<_>>())? {
                sqlx::query(&sql.jobs_done).bind(&ids).execute(&mut *tx).await?;
            }
            for (job, at) in &batch.deferred {
                sqlx::query(queue::DEFER_SQL).bind(job.id).bind(&self.id).bind(at)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            batch
        });
        drop(turn);
        let Batch { writes, sends, .. } = batch;
        // Each send's attempt: the one a crashed run recorded, or a new one, written
        // with its outcome.
        let ready: Vec<(SendPlan, Attempt)> = sends
            .into_iter()
            .map(|s| {
                let attempt = match &s.started {
                    Some(a) => a.clone(),
                    None => attempts::fresh(&s.job, s.pool.id, now, &self.bounce_domain),
                };
                (s, attempt)
            })
            .collect();
        if !writes.is_empty() {
            let writes: Vec<Finished> = writes.into_iter().map(Finished::Moved).collect();
            self.write_outcomes(&writes).await?;
            self.after_written(&writes).await;
        }

        // The sends and the writing of their outcomes run side by side: while a
        // wave is being written, the conversations still in flight go on (a
        // future is only driven while polled: awaiting the write in the same
        // loop froze them, their relay connections held but idle).
        let (finished, mut to_write) = tokio::sync::mpsc::unbounded_channel();
        let sending = async move {
            let mut in_flight: futures::stream::FuturesUnordered<_> = ready
                .into_iter()
                .map(|(s, attempt)| async move {
                    let result = self.send(&s.order, &s.pool, &attempt).await;
                    (s, attempt, result)
                })
                .collect();
            while let Some(d) = in_flight.next().await {
                // Cannot fail: the writer keeps its receiver until this sender is dropped.
                let _ = finished.send(d);
            }
        };
        let writing = async {
            // Outcomes whose write failed (the database is restarting, say): they
            // go again with the next wave, and after the last one for a while, so
            // an accepted send is recorded rather than re-sent when the lease ends.
            let mut unwritten: Vec<Finished> = Vec::new();
            while let Some(first) = to_write.recv().await {
                // A wave is what finished while the last one was written, plus
                // what finishes close behind; a gap longer than GATHER_OUTCOMES
                // closes it, so a slow relay still holds up only its own.
                // (`timeout` polls `recv` first: what is already queued comes at once.)
                let mut done = vec![first];
                while let Ok(Some(d)) = tokio::time::timeout(GATHER_OUTCOMES, to_write.recv()).await
                {
                    done.push(d);
                }
                let now = self.clock.now_ms();
                let mut outcomes = std::mem::take(&mut unwritten);
                outcomes.extend(done.into_iter().map(|(s, attempt, result)| {
                    outcome::of_send(self.classifier, &self.policy, s, attempt, result, now)
                }));
                // A failed write must not hold up the sends still in flight.
                match self.write_outcomes(&outcomes).await {
                    Ok(()) => self.after_written(&outcomes).await,
                    Err(e) => {
                        tracing::warn!(error = %e, jobs = outcomes.len(), "could not record send outcomes yet; trying again");
                        unwritten = outcomes;
                    }
                }
            }
            unwritten
        };
        let ((), unwritten) = tokio::join!(sending, writing);
        if unwritten.is_empty() {
            return Ok(());
        }
        self.write_outcomes_patiently(unwritten).await
    }

    /// Keeps trying to record outcomes for up to half the lease (at most 30 s),
    /// backing off from 100 ms to 2 s. Gives up after that: the jobs' leases
    /// run out and they run again (at-least-once).
    async fn write_outcomes_patiently(&self, outcomes: Vec<Finished>) -> Result<()> {
        // The batch's leases are renewed meanwhile; once this gives up they no
        // longer are, and the jobs run again one lease later.
        let patience = Duration::from_secs(30);
        let give_up = std::time::Instant::now() + patience;
        let mut wait = Duration::from_millis(100);
        loop {
            tokio::time::sleep(wait).await;
            match self.write_outcomes(&outcomes).await {
                Ok(()) => {
                    self.after_written(&outcomes).await;
                    tracing::info!(
                        jobs = outcomes.len(),
                        "send outcomes recorded after the database came back"
                    );
                    return Ok(());
                }
                Err(e) if std::time::Instant::now() >= give_up => {
                    tracing::error!(error = %e, jobs = outcomes.len(), "could not record send outcomes; the jobs will run again after their lease");
                    return Err(e);
                }
                Err(_) => wait = (wait * 2).min(Duration::from_secs(2)),
            }
        }
    }

    /// Logs, counts and shapes after outcomes are written (nothing here may
    /// fail a send).
    async fn after_written(&self, finished: &[Finished]) {
        for f in finished {
            let o = match f {
                Finished::Moved(o) => o,
                Finished::Again(a) => {
                    let (pool, _) = &a.sent;
                    let what = if a.attempt.is_some() {
                        "unknown"
                    } else {
                        "not_sent"
                    };
                    if a.attempt.is_some() {
                        tracing::warn!(order = a.job.order_id, attempt = a.job.attempt_no, pool = %pool.name, "send outcome unknown: re-sending later with the same Message-ID");
                    }
                    crate::metrics::send(&pool.name, what);
                    continue;
                }
            };
            let (Some((_, recorded)), Some((pool, provider))) = (&o.attempt, &o.sent) else {
                continue;
            };
            tracing::info!(order = o.job.order_id, attempt = o.job.attempt_no, pool = %pool.name, to = %mask_email(&o.email), state = o.transition.new_state().as_str(), "send attempt finished");
            crate::metrics::send(&pool.name, recorded.outcome.as_str());
            if matches!(
                recorded.outcome,
                AttemptOutcome::Rejected | AttemptOutcome::Deferred
            ) {
                if let Some(class) = &recorded.class {
                    crate::metrics::bounce(class);
                }
                let reply = format!(
                    "{} {}",
                    recorded.code.unwrap_or_default(),
                    recorded.text.as_deref().unwrap_or_default()
                );
                let now = self.clock.now_ms();
                if let Err(e) = self.shape(now, pool, provider, &reply).await {
                    tracing::warn!(error = %e, "could not record a traffic-shaping slowdown");
                }
            }
        }
    }

    /// Traffic shaping: a reply matching a shaping rule slows this pool →
    /// provider pair, logged and audited with the rule and the reply.
    async fn shape(
        &self,
        now: Millis,
        pool: &SenderPool,
        provider: &str,
        reply: &str,
    ) -> Result<()> {
        let Some(rule) = self.shaper.matching(provider, reply) else {
            return Ok(());
        };
        let reply = crate::privacy::mask_emails_in(reply);
        if super::pace::slow(&self.db, now, pool.id, provider, rule, &reply).await? {
            tracing::warn!(pool = %pool.name, provider, rule = %rule.id, factor = rule.slow_factor, minutes = rule.minutes, "traffic shaping: slowing this pool for this provider");
            crate::audit::record(
                &self.db,
                now,
                &crate::audit::Actor::system(),
                "pool.slowed",
                &format!("pool {} → {provider}", pool.name),
                &format!(
                    "rule {}: {}× slower for {} min ({}); reply: {}",
                    rule.id,
                    rule.slow_factor,
                    rule.minutes,
                    rule.doc,
                    reply.chars().take(200).collect::<String>()
                ),
            )
            .await?;
        }
        Ok(())
    }

    pub fn receipt_for(&self, order: &Order) -> Receipt {
        Receipt::for_order(order, &self.branding)
    }

    async fn send(
        &self,
        order: &Order,
        pool: &SenderPool,
        attempt: &Attempt,
    ) -> Result<SendOutcome> {
        let receipt = self.receipt_for(order);
        let (html, text) = self
            .renderer
            .render_email(&receipt)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let subject = crate::i18n::text(
            &receipt.locale,
            "email-subject",
            &[
                ("order", &order.order_number),
                ("shop", &self.branding.shop_name),
            ],
        );
        self.send_raw(order, pool, attempt, &subject, &html, &text, "receipt")
            .await
    }

    /// Sends one message for `order` through `pool` with the attempt's
    /// Message-ID and VERP return path; captured messages go to the outbox.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn send_raw(
        &self,
        order: &Order,
        pool: &SenderPool,
        attempt: &Attempt,
        subject: &str,
        html: &str,
        text: &str,
        campaign: &str,
    ) -> Result<SendOutcome> {
        let subject = subject.to_string();
        let feedback_id = format!("{}:{}:{campaign}:rebound", order.id, pool.name);
        let extra = [("X-Rebound-Attempt", attempt.attempt_no.to_string())];
        let raw = build(&ReceiptEmail {
            from_name: &pool.from_name,
            from_address: &pool.from_address,
            to_name: &order.customer_name,
            to_address: &order.customer_email,
            subject: &subject,
            html,
            text,
            message_id: &attempt.message_id,
            feedback_id: &feedback_id,
            reply_to: Some(&self.branding.support_email),
            extra_headers: &extra,
        })
        .map_err(|e| Error::Internal(e.to_string()))?;
        let envelope = Envelope {
            mail_from: format!("bounce+{}@{}", attempt.verp_token, self.bounce_domain),
            rcpt_to: order.customer_email.clone(),
        };
        let sender = self.senders.for_pool(pool).await?;
        let outcome = sender.send(&envelope, &raw).await;
        if matches!(outcome, SendOutcome::Captured) {
            let raw_text = String::from_utf8_lossy(&raw).into_owned();
            exec_on_pool!(&self.db, p => sqlx::query(
                "INSERT INTO outbox (pool_id, order_id, message_id, envelope_from, envelope_to, subject, raw, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ).bind(pool.id).bind(order.id).bind(&attempt.message_id).bind(&envelope.mail_from)
            .bind(&envelope.rcpt_to).bind(&subject).bind(&raw_text).bind(self.clock.now_ms())
            .execute(p).await)?;
        }
        Ok(outcome)
    }

    pub(crate) async fn finish_job(&self, job: &Job) -> Result<()> {
        exec_on_pool!(&self.db, p => sqlx::query(queue::FINISH_SQL).bind(job.id).execute(p).await)?;
        Ok(())
    }
}
