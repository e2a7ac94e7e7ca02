//! The staff user repository.

use serde::{Deserialize, Serialize};

use super::Role;
use super::password::hash_password;
use crate::audit::{self, Actor};
use crate::clock::Millis;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::{exec_on_pool, on_pool};

/// A staff account as the rest of the system sees it (never the hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: Millis,
    pub last_login_at: Option<Millis>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    display_name: String,
    role: Role,
    password_hash: String,
    disabled: bool,
    created_at: i64,
    last_login_at: Option<i64>,
}

impl UserRow {
    fn into_user(self) -> (User, String) {
        (
            User {
                id: self.id,
                email: self.email,
                display_name: self.display_name,
                role: self.role,
                disabled: self.disabled,
                created_at: self.created_at,
                last_login_at: self.last_login_at,
            },
            self.password_hash,
        )
    }
}

const COLUMNS: &str =
    "id, email, display_name, role, password_hash, disabled, created_at, last_login_at";

pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub password: String,
}

/// Lower-cases and trims; rejects what is clearly not an address.
pub fn normalize_email(email: &str) -> Result<String> {
    let e = email.trim().to_lowercase();
    let valid = e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(e)
    } else {
        Err(Error::invalid("enter a valid email address"))
    }
}

pub async fn create_user(db: &Db, now: Millis, new: NewUser) -> Result<User> {
    create(db, now, new, None).await
}

/// [`create_user`] by a staff member or the CLI, audited as `user.add`
/// (target the address, detail its role) in the same transaction.
pub async fn create_user_by(db: &Db, now: Millis, actor: &Actor, new: NewUser) -> Result<User> {
    create(db, now, new, Some(actor)).await
}

async fn create(db: &Db, now: Millis, new: NewUser, actor: Option<&Actor>) -> Result<User> {
    let email = normalize_email(&new.email)?;
    let display_name = new.display_name.trim().to_string();
    if display_name.is_empty() || display_name.chars().count() > 100 {
        return Err(Error::invalid("name must be 1 to 100 characters"));
    }
    let hash = hash_password(new.password).await?;
    let sql = format!(
        "INSERT INTO users (email, display_name, role, password_hash, disabled, created_at)
         VALUES ($1, $2, $3, $4, FALSE, $5) RETURNING {COLUMNS}"
    );
    let detail = format!("role {}", new.role);
    let row: std::result::Result<UserRow, sqlx::Error> = on_pool!(db, p => async {
        let mut tx = p.begin().await?;
        let row: UserRow = sqlx::query_as(&sql)
            .bind(&email)
            .bind(&display_name)
            .bind(new.role)
            .bind(&hash)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        if let Some(actor) = actor {
            audit::in_tx!(tx, now, actor, "user.add", &row.email, &detail)?;
        }
        tx.commit().await?;
        Ok::<UserRow, sqlx::Error>(row)
    }.await);
    match row {
        Ok(row) => Ok(row.into_user().0),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(Error::Conflict(
            "a user with that email already exists".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// The user and their password hash, for login only.
pub(super) async fn find_for_login(db: &Db, email: &str) -> Result<Option<(User, String)>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = $1");
    let row: Option<UserRow> =
        on_pool!(db, p => sqlx::query_as(&sql).bind(email).fetch_optional(p).await)?;
    Ok(row.map(UserRow::into_user))
}

pub async fn get_user(db: &Db, id: i64) -> Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    let row: Option<UserRow> =
        on_pool!(db, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await)?;
    Ok(row.map(|r| r.into_user().0))
}

pub async fn list_users(db: &Db) -> Result<Vec<User>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM users ORDER BY email{}",
        crate::db::dialect::bytewise(db)
    );
    let rows: Vec<UserRow> = on_pool!(db, p => sqlx::query_as(&sql).fetch_all(p).await)?;
    Ok(rows.into_iter().map(|r| r.into_user().0).collect())
}

pub async fn count_users(db: &Db) -> Result<i64> {
    Ok(on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(p).await)?)
}

