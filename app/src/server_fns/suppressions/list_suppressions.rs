use leptos::prelude::*;

use crate::error::AppError;
use crate::types::SuppressionRow;

/// Active suppressions matching `search`. Agents and managers (managers see
/// masked addresses).
#[server(prefix = "/fn", endpoint = "suppressions/list")]
pub async fn list_suppressions(search: String) -> Result<Vec<SuppressionRow>, AppError> {
    use crate::ssr::{require_role, state};
    use engine::accounts::Role;
    let st = state()?;
    let staff = require_role(&[Role::Agent, Role::Manager]).await?;
    let mask = staff.user.role == Role::Manager;
    let rows = engine::suppression::list(&st.db, st.now(), &search, 500).await?;
    Ok(rows
        .into_iter()
        .map(|s| SuppressionRow {
            email: if mask {
                engine::privacy::mask_email(&s.email)
            } else {
                s.email
            },
            reason: s.reason,
            source: s.source,
            created_at: engine::clock::format_utc(s.created_at),
        })
        .collect())
}
