//! The send worker: claims due jobs, sends the receipt through the right
//! sender pool, classifies any refusal and writes the resulting transition.
//!
//! Sending is at-least-once: a crash after the relay accepted but before the
//! outcome was written makes the next worker send again, with the same
//! Message-ID (receivers and threads collapse it). A re-claimed job whose
//! attempt is already recorded as accepted is never sent again.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use rand::RngCore;
use tokio::sync::{Mutex, Notify, watch};

use super::message::{ReceiptEmail, build};
use super::policy::{RetryPolicy, retry_hint_ms};
use super::pools::{self, SenderPool, pick_pool, send_chain};
use super::queue::{self, Job};
use super::state::{InFlight, ReceiptState, Transition};
use super::transport::{Envelope, RelayUrl, SendOutcome, Sender};
use crate::bounce::{BounceClass, Classifier, SmtpReply};
use crate::clock::{Clock, Millis};
use crate::config::Config;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::orders::{self, Order};
use crate::privacy::mask_email;
use crate::receipt::{Branding, LineItem, Receipt, Renderer};
use crate::soft_bounces::Effect as SoftEffect;
use crate::{exec_on_pool, on_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Attempt {
    /// 0 for a receipt send's attempt until it is written with its outcome.
    pub id: i64,
    pub order_id: i64,
    pub attempt_no: i64,
    pub pool_id: i64,
    pub message_id: String,
    pub verp_token: String,
    pub started_at: Millis,
    pub finished_at: Option<Millis>,
    pub outcome: Option<String>,
    pub smtp_code: Option<i64>,
    pub smtp_text: Option<String>,
    pub reason: Option<String>,
    pub class: Option<String>,
    /// `receipt`, or `masked_link` for the fallback re-send.
    pub purpose: String,
}

pub(crate) const ATTEMPT_COLUMNS: &str = "id, order_id, attempt_no, pool_id, message_id, verp_token, started_at, \
    finished_at, outcome, smtp_code, smtp_text, reason, class, purpose";

/// The batch statements of a send round. Each takes its batch as one JSON
/// parameter (`db::json_param`), so one text per statement serves every
/// batch size; `$1` is `now` where a statement takes it. Built once per worker.
struct WriteSql {
    /// Records a masked re-send's attempt before its send, or returns the one a
    /// crashed run recorded (a no-op update, so both backends return the row).
    /// `$1`: now; `$2`: rows of (order, attempt, pool, message id, token, purpose).
    start_attempts: String,
    /// Receipt attempts, written once with their outcomes (one a crashed run
    /// recorded before its send gets its outcome). `$1`: now; `$2`: rows of
    /// (order, attempt, pool, message id, token, started at, purpose, outcome,
    /// code, text, reason, class, rule).
    attempts: String,
    /// Orders' new states, unless already final; returns the ids that moved.
    /// `$1`: now; `$2`: rows of (order, state, detail, attempts).
    orders: String,
    /// Timeline entries. `$1`: now; `$2`: rows of (order, kind, detail).
    events: String,
    /// Next attempts. `$1`: now; `$2`: rows of (order, attempt, due).
    retries: String,
    /// Jobs done. `$1`: job ids.
    jobs_done: String,
    /// Good deliveries reset the soft-bounce count. `$1`: normalised addresses.
    soft_resets: String,
    /// The attempts of many orders, by order, in attempt order. `$1`: order ids.
    attempts_of_orders: String,
    /// Pacing slots for the batch's (pool, provider) pairs (`pace::reserve_sql`).
    reserve_slots: String,
}

impl WriteSql {
    fn new(db: &Db) -> Self {
        use crate::db::dialect::{JsonType::*, in_json_list, json_rows, keys_in};
        let attempt_rows = json_rows(
            db,
            2,
            &[
                ("order_id", Int),
                ("attempt_no", Int),
                ("pool_id", Int),
                ("message_id", Text),
                ("verp_token", Text),
                ("purpose", Text),
            ],
        );
        let outcome_rows = json_rows(
            db,
            2,
            &[
                ("order_id", Int),
                ("attempt_no", Int),
                ("pool_id", Int),
                ("message_id", Text),
                ("verp_token", Text),
                ("started_at", Int),
                ("purpose", Text),
                ("outcome", Text),
                ("code", Int),
                ("text", Text),
                ("reason", Text),
                ("class", Text),
                ("rule", Text),
            ],
        );
        let state_rows = json_rows(
            db,
            2,
            &[
                ("order_id", Int),
                ("state", Text),
                ("detail", Text),
                ("attempts", Int),
            ],
        );
        let event_rows = json_rows(
            db,
            2,
            &[("order_id", Int), ("kind", Text), ("detail", Text)],
        );
        let retry_rows = json_rows(
            db,
            2,
            &[("order_id", Int), ("attempt_no", Int), ("due_at", Int)],
        );
        Self {
            // `WHERE TRUE`: SQLite needs it to read ON CONFLICT after INSERT … SELECT.
            start_attempts: format!(
                "INSERT INTO delivery_attempts (order_id, attempt_no, pool_id, message_id, verp_token, started_at, purpose)
                 SELECT order_id, attempt_no, pool_id, message_id, verp_token, $1, purpose FROM ({attempt_rows}) AS v
                 WHERE TRUE
                 ON CONFLICT (order_id, attempt_no) DO UPDATE SET attempt_no = delivery_attempts.attempt_no
                 RETURNING {ATTEMPT_COLUMNS}"
            ),
            attempts: format!(
                "INSERT INTO delivery_attempts (order_id, attempt_no, pool_id, message_id, verp_token,
                     started_at, purpose, finished_at, outcome, smtp_code, smtp_text, reason, class, rule)
                 SELECT order_id, attempt_no, pool_id, message_id, verp_token, started_at, purpose, $1,
                     outcome, code, text, reason, class, rule FROM ({outcome_rows}) AS v
                 WHERE TRUE
                 ON CONFLICT (order_id, attempt_no) DO UPDATE SET finished_at = excluded.finished_at,
                     outcome = excluded.outcome, smtp_code = excluded.smtp_code, smtp_text = excluded.smtp_text,
                     reason = excluded.reason, class = excluded.class, rule = excluded.rule"
            ),
            orders: format!(
                "WITH v AS ({state_rows})
                 UPDATE orders SET state = v.state, state_detail = v.detail, attempts = v.attempts, updated_at = $1
                 FROM v WHERE orders.id = v.order_id AND {} AND orders.state NOT IN ('accepted', 'held')
                 RETURNING orders.id",
                keys_in(db, "orders.id", "SELECT order_id FROM v")
            ),
            events: format!(
                "INSERT INTO order_events (order_id, at, kind, detail)
                 SELECT order_id, $1, kind, detail FROM ({event_rows}) AS v"
            ),
            retries: format!(
                "INSERT INTO jobs (kind, order_id, attempt_no, due_at, state, created_at)
                 SELECT 'send', order_id, attempt_no, due_at, 'queued', $1 FROM ({retry_rows}) AS v
                 WHERE TRUE
                 ON CONFLICT DO NOTHING"
            ),
            jobs_done: format!(
                "UPDATE jobs SET state = 'done', lease_owner = NULL WHERE {}",
                in_json_list(db, "id", 1, Int)
            ),
            soft_resets: crate::soft_bounces::reset_many_sql(db),
            reserve_slots: super::pace::reserve_sql(db),
            attempts_of_orders: format!(
                "SELECT {ATTEMPT_COLUMNS} FROM delivery_attempts WHERE {} ORDER BY order_id, attempt_no",
                in_json_list(db, "order_id", 1, Int)
            ),
        }
    }
}

