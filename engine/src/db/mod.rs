//! Database access: one pool type for both backends and the repository
//! functions the rest of Rebound calls.
//!
//! Queries are written once with `$1`-style placeholders (both SQLite and
//! PostgreSQL accept them) and run on either backend through [`on_pool!`].
//! SQL that must differ between the two lives in [`dialect`], nowhere else.

pub mod dialect;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use crate::error::{Error, Result};

/// A connection pool on SQLite (embedded default) or PostgreSQL (scale-out).
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same block of sqlx code on whichever pool `db` holds.
/// `on_pool!(db, p => query(...).fetch_all(p).await)`.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Like [`on_pool!`] for statements run with `.execute(..)`: yields the
/// number of rows affected, the one part of the result both backends share.
#[macro_export]
macro_rules! exec_on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body.map(|r| r.rows_affected()),
            $crate::db::Db::Postgres($pool) => $body.map(|r| r.rows_affected()),
        }
    };
}

/// One JSON parameter carrying a whole batch: a list (`[a, b, …]`) or rows
/// of tuples (`[[a, b, …], …]`; tuples serialise as arrays, `None` as null),
/// read back in SQL by [`dialect::json_rows`] and [`dialect::in_json_list`].
/// One statement text then serves every batch size.
pub fn json_param<T: serde::Serialize + ?Sized>(batch: &T) -> Result<String> {
    serde_json::to_string(batch)
        .map_err(|e| Error::Internal(format!("a batch could not be written as JSON: {e}")))
}

/// SQLite lets one writer in at a time, and a writer that finds the lock
/// taken sleeps in SQLite's busy handler (1, 2, 5, 10 … ms at a time) though
/// the lock is often free again within a fraction of a millisecond: the send
/// loops and intake idled. The hot write transactions (claims, attempt
/// records, outcomes, intake's group commits) queue here for their turn
/// instead, first come first served, each woken the moment the one before
/// it is done. One gate per database file. PostgreSQL locks rows, not the
/// database: no gate.
///
/// Take it before acquiring a connection (waiting holds none), and never
/// while holding it already.
pub async fn write_turn(db: &Db) -> Option<tokio::sync::OwnedMutexGuard<()>> {
    type Gates = HashMap<std::path::PathBuf, Arc<tokio::sync::Mutex<()>>>;
    static GATES: LazyLock<std::sync::Mutex<Gates>> = LazyLock::new(Default::default);
    let Db::Sqlite(pool) = db else {
        return None;
    };
    let gate = {
        let options = pool.connect_options();
        let file = options.get_filename();
        let mut gates = GATES.lock().unwrap_or_else(|e| e.into_inner());
        match gates.get(file) {
            Some(g) => g.clone(),
            None => gates.entry(file.to_path_buf()).or_default().clone(),
        }
    };
    Some(gate.lock_owned().await)
}

/// Copies a SQLite database's WAL back into the database file, at most once
/// per [`CHECKPOINT_EVERY`], on a connection going back to the pool: sqlx
/// returns connections in a task of its own, so nobody waits for it.
/// SQLite's automatic checkpoint (off: `wal_autocheckpoint = 0`) ran inside
/// whichever commit took the WAL past 1,000 pages, with the write gate held:
/// every checkout and send behind it waited, 240–315 ms per stall measured
/// at 2,000 checkouts a second. PASSIVE: it never waits for readers or
/// writers, nor makes them wait.
#[derive(Default)]
struct CheckpointPacer {
    /// When the last checkpoint started. Locked for the whole checkpoint, so
    /// a connection that finds it locked knows one is under way and skips.
    last_started: tokio::sync::Mutex<Option<std::time::Instant>>,
}

/// How often a busy SQLite database is checkpointed.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

impl CheckpointPacer {
    async fn run_if_due(&self, conn: &mut sqlx::SqliteConnection) {
        let Ok(mut last_started) = self.last_started.try_lock() else {
            return;
        };
        if last_started.is_some_and(|t| t.elapsed() < CHECKPOINT_EVERY) {
            return;
        }
        *last_started = Some(std::time::Instant::now());
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut *conn)
            .await
        {
            tracing::warn!(error = %e, "WAL checkpoint failed; trying again shortly");
        }
    }
}

/// How long [`Db::close`] waits for the pool's connections.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// Statement texts that depend only on the backend (their SQL comes from
/// [`dialect`]): built on first use and kept, so a hot path (each intake
/// group commit, each send batch) does not build them again.
pub struct PerBackend<T> {
    sqlite: std::sync::OnceLock<T>,
    postgres: std::sync::OnceLock<T>,
}

impl<T> PerBackend<T> {
    pub const fn new() -> Self {
        Self {
            sqlite: std::sync::OnceLock::new(),
            postgres: std::sync::OnceLock::new(),
        }
    }

    /// The texts for `db`'s backend, built by `build` the first time.
    pub fn get(&self, db: &Db, build: impl FnOnce(&Db) -> T) -> &T {
        let cell = match db {
            Db::Sqlite(_) => &self.sqlite,
            Db::Postgres(_) => &self.postgres,
        };
        cell.get_or_init(|| build(db))
    }
}

