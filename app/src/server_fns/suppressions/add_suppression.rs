use leptos::prelude::*;

/// Suppresses an address by hand (e.g. the customer asked). Admins only.
#[server(prefix = "/fn", endpoint = "suppressions/add")]
pub async fn add_suppression(email: String) -> Result<(), ServerFnError> {
    use crate::ssr::{engine_error, require_role, state};
    let st = state()?;
    let admin = require_role(&[]).await?;
    let s = engine::suppression::suppress(&st.db, st.now(), &email, "manual", "admin", None)
        .await
        .map_err(engine_error)?;
    engine::audit::record(
        &st.db,
        st.now(),
        &admin.actor(),
        "suppression.add",
        &s.email,
        "manual",
    )
    .await
    .map_err(engine_error)?;
    Ok(())
}
