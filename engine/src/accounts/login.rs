//! Password login with throttling. The error never says whether the account
//! exists.

use super::password::verify_password;
use super::throttle::{clear_failures, locked_for, record_failure};
use super::users::{User, find_for_login, normalize_email, record_login};
use crate::clock::Millis;
use crate::config::LoginConfig;
use crate::db::Db;
use crate::error::Error;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LoginError {
    #[error("Wrong email or password.")]
    Invalid,
    #[error("Too many failed attempts. Try again in {retry_after_secs} seconds.")]
    Locked { retry_after_secs: i64 },
    #[error("Sign-in is unavailable right now. Try again shortly.")]
    Unavailable,
}

impl From<Error> for LoginError {
    fn from(e: Error) -> Self {
        tracing::error!(error = %e, "login failed on an internal error");
        LoginError::Unavailable
    }
}

/// Checks the credentials of a staff member signing in from `ip`.
pub async fn authenticate(
    db: &Db,
    now: Millis,
    cfg: &LoginConfig,
    email: &str,
    password: &str,
    ip: &str,
) -> Result<User, LoginError> {
    // An address that cannot exist still counts against the IP.
    let email = normalize_email(email).unwrap_or_else(|_| email.trim().to_lowercase());
    let account_key = format!("account:{email}");
    let ip_key = format!("ip:{ip}");

    let locked = [
        locked_for(db, now, &account_key).await?,
        locked_for(db, now, &ip_key).await?,
    ];
    if let Some(secs) = locked.into_iter().flatten().max() {
        return Err(LoginError::Locked {
            retry_after_secs: secs,
        });
    }

    let found = find_for_login(db, &email).await?;
    let (user, hash) = match found {
        Some((u, h)) => (Some(u), Some(h)),
        None => (None, None),
    };
    let ok = verify_password(password.to_string(), hash).await;
    match user {
        Some(user) if ok && !user.disabled => {
            clear_failures(db, &account_key).await?;
            record_login(db, user.id, now).await?;
            Ok(user)
        }
        _ => {
            crate::metrics::login_failure();
            record_failure(db, now, cfg, &account_key, cfg.max_failures_per_account).await?;
            record_failure(db, now, cfg, &ip_key, cfg.max_failures_per_ip).await?;
            Err(LoginError::Invalid)
        }
    }
}
