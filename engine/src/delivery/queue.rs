//! The durable job queue. Jobs live in the database; a worker claims a batch
//! with a lease, and a job whose lease runs out (its worker died) is claimed
//! again by anyone.

use crate::clock::Millis;
use crate::db::{Db, dialect};
use crate::error::Result;
use crate::{exec_on_pool, on_pool};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub order_id: i64,
    pub attempt_no: i64,
    pub due_at: Millis,
    /// A pacing slot reserved for this send (see `delivery::pace`).
    pub slot_at: Option<Millis>,
    /// The pool an agent chose for a masked-link re-send (else the masked pool).
    pub pool_id: Option<i64>,
    /// Drawn when the job is first claimed and kept: the VERP token (and part of the
    /// Message-ID) of the attempt it sends, so a re-run after a crash sends with the same
    /// ones although the attempt is only written with its outcome.
    pub send_token: Option<String>,
}

pub async fn claim(
    db: &Db,
    now: Millis,
    owner: &str,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Job>> {
    let sql = dialect::claim_jobs(db);
    let _turn = crate::db::write_turn(db).await;
    Ok(match db {
        Db::Sqlite(p) => {
            sqlx::query_as(sql)
                .bind(owner)
                .bind(now + lease_ms)
                .bind(now)
                .bind(limit)
                .fetch_all(p)
                .await?
        }
        Db::Postgres(p) => {
            // Walk the (state, due_at) index to the first due jobs, whatever the
            // statistics say. After a burst that autovacuum has not analysed yet,
            // PostgreSQL guessed a handful of queued jobs and chose to fetch them
            // all and sort them: 30,000 rows, 17 ms, for every claim of 256
            // (`make bench`, auto_explain). The settings last for this transaction.
            let mut tx = p.begin().await?;
            sqlx::query(dialect::CLAIM_PLAN_PG)
                .execute(&mut *tx)
                .await?;
            let jobs = sqlx::query_as(sql)
                .bind(owner)
                .bind(now + lease_ms)
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            jobs
        }
    })
}

/// Marks a job done (`$1`: its id).
pub(crate) const FINISH_SQL: &str =
    "UPDATE jobs SET state = 'done', lease_owner = NULL WHERE id = $1";

/// Puts a claimed job (`$1`, leased to `$2`) back to wait for its pacing slot at `$3`.
pub(crate) const DEFER_SQL: &str = "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL, \
     due_at = $3, slot_at = $3 WHERE id = $1 AND lease_owner = $2 AND state = 'running'";

/// Puts a claimed job back (graceful shutdown): due at once, for anyone.
pub async fn release(db: &Db, job_id: i64, owner: &str) -> Result<()> {
    exec_on_pool!(db, p => sqlx::query(
        "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL
         WHERE id = $1 AND lease_owner = $2 AND state = 'running'"
    ).bind(job_id).bind(owner).execute(p).await)?;
    Ok(())
}

/// Extends the leases `$1` holds on the jobs `$3` (a JSON list of ids) to `$2`.
pub(crate) fn renew_sql(db: &Db) -> String {
    format!(
        "UPDATE jobs SET lease_until = $2 WHERE lease_owner = $1 AND state = 'running' AND {}",
        dialect::in_json_list(db, "id", 3, dialect::JsonType::Int)
    )
}

/// Extends `owner`'s leases on `jobs` to `until` (the worker's heartbeat;
/// `sql` from [`renew_sql`]). Returns how many it extended.
pub async fn renew(db: &Db, sql: &str, owner: &str, until: Millis, jobs: &[i64]) -> Result<u64> {
    if jobs.is_empty() {
        return Ok(0);
    }
    let ids = crate::db::json_param(jobs)?;
    let _turn = crate::db::write_turn(db).await;
    Ok(exec_on_pool!(db, p => sqlx::query(sql)
        .bind(owner).bind(until).bind(&ids).execute(p).await)?)
}

/// Puts back every job `owner` still holds (graceful shutdown): due at once,
/// for anyone. Returns how many.
pub async fn release_owned(db: &Db, owner: &str) -> Result<u64> {
    Ok(exec_on_pool!(db, p => sqlx::query(
        "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL
         WHERE lease_owner = $1 AND state = 'running'"
    ).bind(owner).execute(p).await)?)
}

/// Jobs per state, for dashboards and `/readyz`.
pub async fn depth(db: &Db) -> Result<Vec<(String, i64)>> {
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state"
    ).fetch_all(p).await)?)
}

/// When the next queued job falls due (lets an idle worker sleep until then).
pub async fn next_due(db: &Db) -> Result<Option<Millis>> {
    Ok(on_pool!(db, p => sqlx::query_scalar(
        "SELECT MIN(due_at) FROM jobs WHERE state = 'queued'"
    ).fetch_one(p).await)?)
}
