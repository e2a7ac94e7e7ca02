use leptos::prelude::*;

use crate::error::AppError;

/// Creates a shop API key. The secret goes to the caller's session, to be
/// shown once by the next `list_api_keys`; only its hash is stored. Admins only.
#[server(prefix = "/fn", endpoint = "apikeys/create")]
pub async fn create_api_key(name: String) -> Result<(), AppError> {
    use crate::ssr::{auth, require_admin, state};
    let st = state()?;
    let admin = require_admin().await?;
    let created = engine::apikeys::create_by(&st.db, st.now(), &admin.actor(), &name).await?;
    auth::session()
        .await?
        .insert(super::FRESH_SECRET_KEY, created.secret)
        .await
        .map_err(|_| {
            AppError::new(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                "session store unavailable",
            )
        })?;
    Ok(())
}
