use leptos::prelude::*;

/// Creates a shop API key. The secret goes to the caller's session, to be
/// shown once by the next `list_api_keys`; only its hash is stored. Admins only.
#[server(prefix = "/fn", endpoint = "apikeys/create")]
pub async fn create_api_key(name: String) -> Result<(), ServerFnError> {
    use crate::ssr::{auth, engine_error, fail, require_role, state};
    let st = state()?;
    let admin = require_role(&[]).await?;
    let created = engine::apikeys::create(&st.db, st.now(), &name, &admin.user.email)
        .await
        .map_err(engine_error)?;
    auth::session()
        .await?
        .insert(super::FRESH_SECRET_KEY, created.secret)
        .await
        .map_err(|_| {
            fail(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                "session store unavailable",
            )
        })?;
    engine::audit::record(
        &st.db,
        st.now(),
        &admin.actor(),
        "apikey.create",
        &created.key.prefix,
        &created.key.name,
    )
    .await
    .map_err(engine_error)?;
    Ok(())
}