/// The attempts of many orders at once (a send batch), by order, in attempt order.
async fn attempts_of_orders(
    db: &Db,
    sql: &WriteSql,
    order_ids: &[i64],
) -> Result<HashMap<i64, Vec<Attempt>>> {
    if order_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids = crate::db::json_param(order_ids)?;
    let rows: Vec<Attempt> = on_pool!(db, p => {
        sqlx::query_as(&sql.attempts_of_orders).bind(&ids).fetch_all(p).await
    })?;
    let mut by_order: HashMap<i64, Vec<Attempt>> = HashMap::new();
    for a in rows {
        by_order.entry(a.order_id).or_default().push(a);
    }
    Ok(by_order)
}

/// After a send finishes, how long to wait for the next one to share its
/// transaction.
const GATHER_OUTCOMES: Duration = Duration::from_millis(5);

/// How often a worker credits email reach (the window itself is an hour).
const REACH_SWEEP_INTERVAL_MS: i64 = 30_000;

/// How often a worker runs the pool health guard.
pub const GUARD_INTERVAL_MS: i64 = 60_000;

/// Masked re-sends are numbered from here so they never collide with
/// receipt attempts (`attempt_no` is unique per order).
pub const MASKED_ATTEMPT_BASE: i64 = 100;

pub async fn attempts(db: &Db, order_id: i64) -> Result<Vec<Attempt>> {
    let sql = format!(
        "SELECT {ATTEMPT_COLUMNS} FROM delivery_attempts WHERE order_id = $1 ORDER BY attempt_no"
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(order_id).fetch_all(p).await)?)
}

/// What an attempt ended with, as recorded.
struct Recorded {
    outcome: &'static str,
    rule: Option<String>,
    code: Option<i64>,
    text: Option<String>,
    reason: Option<String>,
    class: Option<String>,
}

/// What a send batch does with one claimed receipt job, decided from the
/// rows read for the whole batch.
enum Plan {
    /// Nothing to do: the order is gone, or accepted or held already.
    Finish(Job),
    /// A transition without a send (accepted before a restart, no pool, suppressed).
    Write(Box<Outcome>),
    /// A send, unless pacing gives it a later slot.
    Send(Box<SendPlan>),
}

struct SendPlan {
    job: Job,
    order: Order,
    flight: InFlight,
    pool: SenderPool,
    provider: &'static str,
    /// The attempt a crashed run recorded: re-sent with its Message-ID.
    started: Option<Attempt>,
    /// A first try of this attempt takes a pacing token.
    needs_slot: bool,
    /// The later slot pacing reserved; the job waits in the queue until then.
    slot: Option<Millis>,
}

