use leptos::prelude::*;

use crate::error::AppError;
use crate::types::SessionUser;

/// The signed-in staff member, or `None`. Open to everyone.
#[server(prefix = "/fn", endpoint = "auth/current_user")]
pub async fn current_user() -> Result<Option<SessionUser>, AppError> {
    use crate::ssr::current_staff;
    Ok(current_staff().await?.map(|s| SessionUser {
        id: s.user.id,
        email: s.user.email,
        display_name: s.user.display_name,
        role: s.user.role,
    }))
}
