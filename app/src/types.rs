//! Types that cross the wire between server functions and the browser. The
//! domain's own types stay in `engine`; these are their views.

use serde::{Deserialize, Serialize};

/// A staff role as the UI sees it (mirrors `engine::accounts::Role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Agent,
    Manager,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Agent, Role::Manager, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Agent => "Support agent",
            Role::Manager => "Manager",
            Role::Admin => "Admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The signed-in staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

/// A row of the Users page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: String,
    pub last_login_at: Option<String>,
}

/// A row of the Audit page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: Option<String>,
}

/// One page of the audit log; `next_before` continues it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub next_before: Option<i64>,
}

/// The message of a server-function error without leptos' prefix.
pub fn error_text(e: &leptos::prelude::ServerFnError) -> String {
    use leptos::prelude::ServerFnError;
    match e {
        ServerFnError::ServerError(m) => m.clone(),
        ServerFnError::Request(_) | ServerFnError::Response(_) => {
            "The server could not be reached. Check your connection and try again.".into()
        }
        other => other.to_string(),
    }
}
