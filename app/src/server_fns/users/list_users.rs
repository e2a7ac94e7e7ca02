use leptos::prelude::*;

use crate::types::UserRow;

/// Every staff account. Admins only.
#[server(prefix = "/fn", endpoint = "users/list")]
pub async fn list_users() -> Result<Vec<UserRow>, ServerFnError> {
    use crate::ssr::{engine_error, require_role, state};
    let st = state()?;
    require_role(&[]).await?;
    let users = engine::accounts::list_users(&st.db)
        .await
        .map_err(engine_error)?;
    Ok(users.into_iter().map(super::to_row).collect())
}
