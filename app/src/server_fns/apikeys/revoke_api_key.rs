use leptos::prelude::*;

use crate::error::AppError;

/// Revokes an API key at once. Admins only.
#[server(prefix = "/fn", endpoint = "apikeys/revoke")]
pub async fn revoke_api_key(key_id: i64) -> Result<(), AppError> {
    use crate::ssr::{require_admin, state};
    let st = state()?;
    let admin = require_admin().await?;
    engine::apikeys::revoke_by(&st.db, st.now(), &admin.actor(), key_id).await?;
    Ok(())
}
