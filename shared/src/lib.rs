//! Types that the engine and both halves of the app (the server's and the
//! browser's WASM) share. The engine is a server-only dependency of `app`,
//! so what the browser needs as well lives here, in a crate with no server
//! dependencies (sqlx only behind the `sqlx` feature, which the engine turns on).

use serde::{Deserialize, Serialize};

/// What a staff member may do. Ordered: each role includes the ones below it
/// for reading, but only agents and admins act on held orders.
///
/// Stored (TEXT), sent (JSON) and parsed as `agent`, `manager`, `admin`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::AsRefStr,
    strum::IntoStaticStr,
)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[cfg_attr(feature = "sqlx", sqlx(type_name = "text", rename_all = "lowercase"))]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase", ascii_case_insensitive)]
pub enum Role {
    /// Works the held queue: calls, SMS, regenerates links.
    Agent,
    /// Reads dashboards and orders; changes nothing.
    Manager,
    /// Manages users, API keys and configuration; can do everything.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Agent, Role::Manager, Role::Admin];

    /// The stored name (`agent`, …).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            Role::Agent => "Support agent",
            Role::Manager => "Manager",
            Role::Admin => "Admin",
        }
    }

    /// The role a stored or submitted name stands for.
    pub fn parse(s: &str) -> Option<Role> {
        s.trim().parse().ok()
    }
}

/// What a sender pool is for. Receipts go through primaries, then backups;
/// the masked pool sends fallback re-sends under a neutral name.
///
/// Stored (TEXT), sent (JSON), written in `rebound.toml` and on the command
/// line as `primary`, `backup`, `masked`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::AsRefStr,
    strum::IntoStaticStr,
)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[cfg_attr(feature = "sqlx", sqlx(type_name = "text", rename_all = "lowercase"))]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum PoolRole {
    /// Sends receipts first.
    Primary,
    /// Takes the retries after a primary.
    Backup,
    /// Sends the fallback's secure link under a neutral sender.
    Masked,
}

impl PoolRole {
    pub const ALL: [PoolRole; 3] = [PoolRole::Primary, PoolRole::Backup, PoolRole::Masked];

    /// The stored name (`primary`, …).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_every_form() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
            assert_eq!(r.to_string(), r.as_str());
            assert_eq!(r.as_ref(), r.as_str());
            let json = serde_json::to_string(&r).expect("json");
            assert_eq!(json, format!("\"{}\"", r.as_str()));
        }
        assert_eq!(Role::parse(" Admin "), Some(Role::Admin));
        assert!("root".parse::<Role>().is_err());
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn pool_roles_round_trip() {
        for r in PoolRole::ALL {
            assert_eq!(r.as_str().parse::<PoolRole>(), Ok(r));
            let json = serde_json::to_string(&r).expect("json");
            assert_eq!(json, format!("\"{}\"", r.as_str()));
        }
        assert!("Primary ".parse::<PoolRole>().is_err());
        assert!(serde_json::from_str::<PoolRole>("\"relay\"").is_err());
    }
}
