use leptos::prelude::*;

use crate::error::AppError;
use crate::types::ApiKeysView;

/// API keys, plus a secret created a moment ago (handed out once, then gone
/// from the session). Admins only.
#[server(prefix = "/fn", endpoint = "apikeys/list")]
pub async fn list_api_keys() -> Result<ApiKeysView, AppError> {
    use crate::ssr::{auth, require_admin, state};
    use crate::types::ApiKeyRow;
    use engine::clock::format_utc;
    let st = state()?;
    require_admin().await?;
    let session = auth::session().await?;
    let fresh_secret: Option<String> = session
        .remove(super::FRESH_SECRET_KEY)
        .await
        .unwrap_or(None);
    let keys = engine::apikeys::list(&st.db).await?;
    Ok(ApiKeysView {
        keys: keys
            .into_iter()
            .map(|k| ApiKeyRow {
                id: k.id,
                name: k.name,
                prefix: k.prefix,
                created_at: format_utc(k.created_at),
                created_by: k.created_by,
                last_used_at: k.last_used_at.map(format_utc),
                revoked: k.revoked_at.is_some(),
            })
            .collect(),
        fresh_secret,
    })
}
