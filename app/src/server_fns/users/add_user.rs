use leptos::prelude::*;

use crate::error::AppError;
use crate::types::UserRow;

/// Creates a staff account with an initial password. Admins only.
#[server(prefix = "/fn", endpoint = "users/add")]
pub async fn add_user(
    email: String,
    display_name: String,
    role: String,
    password: String,
) -> Result<UserRow, AppError> {
    use crate::ssr::{require_admin, state};
    use engine::accounts::{NewUser, Role, create_user_by};
    use http::StatusCode;

    let st = state()?;
    let admin = require_admin().await?;
    let role = Role::parse(&role).ok_or_else(|| {
        AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("unknown role `{}` (agent, manager or admin)", role.trim()),
        )
    })?;
    let user = create_user_by(
        &st.db,
        st.now(),
        &admin.actor(),
        NewUser {
            email,
            display_name,
            role,
            password,
        },
    )
    .await?;
    Ok(super::to_row(user))
}
