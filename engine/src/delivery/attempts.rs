//! The attempt record: one row of `delivery_attempts` per send, its queries,
//! and the Message-ID and VERP token each attempt sends with.
//!
//! A receipt attempt is written once, with its outcome; its ids come from its
//! job's `send_token` (drawn at the job's first claim and kept), so a re-run
//! after a crash sends with the same Message-ID.

use std::collections::HashMap;

use rand::RngCore;

use super::queue::Job;
use crate::clock::Millis;
use crate::db::Db;
use crate::error::Result;
use crate::on_pool;

/// What an attempt ended with: stored as TEXT in `delivery_attempts.outcome`
/// (`accepted`, `deferred`, `rejected`, `failed`, `unknown`), names derived
/// for sqlx, serde and strum from this one list.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    sqlx::Type,
    strum::Display,
    strum::EnumString,
    strum::AsRefStr,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AttemptOutcome {
    /// A mail server took the message.
    Accepted,
    /// Refused for now (4xx): another attempt may follow.
    Deferred,
    /// Refused for good (5xx).
    Rejected,
    /// No answer to the message: the connection, TLS, the relay, or the message itself.
    Failed,
    /// The connection was lost after the message data went out: the relay may have it.
    Unknown,
}

impl AttemptOutcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

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
    pub outcome: Option<AttemptOutcome>,
    pub smtp_code: Option<i64>,
    pub smtp_text: Option<String>,
    pub reason: Option<String>,
    pub class: Option<String>,
    /// `receipt`, or `masked_link` for the fallback re-send.
    pub purpose: String,
    /// Times this attempt's outcome was unknown (re-sent with its Message-ID).
    pub unknowns: i64,
}

pub(crate) const ATTEMPT_COLUMNS: &str = "id, order_id, attempt_no, pool_id, message_id, verp_token, started_at, \
    finished_at, outcome, smtp_code, smtp_text, reason, class, purpose, unknowns";

/// Masked re-sends are numbered from here so they never collide with
/// receipt attempts (`attempt_no` is unique per order).
pub const MASKED_ATTEMPT_BASE: i64 = 100;

pub async fn attempts(db: &Db, order_id: i64) -> Result<Vec<Attempt>> {
    let sql = format!(
        "SELECT {ATTEMPT_COLUMNS} FROM delivery_attempts WHERE order_id = $1 ORDER BY attempt_no"
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(order_id).fetch_all(p).await)?)
}

/// The attempt statements a send round runs. Each takes its batch as one JSON
/// parameter (`db::json_param`), so one text per statement serves every batch
/// size; `$1` is `now` where a statement takes it. Built once per worker.
pub(crate) struct AttemptSql {
    /// Records a masked re-send's attempt before its send, or returns the one a
    /// crashed run recorded (a no-op update, so both backends return the row).
    /// `$1`: now; `$2`: rows of (order, attempt, pool, message id, token, purpose).
    pub(crate) start: String,
    /// Receipt attempts, written once with their outcomes (one a crashed run
    /// recorded before its send gets its outcome). `$1`: now; `$2`: rows of
    /// (order, attempt, pool, message id, token, started at, purpose, outcome,
    /// code, text, reason, class, rule). An `unknown` outcome counts in `unknowns`.
    pub(crate) record: String,
    /// The attempts of many orders, by order, in attempt order. `$1`: order ids.
    pub(crate) of_orders: String,
}

impl AttemptSql {
    pub(crate) fn new(db: &Db) -> Self {
        use crate::db::dialect::{JsonType::*, in_json_list, json_rows};
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
        Self {
            // `WHERE TRUE`: SQLite needs it to read ON CONFLICT after INSERT … SELECT.
            start: format!(
                "INSERT INTO delivery_attempts (order_id, attempt_no, pool_id, message_id, verp_token, started_at, purpose)
                 SELECT order_id, attempt_no, pool_id, message_id, verp_token, $1, purpose FROM ({attempt_rows}) AS v
                 WHERE TRUE
                 ON CONFLICT (order_id, attempt_no) DO UPDATE SET attempt_no = delivery_attempts.attempt_no
                 RETURNING {ATTEMPT_COLUMNS}"
            ),
            record: format!(
                "INSERT INTO delivery_attempts (order_id, attempt_no, pool_id, message_id, verp_token,
                     started_at, purpose, finished_at, outcome, smtp_code, smtp_text, reason, class, rule,
                     unknowns)
                 SELECT order_id, attempt_no, pool_id, message_id, verp_token, started_at, purpose, $1,
                     outcome, code, text, reason, class, rule,
                     CASE WHEN outcome = 'unknown' THEN 1 ELSE 0 END FROM ({outcome_rows}) AS v
                 WHERE TRUE
                 ON CONFLICT (order_id, attempt_no) DO UPDATE SET finished_at = excluded.finished_at,
                     outcome = excluded.outcome, smtp_code = excluded.smtp_code, smtp_text = excluded.smtp_text,
                     reason = excluded.reason, class = excluded.class, rule = excluded.rule,
                     unknowns = delivery_attempts.unknowns + excluded.unknowns"
            ),
            of_orders: format!(
                "SELECT {ATTEMPT_COLUMNS} FROM delivery_attempts WHERE {} ORDER BY order_id, attempt_no",
                in_json_list(db, "order_id", 1, Int)
            ),
        }
    }
}

/// The attempts of many orders at once (a send batch), by order, in attempt order.
pub(crate) async fn of_orders(
    db: &Db,
    sql: &AttemptSql,
    order_ids: &[i64],
) -> Result<HashMap<i64, Vec<Attempt>>> {
    if order_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids = crate::db::json_param(order_ids)?;
    // Planned at each run (see `dialect::in_json_list`).
    let rows: Vec<Attempt> = on_pool!(db, p => {
        sqlx::query_as(&sql.of_orders).persistent(false).bind(&ids).fetch_all(p).await
    })?;
    let mut by_order: HashMap<i64, Vec<Attempt>> = HashMap::new();
    for a in rows {
        by_order.entry(a.order_id).or_default().push(a);
    }
    Ok(by_order)
}

/// A fresh Message-ID and VERP token for attempt `attempt_no` of an order.
pub(crate) fn new_message_id(order_id: i64, attempt_no: i64, domain: &str) -> (String, String) {
    let mut rnd = [0u8; 12];
    rand::rng().fill_bytes(&mut rnd);
    message_id_with(order_id, attempt_no, hex::encode(rnd), domain)
}

/// The Message-ID of attempt `attempt_no` of an order whose VERP token is
/// `token` (24 hex digits), and the token.
pub(crate) fn message_id_with(
    order_id: i64,
    attempt_no: i64,
    token: String,
    domain: &str,
) -> (String, String) {
    let message_id = format!(
        "r{order_id}.a{attempt_no}.{}@{domain}",
        token.get(..8).unwrap_or(&token),
    );
    (message_id, token)
}

/// A receipt send's attempt, not yet written (`id` 0): it is written once,
/// with its outcome. Its ids come from the job's token, drawn when the job
/// was first claimed, so a re-run after a crash sends with the same ones.
pub(crate) fn fresh(job: &Job, pool_id: i64, now: Millis, domain: &str) -> Attempt {
    let (message_id, verp_token) = match job.send_token.clone() {
        Some(t) => message_id_with(job.order_id, job.attempt_no, t, domain),
        // Every claim draws one; a fresh one keeps a job without it sending.
        None => new_message_id(job.order_id, job.attempt_no, domain),
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
        unknowns: 0,
    }
}
