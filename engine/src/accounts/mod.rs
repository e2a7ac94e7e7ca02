//! Staff accounts: roles, password hashing, the user repository, login with
//! throttling.

mod login;
mod password;
mod role;
mod throttle;
mod users;

pub use login::{LoginError, authenticate};
pub use password::{
    MIN_PASSWORD_LEN, generate_password, hash_password, validate_password, verify_password,
};
pub use role::Role;
pub use throttle::{clear_failures, forget_stale, locked_for, record_failure};
pub use users::{
    NewUser, User, count_active_admins, count_users, create_user, create_user_by, get_user,
    list_users, normalize_email, record_login, set_disabled, set_disabled_by, set_role,
    set_role_by,
};
