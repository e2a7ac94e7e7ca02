use leptos::prelude::*;

use crate::error::AppError;

/// Suppresses an address by hand (e.g. the customer asked). Admins only.
#[server(prefix = "/fn", endpoint = "suppressions/add")]
pub async fn add_suppression(email: String) -> Result<(), AppError> {
    use crate::ssr::{require_admin, state};
    let st = state()?;
    let admin = require_admin().await?;
    engine::suppression::add_by(&st.db, st.now(), &admin.actor(), &email).await?;
    Ok(())
}
