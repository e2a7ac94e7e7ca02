use leptos::prelude::*;

use crate::error::AppError;
use crate::types::UserRow;

/// Changes a staff member's role. Admins only; the last admin stays admin.
#[server(prefix = "/fn", endpoint = "users/set_role")]
pub async fn set_user_role(user_id: i64, role: String) -> Result<UserRow, AppError> {
    use crate::ssr::{require_admin, state};
    use engine::accounts::Role;
    use http::StatusCode;

    let st = state()?;
    let admin = require_admin().await?;
    let role = Role::parse(&role).ok_or_else(|| {
        AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("unknown role `{}` (agent, manager or admin)", role.trim()),
        )
    })?;
    let user =
        engine::accounts::set_role_by(&st.db, st.now(), &admin.actor(), user_id, role).await?;
    Ok(super::to_row(user))
}
