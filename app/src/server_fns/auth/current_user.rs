use leptos::prelude::*;

use crate::types::SessionUser;

/// The signed-in staff member, or `None`. Open to everyone.
#[server(prefix = "/fn", endpoint = "auth/current_user")]
pub async fn current_user() -> Result<Option<SessionUser>, ServerFnError> {
    use crate::ssr::{auth::to_view_role, current_staff};
    Ok(current_staff().await?.map(|s| SessionUser {
        id: s.user.id,
        email: s.user.email,
        display_name: s.user.display_name,
        role: to_view_role(s.user.role),
    }))
}