pub async fn count_active_admins(db: &Db) -> Result<i64> {
    Ok(on_pool!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND NOT disabled"
    ).fetch_one(p).await)?)
}

/// Refuses a change that would leave no enabled admin.
async fn ensure_admin_remains(db: &Db, user: &User, becomes_admin: bool) -> Result<()> {
    let was_active_admin = user.role == Role::Admin && !user.disabled;
    if was_active_admin && !becomes_admin && count_active_admins(db).await? <= 1 {
        return Err(Error::Conflict(
            "this is the last enabled admin; make another admin first".into(),
        ));
    }
    Ok(())
}

pub async fn set_role(db: &Db, id: i64, role: Role) -> Result<User> {
    change_role(db, id, role, None).await
}

/// [`set_role`] by a staff member, audited as `user.role` in the same transaction.
pub async fn set_role_by(db: &Db, now: Millis, actor: &Actor, id: i64, role: Role) -> Result<User> {
    change_role(db, id, role, Some((now, actor))).await
}

async fn change_role(db: &Db, id: i64, role: Role, by: Option<(Millis, &Actor)>) -> Result<User> {
    let user = get_user(db, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("user {id}")))?;
    ensure_admin_remains(db, &user, role == Role::Admin).await?;
    let detail = format!("role → {role}");
    on_pool!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
            .bind(role).bind(id).execute(&mut *tx).await?;
        if let Some((now, actor)) = by {
            audit::in_tx!(tx, now, actor, "user.role", &user.email, &detail)?;
        }
        tx.commit().await?;
    });
    get_user(db, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("user {id}")))
}

/// Disables or re-enables an account. The time it was disabled is kept: the
/// retention pass anonymises accounts disabled for `privacy.disabled_user_days`,
/// and an anonymised account cannot come back.
pub async fn set_disabled(db: &Db, now: Millis, id: i64, disabled: bool) -> Result<User> {
    change_disabled(db, now, id, disabled, None).await
}

/// [`set_disabled`] by a staff member, audited as `user.disable` or
/// `user.enable` in the same transaction.
pub async fn set_disabled_by(
    db: &Db,
    now: Millis,
    actor: &Actor,
    id: i64,
    disabled: bool,
) -> Result<User> {
    change_disabled(db, now, id, disabled, Some(actor)).await
}

async fn change_disabled(
    db: &Db,
    now: Millis,
    id: i64,
    disabled: bool,
    actor: Option<&Actor>,
) -> Result<User> {
    let user = get_user(db, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("user {id}")))?;
    if disabled {
        ensure_admin_remains(db, &user, false).await?;
    } else {
        let anonymised: Option<i64> = on_pool!(db, p => sqlx::query_scalar(
            "SELECT anonymised_at FROM users WHERE id = $1"
        ).bind(id).fetch_one(p).await)?;
        if anonymised.is_some() {
            return Err(Error::Conflict(
                "this account was anonymised after being disabled; add a new user instead".into(),
            ));
        }
    }
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    on_pool!(db, p => {
        let mut tx = p.begin().await?;
        // Disabling again keeps the first date; enabling clears it.
        sqlx::query(
            "UPDATE users SET disabled = $1,
                 disabled_at = CASE WHEN $1 THEN COALESCE(disabled_at, $2) ELSE NULL END
             WHERE id = $3",
        )
        .bind(disabled).bind(now).bind(id).execute(&mut *tx).await?;
        if let Some(actor) = actor {
            audit::in_tx!(tx, now, actor, action, &user.email, "")?;
        }
        tx.commit().await?;
    });
    get_user(db, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("user {id}")))
}

pub async fn record_login(db: &Db, id: i64, at: Millis) -> Result<()> {
    exec_on_pool!(db, p => sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
        .bind(at).bind(id).execute(p).await)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_emails() {
        assert_eq!(
            normalize_email("  Jane@Example.COM ").ok(),
            Some("jane@example.com".into())
        );
        for bad in [
            "",
            "jane",
            "@example.com",
            "jane@localhost",
            "ja ne@example.com",
            "jane@.com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }
}
