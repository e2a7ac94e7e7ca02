use leptos::prelude::*;

use crate::error::AppError;

/// Signs a staff member in. Open to everyone; throttled per account and IP.
#[server(prefix = "/fn", endpoint = "auth/login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::ssr::{auth, client_ip, state};
    use engine::accounts::{LoginError, authenticate};
    use http::StatusCode;

    let st = state()?;
    let ip = client_ip().await;
    match authenticate(&st.db, st.now(), &st.config.login, &email, &password, &ip).await {
        Ok(user) => {
            let session = auth::session().await?;
            // A fresh session id at every login defeats session fixation.
            session.cycle_id().await.map_err(|_| {
                AppError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "session store unavailable",
                )
            })?;
            session
                .insert(auth::USER_ID_KEY, user.id)
                .await
                .map_err(|_| {
                    AppError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "session store unavailable",
                    )
                })?;
            let actor = engine::audit::Actor {
                user_id: Some(user.id),
                name: user.email.clone(),
                ip: Some(ip),
            };
            let _ =
                engine::audit::record(&st.db, st.now(), &actor, "login", &user.email, "signed in")
                    .await;
            leptos_axum::redirect(&safe_next(next.as_deref()));
            Ok(())
        }
        Err(e @ LoginError::Locked { .. }) => {
            Err(AppError::new(StatusCode::TOO_MANY_REQUESTS, e.to_string()))
        }
        Err(e @ LoginError::Invalid) => Err(AppError::new(StatusCode::UNAUTHORIZED, e.to_string())),
        Err(e @ LoginError::Unavailable) => Err(AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            e.to_string(),
        )),
    }
}

/// Only same-site paths: `/x` yes, `//evil.example` or `https://…` no.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_site() {
        assert_eq!(safe_next(Some("/admin/users")), "/admin/users");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
