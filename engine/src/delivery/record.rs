//! Writing a wave of send outcomes: one transaction, a few set-based
//! statements for the whole wave (on PostgreSQL each statement is a round
//! trip), each taking its rows as one JSON parameter.

use super::attempts::Attempt;
use super::outcome::{Again, Finished, Outcome, OutcomeRow, Recorded};
use super::state::Transition;
use super::worker::Worker;
use crate::clock::Millis;
use crate::db::Db;
use crate::error::Result;
use crate::on_pool;
use crate::soft_bounces::Effect as SoftEffect;

/// The statements of [`Worker::write_outcomes`] besides the attempts'
/// (`AttemptSql::record`). `$1` is `now` where a statement takes it; built once
/// per worker.
pub(crate) struct RecordSql {
    /// Orders' new states, unless already final; returns the ids that moved.
    /// `$1`: now; `$2`: rows of (order, state, detail, attempts).
    orders: String,
    /// Timeline entries. `$1`: now; `$2`: rows of (order, kind, detail).
    events: String,
    /// Next attempts. `$1`: now; `$2`: rows of (order, attempt, due).
    retries: String,
    /// Jobs done. `$1`: job ids.
    pub(super) jobs_done: String,
    /// Good deliveries reset the soft-bounce count. `$1`: normalised addresses.
    soft_resets: String,
}

impl RecordSql {
    pub(crate) fn new(db: &Db) -> Self {
        use crate::db::dialect::{JsonType::*, in_json_list, json_rows, keys_in};
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
        }
    }
}

/// What an order that moved gets next: (order, (event kind, event detail),
/// (next attempt, due) for a retry).
type FollowUp = (i64, (&'static str, String), Option<(i64, Millis)>);

/// One round of [`Worker::write_outcomes`] (at most one outcome per order),
/// as the JSON parameters its statements take.
pub(super) struct Round {
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
    pub(super) fn of(outcomes: &[&Outcome]) -> Result<Self> {
        let rows: Vec<(&Outcome, OutcomeRow)> =
            outcomes.iter().map(|o| (*o, OutcomeRow::of(o))).collect();
        let attempts: Vec<_> = rows
            .iter()
            .filter_map(|(o, _)| o.attempt.as_ref())
            .map(attempt_row)
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
    pub(super) fn moved(&self, changed: &[i64]) -> Result<(Option<String>, Option<String>)> {
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

/// An attempt with its outcome, as a row of `AttemptSql::record`.
type AttemptRow<'a> = (
    i64,
    i64,
    i64,
    &'a str,
    &'a str,
    Millis,
    &'a str,
    &'static str,
    Option<i64>,
    &'a Option<String>,
    &'a Option<String>,
    &'a Option<String>,
    &'a Option<String>,
);

fn attempt_row((a, r): &(Attempt, Recorded)) -> AttemptRow<'_> {
    (
        a.order_id,
        a.attempt_no,
        a.pool_id,
        &a.message_id,
        &a.verp_token,
        a.started_at,
        &a.purpose,
        r.outcome.as_str(),
        r.code,
        &r.text,
        &r.reason,
        &r.class,
        &r.rule,
    )
}

/// The sends going again later, as the parameters their statements take.
struct Agains {
    /// Unknown outcomes' attempts (rows of `AttemptSql::record`).
    attempts: Option<String>,
    /// Their timeline entries: (order, kind, detail).
    events: Option<String>,
    /// (job, due).
    defers: Vec<(i64, Millis)>,
}

impl Agains {
    fn of(again: &[&Again]) -> Result<Self> {
        let attempts: Vec<_> = again
            .iter()
            .filter_map(|a| a.attempt.as_ref())
            .map(attempt_row)
            .collect();
        let events: Vec<_> = again
            .iter()
            .filter_map(|a| {
                a.event
                    .as_ref()
                    .map(|e| (a.job.order_id, "outcome_unknown", e))
            })
            .collect();
        Ok(Self {
            attempts: json_unless_empty(&attempts)?,
            events: json_unless_empty(&events)?,
            defers: again.iter().map(|a| (a.job.id, a.due_at)).collect(),
        })
    }
}

/// A batch as a JSON parameter, or `None` for no rows (no statement to run).
pub(super) fn json_unless_empty<T: serde::Serialize>(rows: &[T]) -> Result<Option<String>> {
    Ok(if rows.is_empty() {
        None
    } else {
        Some(crate::db::json_param(rows)?)
    })
}

impl Worker {
    /// Writes a group of transitions in one transaction, a few set-based
    /// statements for the whole group (not a few per job: on PostgreSQL each
    /// statement is a round trip). Per job: the attempt's outcome, the order's
    /// state (unless already final), a timeline entry and the next job for
    /// the orders that moved, the job done, and what the outcome means for the
    /// address (a dead one is suppressed; the soft-bounce count). A send going
    /// again later ([`Again`]) puts its job back, due then, with its unknown
    /// attempt recorded and a timeline entry.
    pub(super) async fn write_outcomes(&self, finished: &[Finished]) -> Result<()> {
        let mut outcomes: Vec<&Outcome> = Vec::new();
        let mut again: Vec<&Again> = Vec::new();
        for f in finished {
            match f {
                Finished::Moved(o) => outcomes.push(o),
                Finished::Again(a) => again.push(a),
            }
        }
        let again = Agains::of(&again)?;
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
        let sql = &self.record_sql;
        let _turn = crate::db::write_turn(&self.db).await;
        on_pool!(&self.db, p => {
            let mut tx = p.begin().await?;
            for round in &rounds {
                if let Some(rows) = &round.attempts {
                    sqlx::query(&self.attempt_sql.record).bind(now).bind(rows).execute(&mut *tx).await?;
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
            if let Some(rows) = &again.attempts {
                sqlx::query(&self.attempt_sql.record).bind(now).bind(rows).execute(&mut *tx).await?;
            }
            if let Some(rows) = &again.events {
                sqlx::query(&sql.events).bind(now).bind(rows).execute(&mut *tx).await?;
            }
            for (job, due) in &again.defers {
                sqlx::query(super::queue::DEFER_SQL).bind(job).bind(&self.id).bind(due)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }
}
