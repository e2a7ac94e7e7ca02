use leptos::prelude::*;

use crate::types::UserRow;

/// Disables (or re-enables) a staff account; a disabled user's sessions stop
/// working at their next request. Admins only.
#[server(prefix = "/fn", endpoint = "users/set_disabled")]
pub async fn set_user_disabled(user_id: i64, disabled: bool) -> Result<UserRow, ServerFnError> {
    use crate::ssr::{engine_error, require_role, state};

    let st = state()?;
    let admin = require_role(&[]).await?;
    let user = engine::accounts::set_disabled(&st.db, st.now(), user_id, disabled)
        .await
        .map_err(engine_error)?;
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    engine::audit::record(&st.db, st.now(), &admin.actor(), action, &user.email, "")
        .await
        .map_err(engine_error)?;
    Ok(super::to_row(user))
}
