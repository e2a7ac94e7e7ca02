use leptos::prelude::*;

use crate::error::AppError;

/// Ends the caller's session (destroys it in the store).
#[server(prefix = "/fn", endpoint = "auth/logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::ssr::{auth, current_staff, state};
    let st = state()?;
    if let Some(staff) = current_staff().await? {
        let _ = engine::audit::record(
            &st.db,
            st.now(),
            &staff.actor(),
            "logout",
            &staff.user.email,
            "signed out",
        )
        .await;
    }
    let session = auth::session().await?;
    let _ = session.flush().await;
    leptos_axum::redirect("/login");
    Ok(())
}
