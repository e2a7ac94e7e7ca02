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
/// statistics) picked another index on `state` and read every held order's row,
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
/// `$1` until `$2`, oldest due first.
///
/// SQLite runs one writer at a time, so the single statement is already
/// atomic; it takes expired leases first, then due jobs, each an index range
/// that stops at `$4` (an `OR` of the two read every due job and sorted them
/// on every claim: a burst of 30,000 queued made each claim read 30,000).
/// PostgreSQL skips rows other workers hold, and takes the due jobs and the
/// expired leases as two index range scans (the same `OR` made it scan and
/// sort the whole queue); with expired leases about it may claim up to twice
/// `$4`.
pub fn claim_jobs(db: &Db) -> &'static str {
    match db {
        // The send token: 12 random bytes as hex, from each backend's strong source
        // (SQLite's randomblob; PostgreSQL's gen_random_uuid, hashed to its width).
        Db::Sqlite(_) => {
            "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2,
                 send_token = COALESCE(send_token, lower(hex(randomblob(12))))
             WHERE id IN (SELECT id FROM (
                 SELECT id FROM (SELECT id FROM jobs WHERE state = 'running' AND lease_until < $3
                                 ORDER BY due_at, id LIMIT $4)
                 UNION ALL
                 SELECT id FROM (SELECT id FROM jobs WHERE state = 'queued' AND due_at <= $3
                                 ORDER BY due_at, id LIMIT $4)) LIMIT $4)
             RETURNING id, kind, order_id, attempt_no, due_at, slot_at, pool_id, send_token"
        }
        Db::Postgres(_) => {
            "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2,
                 send_token = COALESCE(send_token, substr(md5(gen_random_uuid()::text), 1, 24))
             WHERE id = ANY(
                 ARRAY(SELECT id FROM jobs WHERE state = 'queued' AND due_at <= $3
                       ORDER BY due_at LIMIT $4 FOR UPDATE SKIP LOCKED)
                 || ARRAY(SELECT id FROM jobs WHERE state = 'running' AND lease_until < $3
                          LIMIT $4 FOR UPDATE SKIP LOCKED))
             RETURNING id, kind, order_id, attempt_no, due_at, slot_at, pool_id, send_token"
        }
    }
}

/// Run before [`claim_jobs`] in its transaction on PostgreSQL: no bitmap
/// scan and no sort, so the claim walks the `(state, due_at)` index and stops
/// at its limit, also on a table whose statistics are stale.
pub const CLAIM_PLAN_PG: &str = "SELECT set_config('enable_bitmapscan', 'off', true), \
     set_config('enable_sort', 'off', true)";

/// The SQL type of a value read from a JSON batch parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    Int,
    Text,
    /// JSON `true` / `false`.
    Bool,
}

/// A batch of rows passed as one JSON parameter `$param`, `[[a, b, …], …]`
/// (see [`super::json_param`]), read as a subquery with the named columns.
///
/// One statement text serves every batch size, so each connection prepares
/// it once, and SQLite binds one value rather than hundreds (sqlx looks each
/// `$n` up by name, a cost that grows with the square of their number).
pub fn json_rows(db: &Db, param: usize, cols: &[(&str, JsonType)]) -> String {
    let columns = cols
        .iter()
        .enumerate()
        .map(|(i, (name, ty))| match db {
            Db::Sqlite(_) => format!("value ->> {i} AS {name}"),
            Db::Postgres(_) => format!("(e ->> {i}){} AS {name}", pg_cast(*ty)),
        })
        .collect::<Vec<_>>()
        .join(", ");
    match db {
        Db::Sqlite(_) => format!("SELECT {columns} FROM json_each(${param})"),
        Db::Postgres(_) => {
            format!("SELECT {columns} FROM jsonb_array_elements(${param}::jsonb) AS e")
        }
    }
}

/// `col` is one of the values of the JSON list `$param` (`[a, b, …]`).
/// PostgreSQL gets them as an array, so it looks each up in `col`'s index
/// (as a subquery it hashes a scan of the whole table against them).
///
/// A read through this on a table that grows, run once a batch, is best run
/// with sqlx's `.persistent(false)` (planned at each run): PostgreSQL settles
/// a kept statement's plan after five runs, and on the young, never analysed
/// table of a fresh database that plan is a sequential scan, kept while the
/// table grows (`make bench`: intake's taken-check 3 ms a batch, the send
/// batch's attempts 2.5 ms at 30,000 rows). The parse and plan cost a batch,
/// not a row.
pub fn in_json_list(db: &Db, col: &str, param: usize, ty: JsonType) -> String {
    match db {
        Db::Sqlite(_) => format!("{col} IN (SELECT value FROM json_each(${param}))"),
        Db::Postgres(_) => format!(
            "{col} = ANY(ARRAY(SELECT x{} FROM jsonb_array_elements_text(${param}::jsonb) AS x))",
            pg_cast(ty)
        ),
    }
}

/// PostgreSQL reads JSON values as text: the cast to the column's type
/// (SQLite's `->>` already yields an integer, text or 0/1).
fn pg_cast(ty: JsonType) -> &'static str {
    match ty {
        JsonType::Int => "::bigint",
        JsonType::Text => "",
        JsonType::Bool => "::boolean",
    }
}

/// For an `UPDATE … FROM v WHERE t.key = v.key` over a batch: `key` is one
/// of `keys` (a subquery). PostgreSQL then reads the batch's rows through
/// the index instead of hashing a scan of the whole table (it guesses a
/// set-returning function yields 100 rows); SQLite already does.
pub fn keys_in(db: &Db, key: &str, keys: &str) -> String {
    match db {
        Db::Sqlite(_) => "TRUE".to_string(),
        Db::Postgres(_) => format!("{key} = ANY(ARRAY({keys}))"),
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

/// Starts a transaction that reads and then writes what it read decided.
/// SQLite takes the write lock first: a deferred transaction that read and
/// then finds another connection wrote meanwhile cannot upgrade to a writer
/// (SQLITE_BUSY_SNAPSHOT, at once, no busy wait). PostgreSQL's default read
/// committed is enough where `ON CONFLICT` settles a race.
pub fn begin_read_then_write(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => "BEGIN IMMEDIATE",
        Db::Postgres(_) => "BEGIN",
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
