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

/// Appended to `ORDER BY <text column>` so both backends sort bytewise (a
/// PostgreSQL locale collation would ignore punctuation and disagree).
pub fn bytewise(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => "",
        Db::Postgres(_) => " COLLATE \"C\"",
    }
}
