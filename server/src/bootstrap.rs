//! Start-up work shared by `serve` and the tests: open and migrate the
//! database, create the first admin.

use engine::accounts::{NewUser, Role, count_users, create_user, generate_password};
use engine::audit::{self, Actor};
use engine::{Config, Db};

/// Connects to the configured database and applies migrations; installs the
/// secrets key and the shop's catalogue files (`shop.locales_dir`), and
/// seals any relay password still stored in clear.
pub async fn open_database(config: &Config) -> engine::Result<Db> {
    engine::secrets::install(config.secrets_key.as_deref())?;
    engine::i18n::install(config.shop.locales_dir.as_deref())
        .map_err(|e| engine::Error::Config(format!("`shop.locales_dir`: {e}")))?;
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let sealed = engine::delivery::pools::seal_stored_passwords(&db).await?;
    if sealed > 0 {
        tracing::info!(pools = sealed, "sealed relay passwords stored in clear");
    }
    Ok(db)
}

/// On an empty user table, creates the demo admin and returns its password so
/// the caller can print it once. Never logs it.
pub async fn ensure_first_admin(
    db: &Db,
    config: &Config,
    now: i64,
) -> engine::Result<Option<(String, String)>> {
    if !config.demo.create_admin || count_users(db).await? > 0 {
        return Ok(None);
    }
    let password = generate_password();
    let user = create_user(
        db,
        now,
        NewUser {
            email: config.demo.admin_email.clone(),
            display_name: "Demo admin".into(),
            role: Role::Admin,
            password: password.clone(),
        },
    )
    .await?;
    audit::record(
        db,
        now,
        &Actor::system(),
        "user.add",
        &user.email,
        "first admin created at start-up",
    )
    .await?;
    Ok(Some((user.email, password)))
}
