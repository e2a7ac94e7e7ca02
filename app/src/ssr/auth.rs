//! Who is calling: the staff member behind the session cookie, checked against
//! the database on every call so a disabled or demoted user loses access at once.

use axum::extract::ConnectInfo;
use engine::accounts::{Role, User, get_user};
use engine::audit::Actor;
use http::StatusCode;
use http::request::Parts;
use leptos::prelude::{ServerFnError, use_context};
use std::net::SocketAddr;
use tower_sessions::Session;

use super::errors::{engine_error, fail};
use super::state::state;

/// Session key holding the signed-in staff user's id.
pub const USER_ID_KEY: &str = "staff_user_id";

/// A signed-in, enabled staff member and where the request came from.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user: User,
    pub ip: String,
}

impl Staff {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.user.id),
            name: self.user.email.clone(),
            ip: Some(self.ip.clone()),
        }
    }
}

pub async fn session() -> Result<Session, ServerFnError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|_| fail(StatusCode::INTERNAL_SERVER_ERROR, "session layer missing"))
}

/// The caller's IP: the socket peer, or the first `X-Forwarded-For` entry when
/// the operator said the proxy in front is trusted. The one rule for server
/// functions and plain axum handlers alike.
pub fn client_ip_from(
    trust_forwarded_for: bool,
    headers: &http::HeaderMap,
    peer: Option<SocketAddr>,
) -> String {
    if trust_forwarded_for
        && let Some(first) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
        && first.trim().parse::<std::net::IpAddr>().is_ok()
    {
        return first.trim().to_string();
    }
    peer.map_or_else(|| "unknown".into(), |p| p.ip().to_string())
}

/// [`client_ip_from`] for the request a server function is answering.
pub async fn client_ip() -> String {
    let trust_xff = state()
        .map(|s| s.config.trust_forwarded_for)
        .unwrap_or(false);
    let headers = use_context::<Parts>()
        .map(|p| p.headers)
        .unwrap_or_default();
    let peer = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .ok()
        .map(|ConnectInfo(addr)| addr);
    client_ip_from(trust_xff, &headers, peer)
}

pub async fn current_staff() -> Result<Option<Staff>, ServerFnError> {
    let st = state()?;
    let session = session().await?;
    let id: Option<i64> = session.get(USER_ID_KEY).await.unwrap_or(None);
    let Some(id) = id else { return Ok(None) };
    let user = get_user(&st.db, id).await.map_err(engine_error)?;
    match user {
        Some(user) if !user.disabled => Ok(Some(Staff {
            user,
            ip: client_ip().await,
        })),
        _ => {
            // Disabled or deleted: end the session.
            let _ = session.flush().await;
            Ok(None)
        }
    }
}

/// The caller if their role is in `allowed` (admins may do everything);
/// otherwise 401 (not signed in) or 403 (wrong role).
pub async fn require_role(allowed: &[Role]) -> Result<Staff, ServerFnError> {
    match current_staff().await? {
        None => Err(fail(StatusCode::UNAUTHORIZED, "Please sign in.")),
        Some(s) if s.user.role == Role::Admin || allowed.contains(&s.user.role) => Ok(s),
        Some(_) => Err(fail(
            StatusCode::FORBIDDEN,
            "Your role does not allow this action.",
        )),
    }
}

pub fn to_view_role(r: Role) -> crate::types::Role {
    match r {
        Role::Agent => crate::types::Role::Agent,
        Role::Manager => crate::types::Role::Manager,
        Role::Admin => crate::types::Role::Admin,
    }
}

pub fn from_view_role(r: crate::types::Role) -> Role {
    match r {
        crate::types::Role::Agent => Role::Agent,
        crate::types::Role::Manager => Role::Manager,
        crate::types::Role::Admin => Role::Admin,
    }
}
