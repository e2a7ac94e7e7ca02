use leptos::prelude::*;

use crate::types::UserRow;

/// Changes a staff member's role. Admins only; the last admin stays admin.
#[server(prefix = "/fn", endpoint = "users/set_role")]
pub async fn set_user_role(user_id: i64, role: String) -> Result<UserRow, ServerFnError> {
    use crate::ssr::{engine_error, fail, require_role, state};
    use engine::accounts::Role;
    use http::StatusCode;

    let st = state()?;
    let admin = require_role(&[]).await?;
    let role: Role = role
        .parse()
        .map_err(|e: String| fail(StatusCode::UNPROCESSABLE_ENTITY, e))?;
    let user = engine::accounts::set_role(&st.db, user_id, role)
        .await
        .map_err(engine_error)?;
    engine::audit::record(
        &st.db,
        st.now(),
        &admin.actor(),
        "user.role",
        &user.email,
        &format!("role → {role}"),
    )
    .await
    .map_err(engine_error)?;
    Ok(super::to_row(user))
}
