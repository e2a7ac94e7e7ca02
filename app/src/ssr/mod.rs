//! Server-only support for server functions: shared state, the session guard
//! and error mapping.

pub mod auth;
pub mod errors;
pub mod state;

pub use auth::{Staff, client_ip, current_staff, require_role};
pub use errors::{engine_error, fail};
pub use state::{AppState, state};
