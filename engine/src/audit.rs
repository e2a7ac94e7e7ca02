//! The audit log: who did what, when, from where. Written by every staff and
//! CLI action that changes something; shown on the Audit page.

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::db::Db;
use crate::error::Result;
use crate::{exec_on_pool, on_pool};

/// Who performed an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<i64>,
    /// Staff email, or `cli` / `system`.
    pub name: String,
    pub ip: Option<String>,
}

impl Actor {
    pub fn cli() -> Self {
        Self {
            user_id: None,
            name: "cli".into(),
            ip: None,
        }
    }

    pub fn system() -> Self {
        Self {
            user_id: None,
            name: "system".into(),
            ip: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Millis,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: Option<String>,
}

/// One audit entry: `$1` at, `$2` actor's user id, `$3` actor, `$4` action,
/// `$5` target, `$6` detail, `$7` ip (bound by [`in_tx!`](crate::audit::in_tx)).
pub(crate) const INSERT_SQL: &str =
    "INSERT INTO audit_log (at, actor_user_id, actor, action, target, detail, ip)
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Writes an audit entry in the transaction `$tx` of the operation it records
/// (inside an `on_pool!` arm), so the action and its entry commit together:
/// `in_tx!(tx, at, actor, action, target, detail)`.
macro_rules! in_tx {
    ($tx:expr, $at:expr, $actor:expr, $action:expr, $target:expr, $detail:expr) => {
        sqlx::query($crate::audit::INSERT_SQL)
            .bind($at)
            .bind($actor.user_id)
            .bind(&$actor.name)
            .bind($action)
            .bind($target)
            .bind($detail)
            .bind(&$actor.ip)
            .execute(&mut *$tx)
            .await
    };
}
pub(crate) use in_tx;

/// Writes an entry on its own, for actions that are not one transaction
/// with it (the CLI's, the system's).
pub async fn record(
    db: &Db,
    at: Millis,
    actor: &Actor,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<()> {
    exec_on_pool!(db, p => sqlx::query(INSERT_SQL)
        .bind(at).bind(actor.user_id).bind(&actor.name).bind(action).bind(target)
        .bind(detail).bind(&actor.ip)
        .execute(p).await)?;
    Ok(())
}

/// Newest first; `before_id` pages backwards (keyset pagination).
pub async fn list(db: &Db, before_id: Option<i64>, limit: i64) -> Result<Vec<AuditEntry>> {
    let limit = limit.clamp(1, 500);
    let before = before_id.unwrap_or(i64::MAX);
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT id, at, actor, action, target, detail, ip FROM audit_log
         WHERE id < $1 ORDER BY id DESC LIMIT $2"
    ).bind(before).bind(limit).fetch_all(p).await)?)
}
