use leptos::prelude::*;

use crate::error::AppError;

/// Lets a suppressed address be mailed again; audited. Admins only.
#[server(prefix = "/fn", endpoint = "suppressions/release")]
pub async fn release_suppression(email: String) -> Result<(), AppError> {
    use crate::ssr::{require_admin, state};
    let st = state()?;
    let admin = require_admin().await?;
    engine::suppression::release_by(&st.db, st.now(), &admin.actor(), &email).await?;
    Ok(())
}
