mod create_api_key;
mod list_api_keys;
mod revoke_api_key;

pub use create_api_key::*;
pub use list_api_keys::*;
pub use revoke_api_key::*;

/// Session key holding a just-created secret until the page shows it once.
#[cfg(feature = "ssr")]
pub(crate) const FRESH_SECRET_KEY: &str = "fresh_api_key_secret";
