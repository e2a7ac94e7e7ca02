use leptos::prelude::*;

/// Lets a suppressed address be mailed again; audited. Admins only.
#[server(prefix = "/fn", endpoint = "suppressions/release")]
pub async fn release_suppression(email: String) -> Result<(), ServerFnError> {
    use crate::ssr::{engine_error, require_role, state};
    let st = state()?;
    let admin = require_role(&[]).await?;
    engine::suppression::release(&st.db, st.now(), &email, &admin.user.email)
        .await
        .map_err(engine_error)?;
    engine::audit::record(
        &st.db,
        st.now(),
        &admin.actor(),
        "suppression.release",
        &email,
        "",
    )
    .await
    .map_err(engine_error)?;
    Ok(())
}
