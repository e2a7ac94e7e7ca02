use leptos::prelude::*;

use crate::types::UserRow;

/// Creates a staff account with an initial password. Admins only.
#[server(prefix = "/fn", endpoint = "users/add")]
pub async fn add_user(
    email: String,
    display_name: String,
    role: String,
    password: String,
) -> Result<UserRow, ServerFnError> {
    use crate::ssr::{engine_error, fail, require_role, state};
    use engine::accounts::{NewUser, Role, create_user};
    use http::StatusCode;

    let st = state()?;
    let admin = require_role(&[]).await?;
    let role: Role = role
        .parse()
        .map_err(|e: String| fail(StatusCode::UNPROCESSABLE_ENTITY, e))?;
    let user = create_user(
        &st.db,
        st.now(),
        NewUser {
            email,
            display_name,
            role,
            password,
        },
    )
    .await
    .map_err(engine_error)?;
    engine::audit::record(
        &st.db,
        st.now(),
        &admin.actor(),
        "user.add",
        &user.email,
        &format!("role {role}"),
    )
    .await
    .map_err(engine_error)?;
    Ok(super::to_row(user))
}