/// One transition to write, with the attempt's record when there was a send.
struct Outcome {
    job: Job,
    attempt: Option<(Attempt, Recorded)>,
    transition: Transition,
    note: String,
    email: String,
    /// The pool and recipient provider of a send (for metrics and shaping).
    sent: Option<(SenderPool, &'static str)>,
}

/// The words and side effects of an [`Outcome`], ready to bind.
struct OutcomeRow {
    detail: String,
    event_kind: &'static str,
    event_detail: String,
    /// A dead address, normalised, and the bounce reason.
    suppress: Option<(String, String)>,
    soft: Option<(String, SoftEffect)>,
}

impl OutcomeRow {
    fn of(o: &Outcome) -> Self {
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
            .and_then(|r| crate::soft_bounces::effect_of(r.outcome, r.class.as_deref()))
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

/// What an order that moved gets next: (order, (event kind, event detail),
/// (next attempt, due) for a retry).
type FollowUp = (i64, (&'static str, String), Option<(i64, Millis)>);

/// One round of [`Worker::write_outcomes`] (at most one outcome per order),
/// as the JSON parameters its statements take.
struct Round {
    /// The sends' attempts with their outcomes (rows of `WriteSql::attempts`).
    attempts: Option<String>,
    /// (order, state, detail, attempts).
    states: String,
    /// Job ids.
    jobs: String,
    /// Per order: its timeline entry and, for a retry, the next attempt.
    follow_ups: Vec<FollowUp>,
    suppress: Vec<(String, String)>,
    soft_resets: Option<String>,
    soft_records: Vec<String>,
}

impl Round {
    fn of(outcomes: &[&Outcome]) -> Result<Self> {
        let rows: Vec<(&Outcome, OutcomeRow)> =
            outcomes.iter().map(|o| (*o, OutcomeRow::of(o))).collect();
        let attempts: Vec<_> = rows
            .iter()
            .filter_map(|(o, _)| o.attempt.as_ref())
            .map(|(a, r)| {
                (
                    a.order_id,
                    a.attempt_no,
                    a.pool_id,
                    &a.message_id,
                    &a.verp_token,
                    a.started_at,
                    &a.purpose,
                    r.outcome,
                    r.code,
                    &r.text,
                    &r.reason,
                    &r.class,
                    &r.rule,
                )
            })
            .collect();
        let states: Vec<_> = rows
            .iter()
            .map(|(o, row)| {
                (
                    o.job.order_id,
                    o.transition.new_state().as_str(),
                    &row.detail,
                    o.job.attempt_no,
                )
            })
            .collect();
        let jobs: Vec<i64> = rows.iter().map(|(o, _)| o.job.id).collect();
        let soft_resets: Vec<&String> = rows
            .iter()
            .filter_map(|(_, row)| match &row.soft {
                Some((email, SoftEffect::Reset)) => Some(email),
                _ => None,
            })
            .collect();
        Ok(Self {
            attempts: json_unless_empty(&attempts)?,
            states: crate::db::json_param(&states)?,
            jobs: crate::db::json_param(&jobs)?,
            soft_resets: json_unless_empty(&soft_resets)?,
            soft_records: rows
                .iter()
                .filter_map(|(_, row)| match &row.soft {
                    Some((email, SoftEffect::Record)) => Some(email.clone()),
                    _ => None,
                })
                .collect(),
            suppress: rows
                .iter()
                .filter_map(|(_, row)| row.suppress.clone())
                .collect(),
            follow_ups: rows
                .into_iter()
                .map(|(o, row)| {
                    let retry = match &o.transition {
                        Transition::Retry {
                            next_attempt,
                            due_at,
                            ..
                        } => Some((*next_attempt, *due_at)),
                        _ => None,
                    };
                    (o.job.order_id, (row.event_kind, row.event_detail), retry)
                })
                .collect(),
        })
    }

    /// The timeline entries and next jobs of the orders that `changed`.
    fn moved(&self, changed: &[i64]) -> Result<(Option<String>, Option<String>)> {
        let moved = || {
            self.follow_ups
                .iter()
                .filter(|(order, ..)| changed.contains(order))
        };
        let events: Vec<_> = moved()
            .map(|(order, (kind, detail), _)| (order, kind, detail))
            .collect();
        let retries: Vec<_> = moved()
            .filter_map(|(order, _, retry)| retry.map(|(attempt, due)| (order, attempt, due)))
            .collect();
        Ok((json_unless_empty(&events)?, json_unless_empty(&retries)?))
    }
}

/// A batch as a JSON parameter, or `None` for no rows (no statement to run).
fn json_unless_empty<T: serde::Serialize>(rows: &[T]) -> Result<Option<String>> {
    Ok(if rows.is_empty() {
        None
    } else {
        Some(crate::db::json_param(rows)?)
    })
}

/// A claimed batch's plans, split by what happens to each.
struct Batch {
    /// Nothing to do: done.
    finished: Vec<Job>,
    /// Back to the queue until their pacing slot.
    deferred: Vec<(Job, Millis)>,
    /// Transitions without a send.
    writes: Vec<Outcome>,
    /// Sends that go now.
    sends: Vec<SendPlan>,
}

impl Batch {
    /// Splits `plans`, giving the sends that wanted a token (`wanting`, by
    /// pair) the slots their pair's reservation (`reserved`) holds for them.
    fn split(
        mut plans: Vec<Plan>,
        wanting: &BTreeMap<(i64, &'static str), Vec<usize>>,
        reserved: &[super::pace::Reserved],
        now: Millis,
        cfg: &crate::config::PaceConfig,
    ) -> Self {
        for r in reserved {
            let provider = crate::stats::PROVIDERS.iter().find(|p| **p == r.provider);
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

pub struct Worker {
    db: Db,
    clock: Arc<dyn Clock>,
    id: String,
    policy: RetryPolicy,
    classifier: &'static Classifier,
    renderer: Renderer,
    branding: Branding,
    bounce_domain: String,
    lease_ms: i64,
    batch: i64,
    /// Batches in flight at once (`delivery.send_loops`).
    send_loops: usize,
    smtp_timeout: Duration,
    senders: Mutex<HashMap<i64, (String, Sender)>>,
    /// The send round's batch statements, for this worker's backend.
    sql: WriteSql,
    config: Arc<Config>,
    /// Intake pokes this so a new order is sent at once, not at the next poll.
    pub wake: Arc<Notify>,
    /// When this worker next looks at the dashboard rollups.
    stats_due: AtomicI64,
    /// When this worker next credits email reach (see `tick`).
    reach_due: AtomicI64,
    /// When this worker next tries the privacy retention pass.
    retention_due: AtomicI64,
    /// When this worker next runs the pool health guard.
    guard_due: AtomicI64,
    /// Deferral texts that slow a pool → provider pair (`pace`).
    shaper: super::pace::Shaper,
    /// Touched every time round the loop; `/readyz` says not ready when it goes stale.
    pub heartbeat: Heartbeat,
}

/// When a worker loop last went round (clock milliseconds; 0: never). Shared
/// with `/readyz`, which reports a stalled worker as not ready.
#[derive(Debug, Clone, Default)]
pub struct Heartbeat(Arc<AtomicI64>);

impl Heartbeat {
    pub fn beat(&self, now: Millis) {
        self.0.store(now, Ordering::Relaxed);
    }

    /// The last beat, if there was one.
    pub fn last(&self) -> Option<Millis> {
        Some(self.0.load(Ordering::Relaxed)).filter(|t| *t > 0)
    }

    /// Beat within `max_age_ms` of `now`.
    pub fn is_fresh(&self, now: Millis, max_age_ms: i64) -> bool {
        self.last().is_some_and(|t| now - t <= max_age_ms)
    }
}

impl Worker {
    pub fn new(db: Db, clock: Arc<dyn Clock>, config: &Config) -> Result<Self> {
        let renderer = match &config.shop.template_dir {
            Some(dir) => Renderer::with_template_dir(dir),
            None => Renderer::new(),
        }
        .map_err(|e| Error::Config(format!("`shop.template_dir`: {e}")))?;
        let mut id_bytes = [0u8; 6];
        rand::rng().fill_bytes(&mut id_bytes);
        let sql = WriteSql::new(&db);
        Ok(Self {
            db,
            clock,
            id: format!("worker-{}-{}", std::process::id(), hex::encode(id_bytes)),
            policy: RetryPolicy::from_config(&config.delivery),
            classifier: Classifier::shared(),
            renderer,
            branding: branding(config),
            bounce_domain: config.delivery.bounce_domain.clone(),
            lease_ms: config.delivery.lease_seconds * 1000,
            batch: config.delivery.batch_size,
            send_loops: usize::try_from(config.delivery.send_loops)
                .unwrap_or(1)
                .max(1),
            smtp_timeout: Duration::from_secs(config.delivery.smtp_timeout_seconds.unsigned_abs()),
            senders: Mutex::new(HashMap::new()),
            sql,
            config: Arc::new(config.clone()),
            wake: Arc::new(Notify::new()),
            stats_due: AtomicI64::new(0),
            guard_due: AtomicI64::new(0),
            shaper: super::pace::Shaper::builtin()?,
            reach_due: AtomicI64::new(0),
            retention_due: AtomicI64::new(0),
            heartbeat: Heartbeat::default(),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

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

    /// One round of everything a worker does: a batch of sends, then the
    /// fallback decisions for newly held orders and the email-reach credit.
    pub async fn tick(&self) -> Result<usize> {
        self.heartbeat.beat(self.clock.now_ms());
        let n = self.run_once().await?;
        let now = self.clock.now_ms();
        // A batch of slow SMTP conversations can take a while: beat again after it.
        self.heartbeat.beat(now);
        let decided = crate::fallback::run_due(&self.db, now, &self.config).await?;
        crate::fallback::runner::escalate_bounced_masked(&self.db, now, &self.config).await?;
        // Reach by email is only credited after a window of an hour: scanning
        // accepted orders every 250 ms tick would be wasted work.
        if now >= self.reach_due.load(Ordering::Relaxed) {
            self.reach_due
                .store(now + REACH_SWEEP_INTERVAL_MS, Ordering::Relaxed);
            crate::fallback::sweep_email_reach(
                &self.db,
                now,
                self.config.fallback.reach_window_seconds * 1000,
            )
            .await?;
        }
        // Dashboard rollups, at most once a minute across all processes (a
        // periodic day-by-day recompute: `stats` explains why). A counter: a
        // failure is logged, never fails the sends.
        if now >= self.stats_due.load(Ordering::Relaxed) {
            self.stats_due
                .store(now + crate::stats::REFRESH_INTERVAL_MS, Ordering::Relaxed);
            let lookback = self.config.fallback.reach_window_seconds * 1000 + 10 * 60_000;
            let refresh = crate::stats::refresh_if_stale(
                &self.db,
                now,
                lookback,
                crate::stats::REFRESH_INTERVAL_MS,
            );
            if let Err(e) = refresh.await {
                tracing::warn!(error = %e, "could not refresh the dashboard rollups");
            }
        }
        // Privacy retention, every few minutes, one process at a time (a lease in
        // `privacy_state`); like the rollups, a failure never fails the sends. In
        // its own task: a first pass over a long backlog must not hold up sending
        // (or the heartbeat). Dropped at shutdown, its transaction rolls back.
        if now >= self.retention_due.load(Ordering::Relaxed) {
            self.retention_due
                .store(now + crate::retention::CHECK_INTERVAL_MS, Ordering::Relaxed);
            let (db, privacy) = (self.db.clone(), self.config.privacy.clone());
            tokio::spawn(async move {
                let pass =
                    crate::retention::run_due(&db, now, &privacy, crate::retention::INTERVAL_MS);
                match pass.await {
                    Ok(Some(r)) if !r.is_empty() => tracing::info!(?r, "privacy retention pass"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "privacy retention pass failed"),
                }
            });
        }
        // The pool health guard, once a minute: pauses or demotes a pool whose
        // rates crossed the thresholds. Like the rollups, never fails the sends.
        if now >= self.guard_due.load(Ordering::Relaxed) {
            self.guard_due
                .store(now + GUARD_INTERVAL_MS, Ordering::Relaxed);
            if let Err(e) = super::guard::run(&self.db, now, &self.config.pool_health).await {
                tracing::warn!(error = %e, "pool health guard pass failed");
            }
            if let Err(e) = self.check_relays(now).await {
                tracing::warn!(error = %e, "relay health pass failed");
            }
        }
        if decided > 0 {
            // A decision may have queued a masked re-send: take it now.
            self.wake.notify_one();
        }
        Ok(n + decided)
    }

    /// Runs until `shutdown` turns true, then finishes the batch in hand.
    pub async fn run(self: Arc<Self>, shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, loops = self.send_loops, "send worker started");
        // More send loops beside this one (`delivery.send_loops`): while one
        // batch waits for the database or its slowest relay, another sends.
        // In a JoinSet, so they stop with this future if it is aborted.
        let mut loops = tokio::task::JoinSet::new();
        for _ in 1..self.send_loops {
            loops.spawn(self.clone().send_loop(shutdown.clone(), false));
        }
        self.clone().send_loop(shutdown, true).await;
        while loops.join_next().await.is_some() {}
        tracing::info!(worker = %self.id, "send worker stopped");
    }

    /// One of [`run`](Self::run)'s loops: batch after batch while there is
    /// work, else a nap until woken. The `periodic` one does all of
    /// [`tick`](Self::tick) and beats the heartbeat; the others only send.
    async fn send_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>, periodic: bool) {
        loop {
            if periodic {
                self.heartbeat.beat(self.clock.now_ms());
            }
            if *shutdown.borrow() {
                break;
            }
            let round = if periodic {
                self.tick().await
            } else {
                self.run_once().await
            };
            match round {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "claiming jobs failed; retrying shortly"),
            }
            tokio::select! {
                _ = self.wake.notified() => {},
                _ = tokio::time::sleep(Duration::from_millis(250)) => {},
                _ = shutdown.changed() => {},
            }
        }
    }

    /// [`run`](Self::run) with a bounded stop: once `shutdown` turns true no new
    /// batch is claimed, the sends in flight get up to `grace` to finish (then
    /// they are dropped mid-conversation), and every job still leased to this
    /// worker is put back at once, so another process takes it now rather than
    /// after the lease runs out. Returns how many jobs were put back.
    pub async fn run_graceful(
        self: Arc<Self>,
        shutdown: watch::Receiver<bool>,
        grace: Duration,
    ) -> u64 {
        let mut stop = shutdown.clone();
        let mut task = tokio::spawn(self.clone().run(shutdown));
        let finished = tokio::select! {
            _ = &mut task => true,
            _ = stop.wait_for(|s| *s) => false,
        };
        if !finished && tokio::time::timeout(grace, &mut task).await.is_err() {
            tracing::warn!(worker = %self.id, grace_ms = grace.as_millis() as u64, "sends still in flight after the grace period: abandoning them");
            task.abort();
            let _ = task.await;
        }
        match self.release_leases().await {
            Ok(n) => {
                if n > 0 {
                    tracing::info!(worker = %self.id, jobs = n, "put back the jobs this worker still held");
                }
                n
            }
            Err(e) => {
                tracing::error!(worker = %self.id, error = %e, "could not put back this worker's jobs; their leases will expire");
                0
            }
        }
    }

    /// The relay half of the health guard ([`super::guard::relays`]): marks
    /// pools whose relay stopped answering, and probes those to restore them.
    pub async fn check_relays(&self, now: Millis) -> Result<Vec<super::guard::Change>> {
        super::guard::relays(&self.db, now, &self.config.pool_health, |pool| async move {
            self.sender_for(&pool)
                .await
                .map_err(|e| e.to_string())?
                .probe()
                .await
        })
        .await
    }

    /// Puts back every job still leased to this worker (due at once, for anyone).
    pub async fn release_leases(&self) -> Result<u64> {
        queue::release_owned(&self.db, &self.id).await
    }

    async fn sender_for(&self, pool: &SenderPool) -> Result<Sender> {
        let mut senders = self.senders.lock().await;
        if let Some((url, s)) = senders.get(&pool.id)
            && *url == pool.relay_url
        {
            return Ok(s.clone());
        }
        let url = RelayUrl::parse(&pool.relay_url)
            .map_err(|e| Error::Config(format!("sender pool {}: relay URL: {e}", pool.name)))?;
        let connections = pools::relay_connections(pool.max_per_second);
        let sender = Sender::new(&url, self.smtp_timeout, connections)
            .map_err(|e| Error::Config(format!("sender pool {}: {e}", pool.name)))?;
        senders.insert(pool.id, (pool.relay_url.clone(), sender.clone()));
        Ok(sender)
    }

    /// Decides what to do with one claimed send job from the rows read for
    /// its whole batch. No I/O: every write happens batched, afterwards.
    fn plan(
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
            .any(|a| a.attempt_no == job.attempt_no && a.outcome.as_deref() == Some("accepted"))
        {
            // The relay accepted before a crash; record it, never resend.
            return write(job, flight.accepted(), "accepted before a restart");
        }
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
            provider: crate::stats::provider_of(&order.customer_email),
            started: current.cloned(),
            needs_slot,
            slot: None,
            job,
            order,
            flight,
            pool,
        }))
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
        let histories = attempts_of_orders(db, &self.sql, &order_ids).await?;
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
        let sql = &self.sql;
        let turn = crate::db::write_turn(db).await;
        let batch: Batch = on_pool!(db, p => {
            let mut tx = p.begin().await?;
            let reserved: Vec<super::pace::Reserved> = match &pace_json {
                Some(rows) => sqlx::query_as(&sql.reserve_slots).bind(now).bind(rows)
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
                    None => self.fresh_attempt(&s.job, s.pool.id, now),
                };
                (s, attempt)
            })
            .collect();
        if !writes.is_empty() {
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
            let mut unwritten: Vec<Outcome> = Vec::new();
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
                outcomes.extend(
                    done.into_iter()
                        .map(|(s, attempt, result)| self.outcome_of(s, attempt, result, now)),
                );
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
    async fn write_outcomes_patiently(&self, outcomes: Vec<Outcome>) -> Result<()> {
        let patience =
            Duration::from_millis(u64::try_from(self.lease_ms / 2).unwrap_or(0).min(30_000));
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

    /// What a finished send means: the transition and the attempt's record.
    fn outcome_of(
        &self,
        s: SendPlan,
        attempt: Attempt,
        result: Result<SendOutcome>,
        now: Millis,
    ) -> Outcome {
        let SendPlan {
            job,
            order,
            flight,
            pool,
            provider,
            ..
        } = s;
        let (transition, recorded, note) = match result {
            Ok(SendOutcome::Accepted { response }) => (
                flight.accepted(),
                Recorded {
                    rule: None,
                    outcome: "accepted",
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
                    outcome: "accepted",
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
            }) => {
                let reply = SmtpReply::parse(&format!("{} {}", response.code, response.text));
                let verdict = self.classifier.classify(&reply, None);
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
                    pool.name,
                    verdict.reason.as_str(),
                    class.as_str()
                );
                let t = flight.failed(
                    class,
                    &self.policy,
                    now,
                    retry_hint_ms(&response.text),
                    why.clone(),
                );
                (
                    t,
                    Recorded {
                        rule: Some(verdict.rule_id.clone()),
                        outcome: if permanent { "rejected" } else { "deferred" },
                        code: Some(i64::from(response.code)),
                        text: Some(response.text),
                        reason: Some(verdict.reason.as_str().into()),
                        class: Some(class.as_str().into()),
                    },
                    why,
                )
            }
            Ok(SendOutcome::Failed { detail }) => {
                let why = format!("no answer from {}: {detail}", pool.name);
                (
                    flight.failed(BounceClass::Transient, &self.policy, now, None, why.clone()),
                    Recorded {
                        rule: None,
                        outcome: "failed",
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
                        outcome: "failed",
                        code: None,
                        text: Some(e.to_string()),
                        reason: Some("contenterror".into()),
                        class: Some(BounceClass::Content.as_str().into()),
                    },
                    why,
                )
            }
        };
        Outcome {
            job,
            attempt: Some((attempt, recorded)),
            transition,
            note,
            email: order.customer_email,
            sent: Some((pool, provider)),
        }
    }

    /// Logs, counts and shapes after outcomes are written (nothing here may
    /// fail a send).
    async fn after_written(&self, outcomes: &[Outcome]) {
        for o in outcomes {
            let (Some((_, recorded)), Some((pool, provider))) = (&o.attempt, &o.sent) else {
                continue;
            };
            tracing::info!(order = o.job.order_id, attempt = o.job.attempt_no, pool = %pool.name, to = %mask_email(&o.email), state = o.transition.new_state().as_str(), "send attempt finished");
            crate::metrics::send(&pool.name, recorded.outcome);
            if matches!(recorded.outcome, "rejected" | "deferred") {
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

    /// The fallback re-send: a fresh secure link through the masked pool. If
    /// that fails too, the order goes to support as critical.
    async fn process_masked(&self, job: Job, pools: &[SenderPool]) -> Result<()> {
        let db = &self.db;
        let Some(order) = orders::get(db, job.order_id).await? else {
            return self.finish_job(&job).await;
        };
        let attempt_no = MASKED_ATTEMPT_BASE + job.attempt_no;
        let done_before = attempts(db, order.id)
            .await?
            .into_iter()
            .any(|a| a.attempt_no == attempt_no && a.outcome.is_some());
        // The automatic re-send is skipped once the customer has the receipt;
        // a fresh link they asked for (attempt 2 on) is always sent.
        if (order.reached_at.is_some() && job.attempt_no == 1) || done_before {
            return self.finish_job(&job).await;
        }
        let now = self.clock.now_ms();
        // An agent may have chosen the pool; otherwise the masked pool.
        let masked = match job.pool_id {
            Some(id) => pools.iter().find(|p| p.enabled && p.id == id),
            None => pools.iter().find(|p| p.enabled && p.role == "masked"),
        };
        let suppressed = crate::suppression::active(db, now, &order.customer_email).await?;
        let failure = match (masked, suppressed) {
            (_, Some(s)) => Some(format!("the address is suppressed ({})", s.reason)),
            (None, _) if job.pool_id.is_some() => {
                Some("the chosen sender pool is gone or disabled".to_string())
            }
            (None, _) => Some("no enabled masked sender pool".to_string()),
            (Some(pool), None) => {
                let pool = pool.clone();
                let masked_job = Job {
                    attempt_no,
                    ..job.clone()
                };
                let attempt = self.start_attempt(&order, &masked_job, &pool).await?;
                let outcome = self.send_link(&order, &pool, &attempt).await;
                let now = self.clock.now_ms();
                let (outcome_text, code, text, class, failure) = match outcome {
                    Ok(SendOutcome::Accepted { response }) => (
                        "accepted",
                        Some(i64::from(response.code)),
                        response.text,
                        "delivered".to_string(),
                        None,
                    ),
                    Ok(SendOutcome::Captured) => (
                        "accepted",
                        Some(250),
                        "captured (development outbox)".to_string(),
                        "delivered".to_string(),
                        None,
                    ),
                    Ok(SendOutcome::Rejected {
                        response,
                        permanent,
                        ..
                    }) => {
                        let reply =
                            SmtpReply::parse(&format!("{} {}", response.code, response.text));
                        let verdict = self.classifier.classify(&reply, None);
                        let why = format!(
                            "masked re-send refused by {}: {} {} ({})",
                            pool.name,
                            response.code,
                            response.text,
                            verdict.reason.as_str()
                        );
                        if permanent && verdict.class == BounceClass::RecipientPermanent {
                            crate::suppression::suppress(
                                db,
                                now,
                                &order.customer_email,
                                verdict.reason.as_str(),
                                "smtp",
                                None,
                            )
                            .await?;
                        }
                        (
                            if permanent { "rejected" } else { "deferred" },
                            Some(i64::from(response.code)),
                            response.text,
                            verdict.class.as_str().to_string(),
                            Some(why),
                        )
                    }
                    Ok(SendOutcome::Failed { detail }) => (
                        "failed",
                        None,
                        detail.clone(),
                        BounceClass::Transient.as_str().to_string(),
                        Some(format!(
                            "masked re-send through {} failed: {detail}",
                            pool.name
                        )),
                    ),
                    Err(e) => (
                        "failed",
                        None,
                        e.to_string(),
                        BounceClass::Content.as_str().to_string(),
                        Some(format!("masked re-send could not be built: {e}")),
                    ),
                };
                crate::metrics::send(&pool.name, outcome_text);
                if matches!(outcome_text, "rejected" | "deferred") {
                    crate::metrics::bounce(&class);
                }
                exec_on_pool!(db, p => sqlx::query(
                    "UPDATE delivery_attempts SET finished_at = $1, outcome = $2, smtp_code = $3, smtp_text = $4, class = $5
                     WHERE id = $6"
                ).bind(now).bind(outcome_text).bind(code).bind(&text).bind(&class).bind(attempt.id).execute(p).await)?;
                if failure.is_none() {
                    orders::add_event(
                        db,
                        order.id,
                        now,
                        "masked_resend",
                        &if job.pool_id.is_some() {
                            format!(
                                "secure link re-sent through the pool {} (chosen by an agent)",
                                pool.name
                            )
                        } else {
                            format!("secure link re-sent through the masked pool {}", pool.name)
                        },
                    )
                    .await?;
                }
                failure
            }
        };
        if let Some(why) = failure {
            let now = self.clock.now_ms();
            orders::add_event(db, order.id, now, "masked_resend_failed", &why).await?;
            crate::fallback::support::open(
                db,
                now,
                order.id,
                crate::fallback::decide::PRIORITY_CRITICAL,
                &format!("the masked re-send also failed: {why}"),
                &self.config.fallback,
            )
            .await?;
            exec_on_pool!(db, p => sqlx::query(
                "UPDATE orders SET fallback_path = 'critical', fallback_why = COALESCE(fallback_why, '') || $1 WHERE id = $2"
            ).bind("; masked re-send failed, sent to support").bind(order.id).execute(p).await)?;
        }
        self.finish_job(&job).await
    }

    /// Builds and sends the secure-link message for a masked re-send.
    async fn send_link(
        &self,
        order: &Order,
        pool: &SenderPool,
        attempt: &Attempt,
    ) -> Result<SendOutcome> {
        let now = self.clock.now_ms();
        let issued = crate::links::issue(
            &self.db,
            now,
            order,
            "masked_email",
            "fallback",
            self.config.links.ttl_ms(),
        )
        .await?;
        let msg = crate::receipt::LinkMessage {
            shop_name: self.branding.shop_name.clone(),
            customer_name: order.customer_name.clone(),
            order_number: order.order_number.clone(),
            url: issued.url(&self.config.public_base_url()),
            expires: crate::clock::format_utc(issued.link.expires_at),
            support_email: self.branding.support_email.clone(),
            footer: self.branding.footer_text.clone(),
        };
        let (html, text) = self
            .renderer
            .render_link(&msg)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let subject = format!("Your receipt for order {} is ready", order.order_number);
        self.send_raw(order, pool, attempt, &subject, &html, &text, "link")
            .await
    }

    /// A fresh Message-ID and VERP token for attempt `attempt_no` of an order.
    fn new_message_id(&self, order_id: i64, attempt_no: i64) -> (String, String) {
        let mut rnd = [0u8; 12];
        rand::rng().fill_bytes(&mut rnd);
        self.message_id_with(order_id, attempt_no, hex::encode(rnd))
    }

    /// The Message-ID of attempt `attempt_no` of an order whose VERP token is
    /// `token` (24 hex digits), and the token.
    fn message_id_with(&self, order_id: i64, attempt_no: i64, token: String) -> (String, String) {
        let message_id = format!(
            "r{order_id}.a{attempt_no}.{}@{}",
            token.get(..8).unwrap_or(&token),
            self.bounce_domain
        );
        (message_id, token)
    }

    /// A receipt send's attempt, not yet written (`id` 0): it is written once,
    /// with its outcome. Its ids come from the job's token, drawn when the job
    /// was first claimed, so a re-run after a crash sends with the same ones.
    fn fresh_attempt(&self, job: &Job, pool_id: i64, now: Millis) -> Attempt {
        let (message_id, verp_token) = match job.send_token.clone() {
            Some(t) => self.message_id_with(job.order_id, job.attempt_no, t),
            // Every claim draws one; a fresh one keeps a job without it sending.
            None => self.new_message_id(job.order_id, job.attempt_no),
        };
        Attempt {
            id: 0,
            order_id: job.order_id,
            attempt_no: job.attempt_no,
            pool_id,
            message_id,
            verp_token,
            started_at: now,
            finished_at: None,
            outcome: None,
            smtp_code: None,
            smtp_text: None,
            reason: None,
            class: None,
            purpose: "receipt".to_string(),
        }
    }

    /// Records a masked re-send's attempt before sending (same Message-ID if
    /// it is a re-run). A masked re-send leaves the order's state alone.
    async fn start_attempt(&self, order: &Order, job: &Job, pool: &SenderPool) -> Result<Attempt> {
        let now = self.clock.now_ms();
        let (message_id, token) = self.new_message_id(order.id, job.attempt_no);
        let row = crate::db::json_param(&[(
            order.id,
            job.attempt_no,
            pool.id,
            message_id,
            token,
            "masked_link",
        )])?;
        let attempt: Attempt = on_pool!(&self.db, p => sqlx::query_as(&self.sql.start_attempts)
            .bind(now).bind(&row).fetch_one(p).await)?;
        Ok(attempt)
    }

    pub fn receipt_for(&self, order: &Order) -> Receipt {
        receipt_for(order, &self.branding)
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
        let subject = format!(
            "Your receipt for order {} from {}",
            order.order_number, self.branding.shop_name
        );
        self.send_raw(order, pool, attempt, &subject, &html, &text, "receipt")
            .await
    }

    /// Sends one message for `order` through `pool` with the attempt's
    /// Message-ID and VERP return path; captured messages go to the outbox.
    #[allow(clippy::too_many_arguments)]
    async fn send_raw(
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
        let sender = self.sender_for(pool).await?;
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

    /// Writes a group of transitions in one transaction, a few set-based
    /// statements for the whole group (not a few per job: on PostgreSQL each
    /// statement is a round trip). Per job: the attempt's outcome, the order's
    /// state (unless already final), a timeline entry and the next job for
    /// the orders that moved, the job done, and what the outcome means for the
    /// address (a dead one is suppressed; the soft-bounce count).
    async fn write_outcomes(&self, outcomes: &[Outcome]) -> Result<()> {
        // One row per order in each statement: a rare second job for the same
        // order goes into a later round.
        let mut rounds: Vec<Vec<&Outcome>> = Vec::new();
        for o in outcomes {
            let free = rounds
                .iter_mut()
                .find(|r| r.iter().all(|x| x.job.order_id != o.job.order_id));
            match free {
                Some(round) => round.push(o),
                None => rounds.push(vec![o]),
            }
        }
        let now = self.clock.now_ms();
        let rounds: Vec<Round> = rounds
            .into_iter()
            .map(|r| Round::of(&r))
            .collect::<Result<_>>()?;
        let sql = &self.sql;
        let _turn = crate::db::write_turn(&self.db).await;
        on_pool!(&self.db, p => {
            let mut tx = p.begin().await?;
            for round in &rounds {
                if let Some(rows) = &round.attempts {
                    sqlx::query(&sql.attempts).bind(now).bind(rows).execute(&mut *tx).await?;
                }
                let changed: Vec<i64> = sqlx::query_scalar(&sql.orders).bind(now).bind(&round.states)
                    .fetch_all(&mut *tx).await?;
                // The timeline entry and the next attempt only for the orders that moved.
                let (events, retries) = round.moved(&changed)?;
                if let Some(rows) = &events {
                    sqlx::query(&sql.events).bind(now).bind(rows).execute(&mut *tx).await?;
                }
                if let Some(rows) = &retries {
                    sqlx::query(&sql.retries).bind(now).bind(rows).execute(&mut *tx).await?;
                }
                sqlx::query(&sql.jobs_done).bind(&round.jobs).execute(&mut *tx).await?;
                for (email, reason) in &round.suppress {
                    sqlx::query(crate::suppression::SUPPRESS_SQL)
                        .bind(email).bind(reason).bind("smtp").bind(now).bind(None::<i64>)
                        .execute(&mut *tx).await?;
                }
                if let Some(emails) = &round.soft_resets {
                    sqlx::query(&sql.soft_resets).bind(emails).execute(&mut *tx).await?;
                }
                for email in &round.soft_records {
                    sqlx::query(crate::soft_bounces::RECORD_SQL).bind(email).bind(now)
                        .execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn finish_job(&self, job: &Job) -> Result<()> {
        exec_on_pool!(&self.db, p => sqlx::query(queue::FINISH_SQL).bind(job.id).execute(p).await)?;
        Ok(())
    }
}

/// The shop's branding from configuration.
pub fn branding(config: &Config) -> Branding {
    Branding {
        shop_name: config.shop.name.clone(),
        logo_url: config.shop.logo_url.clone(),
        support_email: config.shop.support_email.clone(),
        footer_text: config.shop.footer.clone(),
    }
}

/// The receipt model for an order.
pub fn receipt_for(order: &Order, branding: &Branding) -> Receipt {
    Receipt {
        order_number: order.order_number.clone(),
        placed_at: order.placed_at,
        currency: order.currency.clone(),
        items: order
            .items()
            .into_iter()
            .map(|i| LineItem {
                name: i.name,
                quantity: i.quantity,
                unit_price_minor: i.unit_price,
            })
            .collect(),
        subtotal_minor: order.subtotal_minor,
        tax_minor: order.tax_minor,
        shipping_minor: order.shipping_minor,
        discount_minor: order.discount_minor,
        total_minor: order.total_minor,
        customer_name: order.customer_name.clone(),
        customer_email: order.customer_email.clone(),
        billing_address: order.billing_lines(),
        branding: branding.clone(),
    }
}
