//! The few statements whose SQL differs between SQLite and PostgreSQL.
//! Everything else in the repository layer is written once.

use super::Db;

/// Case-insensitive substring match operator.
pub fn ilike(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => "LIKE", // SQLite's LIKE is case-insensitive for ASCII
        Db::Postgres(_) => "ILIKE",
    }
}

/// Follows `FROM orders` in the held-now count: SQLite's planner (no ANALYZE
/// statistics) picks `orders_fallback_due` and reads every held order's row,
/// 65 ms at a million orders against 0.8 ms through the partial index, so it
/// is named there; PostgreSQL's planner picks it itself.
pub fn held_unreached_index(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => " INDEXED BY orders_held_unreached",
        Db::Postgres(_) => "",
    }
}

/// Appended to `ORDER BY <text column>` so both backends sort bytewise (a
/// PostgreSQL locale collation would ignore punctuation and disagree).
pub fn bytewise(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => "",
        Db::Postgres(_) => " COLLATE \"C\"",
    }
}

/// Claims up to `$4` due jobs (or jobs whose lease `$3` has passed) for owner
/// `$1` until `$2`. PostgreSQL skips rows other workers hold; SQLite runs one
/// writer at a time, so the single statement is already atomic.
pub fn claim_jobs(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => {
            "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2
             WHERE id IN (SELECT id FROM jobs
                          WHERE (state = 'queued' AND due_at <= $3) OR (state = 'running' AND lease_until < $3)
                          ORDER BY due_at, id LIMIT $4)
             RETURNING id, kind, order_id, attempt_no, due_at, slot_at, pool_id"
        }
        Db::Postgres(_) => {
            "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2
             WHERE id IN (SELECT id FROM jobs
                          WHERE (state = 'queued' AND due_at <= $3) OR (state = 'running' AND lease_until < $3)
                          ORDER BY due_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
             RETURNING id, kind, order_id, attempt_no, due_at, slot_at, pool_id"
        }
    }
}

/// The lower-cased part of the email in column `col` after its first `@`
/// (the whole value when it has none).
pub fn email_domain(db: &Db, col: &str) -> String {
    match db {
        Db::Sqlite(_) => format!("LOWER(SUBSTR({col}, INSTR({col}, '@') + 1))"),
        Db::Postgres(_) => format!("LOWER(SUBSTR({col}, STRPOS({col}, '@') + 1))"),
    }
}

/// Starts a read-only transaction whose statements all see one snapshot.
/// SQLite's deferred transaction keeps the snapshot of its first read.
pub fn begin_read_snapshot(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => "BEGIN",
        Db::Postgres(_) => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    }
}

/// Starts a transaction that reads one snapshot and then writes: SQLite
/// takes the write lock first (no other writer between the reads and the
/// writes); PostgreSQL fails it if a row it touches changed meanwhile.
pub fn begin_write_snapshot(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => "BEGIN IMMEDIATE",
        Db::Postgres(_) => "BEGIN ISOLATION LEVEL REPEATABLE READ",
    }
}