impl<T> Default for PerBackend<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl Db {
    /// Connects to `url` (creating the SQLite file and its folder if needed).
    pub async fn connect(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // Checkpoints run as connections go back to the pool
                // (`CheckpointPacer`), not inside a commit.
                .pragma("wal_autocheckpoint", "0");
            if let Some(parent) = opts.get_filename().parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).map_err(|e| {
                    Error::Config(format!(
                        "`database_url`: cannot create {}: {e}",
                        parent.display()
                    ))
                })?;
            }
            let checkpoints = Arc::new(CheckpointPacer::default());
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .after_release(move |conn, _| {
                    let checkpoints = checkpoints.clone();
                    Box::pin(async move {
                        checkpoints.run_if_due(conn).await;
                        Ok(true)
                    })
                })
                .connect_with(opts)
                .await?;
            Ok(Db::Sqlite(pool))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            Err(Error::Config(
                "`database_url` must start with sqlite: or postgres://".into(),
            ))
        }
    }

    /// Applies the embedded migrations for this backend.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite(p) => sqlx::migrate!("../migrations/sqlite").run(p).await?,
            Db::Postgres(p) => sqlx::migrate!("../migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// True when every embedded migration has been applied (for `/readyz`).
    pub async fn migrations_current(&self) -> Result<bool> {
        let (expected, applied): (usize, i64) = match self {
            Db::Sqlite(p) => (
                sqlx::migrate!("../migrations/sqlite").iter().count(),
                sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                    .fetch_one(p)
                    .await?,
            ),
            Db::Postgres(p) => (
                sqlx::migrate!("../migrations/postgres").iter().count(),
                sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                    .fetch_one(p)
                    .await?,
            ),
        };
        Ok(applied as usize == expected)
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn ping(&self) -> Result<()> {
        exec_on_pool!(self, p => sqlx::query("SELECT 1").execute(p).await)?;
        Ok(())
    }

    /// Closes the pool, waiting at most [`CLOSE_WAIT`] for connections still
    /// on their way back. sqlx hands a released connection back in a task of
    /// its own (ours runs the WAL checkpoint first); one that arrives after
    /// `close` drained the pool is never closed, and `close` waited for it
    /// forever (a test server's cleanup hung in about 1 run of 40; `rebound
    /// serve` would not have exited after SIGTERM). A connection left open
    /// at exit loses nothing: its transactions are committed or rolled back.
    pub async fn close(&self) {
        let closing = async { on_pool!(self, p => p.close().await) };
        if tokio::time::timeout(CLOSE_WAIT, closing).await.is_err() {
            tracing::warn!(
                backend = self.backend_name(),
                "database connections still open after {CLOSE_WAIT:?}; leaving them"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With SQLite's own checkpoint off, the WAL still reaches the database
    /// file: a connection going back to the pool once the interval has passed
    /// copies it there, while nobody waits for it.
    #[tokio::test]
    async fn sqlite_wal_is_checkpointed_as_connections_go_back() {
        let t = crate::testing::TestDb::sqlite()
            .await
            .expect("test database");
        let Db::Sqlite(pool) = &t.db else {
            unreachable!("a SQLite test database")
        };
        let file = pool.connect_options().get_filename().to_path_buf();
        sqlx::query("CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            .execute(pool)
            .await
            .expect("create a table");
        // Whatever the migrations left in the WAL is copied first.
        tokio::time::sleep(CHECKPOINT_EVERY * 2).await;
        t.db.ping().await.expect("ping");
        tokio::time::sleep(CHECKPOINT_EVERY).await;
        let before = std::fs::metadata(&file).expect("database file").len();

        // About 2 MB, well past SQLite's own 1,000-page threshold (off here).
        // One connection for the write and the check, so no connection goes
        // back to the pool (which may checkpoint) between the two.
        let mut conn = pool.acquire().await.expect("a connection");
        sqlx::query("BEGIN")
            .execute(&mut *conn)
            .await
            .expect("begin");
        for i in 0..500 {
            sqlx::query("INSERT INTO filler (id, body) VALUES ($1, $2)")
                .bind(i)
                .bind("x".repeat(4_000))
                .execute(&mut *conn)
                .await
                .expect("insert");
        }
        sqlx::query("COMMIT")
            .execute(&mut *conn)
            .await
            .expect("commit");
        assert_eq!(
            std::fs::metadata(&file).expect("database file").len(),
            before,
            "the commit itself must not have checkpointed"
        );
        drop(conn);

        let grown = async {
            loop {
                tokio::time::sleep(CHECKPOINT_EVERY).await;
                t.db.ping().await.expect("ping");
                if std::fs::metadata(&file).expect("database file").len() > before + 1_000_000 {
                    break;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), grown)
            .await
            .expect("the WAL reached the database file within 10 s");
        t.cleanup().await;
    }
}
