//! The role check for plain axum handlers under the session layer (CSV and
//! chart downloads), matching what `app::ssr::require_role` does for server
//! functions: the user is read from the database on every request, and a
//! disabled or deleted user loses the session.

use app::ssr::auth::USER_ID_KEY;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use engine::Db;
use engine::accounts::{Role, User};
use tower_sessions::Session;

/// Why a request was turned away: a status and a short plain-text answer.
pub struct Refused(StatusCode, &'static str);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (self.0, self.1).into_response()
    }
}

/// The signed-in, enabled user when their role is one of `allowed` (admins
/// always are); otherwise the 401/403/500 response to send.
pub async fn require(db: &Db, session: &Session, allowed: &[Role]) -> Result<User, Refused> {
    let refuse = |status: StatusCode, text: &'static str| Refused(status, text);
    let user_id: Option<i64> = session.get(USER_ID_KEY).await.ok().flatten();
    let Some(user_id) = user_id else {
        return Err(refuse(StatusCode::UNAUTHORIZED, "Please sign in."));
    };
    let user = match engine::accounts::get_user(db, user_id).await {
        Ok(Some(u)) if !u.disabled => u,
        Ok(_) => {
            let _ = session.flush().await;
            return Err(refuse(StatusCode::UNAUTHORIZED, "Please sign in."));
        }
        Err(e) => {
            tracing::error!(error = %e, "role check failed");
            return Err(refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong.",
            ));
        }
    };
    if user.role == Role::Admin || allowed.contains(&user.role) {
        Ok(user)
    } else {
        Err(refuse(
            StatusCode::FORBIDDEN,
            "Your role does not allow this action.",
        ))
    }
}
