use leptos::prelude::*;

use crate::error::AppError;
use crate::types::UserRow;

/// Every staff account. Admins only.
#[server(prefix = "/fn", endpoint = "users/list")]
pub async fn list_users() -> Result<Vec<UserRow>, AppError> {
    use crate::ssr::{require_admin, state};
    let st = state()?;
    require_admin().await?;
    let users = engine::accounts::list_users(&st.db).await?;
    Ok(users.into_iter().map(super::to_row).collect())
}
