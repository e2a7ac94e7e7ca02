//! The `[[pools]]` tables: sender pools as code, applied by `crate::pool_file`.

use serde::{Deserialize, Serialize};
use shared::PoolRole;

/// One `[[pools]]` table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PoolSpec {
    /// Unique; how the page, the CLI and the logs name it.
    pub name: String,
    /// `primary`, `backup` or `masked`.
    pub role: PoolRole,
    /// The From address receipts are sent as.
    pub from: String,
    /// The From display name.
    #[serde(default)]
    pub from_name: String,
    /// `smtp://user@host:587?tls=starttls`, `smtps://…` or `capture://`.
    /// Put no password here: name the variable that holds it instead.
    pub relay_url: String,
    /// Environment variable with the relay password (inserted into the URL,
    /// then sealed in the database with `secrets_key`).
    #[serde(default)]
    pub password_env: Option<String>,
    #[serde(default = "default_rate")]
    pub max_per_second: i64,
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    /// The relay path carries SMTPUTF8 (RFC 6531): customer addresses with a
    /// non-ASCII local part (`jörg@…`) are accepted and sent through this pool.
    #[serde(default)]
    pub smtputf8: bool,
}

fn default_rate() -> i64 {
    50
}
fn default_enabled() -> bool {
    true
}
