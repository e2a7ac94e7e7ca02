mod add_user;
mod list_users;
mod set_user_disabled;
mod set_user_role;

pub use add_user::*;
pub use list_users::*;
pub use set_user_disabled::*;
pub use set_user_role::*;

#[cfg(feature = "ssr")]
pub(crate) fn to_row(u: engine::accounts::User) -> crate::types::UserRow {
    crate::types::UserRow {
        id: u.id,
        email: u.email,
        display_name: u.display_name,
        role: u.role,
        disabled: u.disabled,
        created_at: engine::clock::format_utc(u.created_at),
        last_login_at: u.last_login_at.map(engine::clock::format_utc),
    }
}
