use leptos::prelude::*;

use crate::error::AppError;
use crate::types::UserRow;

/// Disables (or re-enables) a staff account; a disabled user's sessions stop
/// working at their next request. Admins only.
#[server(prefix = "/fn", endpoint = "users/set_disabled")]
pub async fn set_user_disabled(user_id: i64, disabled: bool) -> Result<UserRow, AppError> {
    use crate::ssr::{require_admin, state};

    let st = state()?;
    let admin = require_admin().await?;
    let user =
        engine::accounts::set_disabled_by(&st.db, st.now(), &admin.actor(), user_id, disabled)
            .await?;
    Ok(super::to_row(user))
}
