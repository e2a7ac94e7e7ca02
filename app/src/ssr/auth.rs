//! Who is calling: the staff member behind the session cookie, checked against
//! the database on every call so a disabled or demoted user loses access at once.

use axum::extract::ConnectInfo;
use engine::accounts::{Role, User, get_user};
use engine::audit::Actor;
use http::StatusCode;
use http::request::Parts;
use leptos::prelude::use_context;
use std::net::SocketAddr;
use tower_sessions::Session;

use super::state::state;
use crate::error::AppError;

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

    /// The staff member acting on an order: audited as [`Staff::actor`],
    /// named on the order's timeline by their display name.
    pub fn agent(&self) -> engine::orders::agent_log::Agent {
        engine::orders::agent_log::Agent {
            actor: self.actor(),
            name: self.user.display_name.clone(),
        }
    }
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|_| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "session layer missing"))
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

pub async fn current_staff() -> Result<Option<Staff>, AppError> {
    let st = state()?;
    let session = session().await?;
    let id: Option<i64> = session.get(USER_ID_KEY).await.unwrap_or(None);
    let Some(id) = id else { return Ok(None) };
    let user = get_user(&st.db, id).await?;
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
pub async fn require_role(allowed: &[Role]) -> Result<Staff, AppError> {
    match current_staff().await? {
        None => Err(AppError::new(StatusCode::UNAUTHORIZED, "Please sign in.")),
        Some(s) if s.user.role == Role::Admin || allowed.contains(&s.user.role) => Ok(s),
        Some(_) => Err(AppError::new(
            StatusCode::FORBIDDEN,
            "Your role does not allow this action.",
        )),
    }
}

/// The caller if they are an admin; otherwise 401 or 403.
pub async fn require_admin() -> Result<Staff, AppError> {
    require_role(&[]).await
}
