//! Server-only support for server functions: shared state and the session
//! guard. Errors are [`crate::error::AppError`].

pub mod auth;
pub mod state;

pub use auth::{Staff, client_ip, current_staff, require_admin, require_role};
pub use state::{AppState, state};
