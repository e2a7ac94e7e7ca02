use leptos::prelude::*;

use crate::error::AppError;
use crate::types::AuditPage;

pub const AUDIT_PAGE_SIZE: i64 = 50;

/// A page of the audit log, newest first. Admins only.
#[server(prefix = "/fn", endpoint = "audit/list")]
pub async fn list_audit(before: Option<i64>) -> Result<AuditPage, AppError> {
    use crate::ssr::{require_admin, state};
    use crate::types::AuditRow;

    let st = state()?;
    require_admin().await?;
    let entries = engine::audit::list(&st.db, before, AUDIT_PAGE_SIZE).await?;
    let next_before = (entries.len() as i64 == AUDIT_PAGE_SIZE)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(AuditPage {
        rows: entries
            .into_iter()
            .map(|e| AuditRow {
                id: e.id,
                at: engine::clock::format_utc(e.at),
                actor: e.actor,
                action: e.action,
                target: e.target,
                detail: e.detail,
                ip: e.ip,
            })
            .collect(),
        next_before,
    })
}
