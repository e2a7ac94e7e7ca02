use leptos::prelude::*;

/// Revokes an API key at once. Admins only.
#[server(prefix = "/fn", endpoint = "apikeys/revoke")]
pub async fn revoke_api_key(key_id: i64) -> Result<(), ServerFnError> {
    use crate::ssr::{engine_error, require_role, state};
    let st = state()?;
    let admin = require_role(&[]).await?;
    let k = engine::apikeys::revoke(&st.db, key_id, st.now())
        .await
        .map_err(engine_error)?;
    engine::audit::record(
        &st.db,
        st.now(),
        &admin.actor(),
        "apikey.revoke",
        &k.prefix,
        &k.name,
    )
    .await
    .map_err(engine_error)?;
    Ok(())
}
