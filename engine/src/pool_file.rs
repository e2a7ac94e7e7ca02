//! Sender pools as code: `[[pools]]` in `rebound.toml`, applied when a
//! process starts, so configuration management and containers can set them
//! without the browser. A pool from the file is marked `managed_by = 'file'`
//! and is read-only on the Sender pools page and on the command line; taken
//! out of the file, it is disabled (never deleted: attempts refer to it) and
//! handed back to the page. Every change is audited.

use crate::audit::{self, Actor};
use crate::clock::Millis;
use crate::db::Db;
use crate::delivery::pools::{self, NewPool, SenderPool};
use crate::delivery::relay_url::RelayUrl;
use crate::error::{Error, Result};
use crate::{exec_on_pool, on_pool};

pub use crate::config::PoolSpec;

/// What [`apply`] changed, by pool name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub released: Vec<String>,
}

/// Checks the file's pools without a database: unique names, a password
/// variable that is set, a relay URL that parses.
pub fn check(specs: &[PoolSpec], env: impl Fn(&str) -> Option<String>) -> Result<()> {
    for (i, spec) in specs.iter().enumerate() {
        let at = format!("pools[{i}] ({})", spec.name);
        if specs[..i].iter().any(|s| s.name.trim() == spec.name.trim()) {
            return Err(Error::Config(format!("{at}: the name is used twice")));
        }
        relay_url_of(spec, &env).map_err(|e| Error::Config(format!("{at}: {e}")))?;
    }
    Ok(())
}

/// The relay URL to store: the spec's URL with the password from
/// `password_env` put in.
pub fn relay_url_of(spec: &PoolSpec, env: impl Fn(&str) -> Option<String>) -> Result<String> {
    let url = match &spec.password_env {
        None => spec.relay_url.trim().to_string(),
        Some(var) => {
            let password = env(var).filter(|p| !p.is_empty()).ok_or_else(|| {
                Error::invalid(format!("password_env names {var}, which is not set"))
            })?;
            with_password(spec.relay_url.trim(), &password)?
        }
    };
    RelayUrl::parse(&url).map_err(|e| Error::invalid(format!("relay_url: {e}")))?;
    Ok(url)
}

/// `smtp://user@host…` + password → `smtp://user:<percent-encoded>@host…`.
fn with_password(url: &str, password: &str) -> Result<String> {
    let missing_user =
        || Error::invalid("relay_url needs a user (smtp://user@host) for password_env");
    let (scheme, rest) = url.split_once("://").ok_or_else(missing_user)?;
    let (user, host) = rest.split_once('@').ok_or_else(missing_user)?;
    if user.is_empty() || user.contains(':') {
        return Err(Error::invalid(
            "relay_url must carry the user only, the password comes from password_env",
        ));
    }
    let encoded = crate::delivery::relay_url::percent_encode(password);
    Ok(format!("{scheme}://{user}:{encoded}@{host}"))
}

/// The ids of the pools the file manages (read-only elsewhere).
pub async fn file_managed(db: &Db) -> Result<Vec<i64>> {
    Ok(on_pool!(db, p => sqlx::query_scalar(
        "SELECT id FROM sender_pools WHERE managed_by = 'file' ORDER BY id"
    ).fetch_all(p).await)?)
}

/// Refuses a change by hand to a pool the file manages.
pub async fn ensure_editable(db: &Db, id: i64) -> Result<()> {
    if file_managed(db).await?.contains(&id) {
        return Err(Error::Conflict(
            "this pool is set in rebound.toml ([[pools]]): change it there".into(),
        ));
    }
    Ok(())
}

/// Makes the database's pools match the file: creates or updates each
/// `[[pools]]` entry (in file order), releases pools no longer listed.
/// An empty list changes nothing: pools are then managed by hand.
pub async fn apply(
    db: &Db,
    now: Millis,
    specs: &[PoolSpec],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Applied> {
    check(specs, &env)?;
    let actor = Actor {
        user_id: None,
        name: "rebound.toml".into(),
        ip: None,
    };
    let existing = pools::list(db).await?;
    let managed = file_managed(db).await?;
    let mut applied = Applied::default();
    for (position, spec) in specs.iter().enumerate() {
        let relay = relay_url_of(spec, &env)?;
        let new = NewPool {
            name: spec.name.trim(),
            role: spec.role,
            from_name: &spec.from_name,
            from_address: &spec.from,
            relay_url: &relay,
            max_per_second: spec.max_per_second,
            position: position as i64,
        };
        let pool = match existing.iter().find(|p| p.name == spec.name.trim()) {
            None => {
                let pool = pools::create(db, now, new).await?;
                applied.created.push(pool.name.clone());
                audit::record(
                    db,
                    now,
                    &actor,
                    "pool.create",
                    &pool.name,
                    "from rebound.toml",
                )
                .await?;
                pool
            }
            Some(old) => {
                // Compared opened: the stored password is sealed, the file's is not.
                let relay_same =
                    RelayUrl::parse(&old.relay_url).ok() == RelayUrl::parse(&relay).ok();
                if !relay_same || differs(old, spec, position) || !managed.contains(&old.id) {
                    let pool = pools::update(db, old.id, new, relay_same).await?;
                    applied.updated.push(pool.name.clone());
                    audit::record(
                        db,
                        now,
                        &actor,
                        "pool.update",
                        &pool.name,
                        "from rebound.toml",
                    )
                    .await?;
                    pool
                } else {
                    old.clone()
                }
            }
        };
        mark(db, pool.id, "file").await?;
        if pool.smtputf8 != spec.smtputf8 {
            pools::set_smtputf8(db, pool.id, spec.smtputf8).await?;
            let detail = format!("smtputf8 = {} from rebound.toml", spec.smtputf8);
            audit::record(db, now, &actor, "pool.update", &pool.name, &detail).await?;
        }
        // The file may switch a pool off; switching on never overrides the
        // health guard's pause (an admin resumes a paused pool on purpose).
        if pool.enabled != spec.enabled && (!spec.enabled || pool.health_state != "paused") {
            pools::set_enabled(db, now, pool.id, spec.enabled).await?;
            let what = if spec.enabled {
                "pool.enable"
            } else {
                "pool.disable"
            };
            audit::record(db, now, &actor, what, &pool.name, "from rebound.toml").await?;
        }
    }
    if specs.is_empty() {
        return Ok(applied);
    }
    for old in existing.iter().filter(|p| managed.contains(&p.id)) {
        if specs.iter().all(|s| s.name.trim() != old.name) {
            mark(db, old.id, "ui").await?;
            pools::set_enabled(db, now, old.id, false).await?;
            applied.released.push(old.name.clone());
            audit::record(
                db,
                now,
                &actor,
                "pool.disable",
                &old.name,
                "removed from rebound.toml",
            )
            .await?;
        }
    }
    Ok(applied)
}

fn differs(old: &SenderPool, spec: &PoolSpec, position: usize) -> bool {
    old.role != spec.role
        || old.from_address != spec.from
        || old.from_name != spec.from_name
        || old.max_per_second != spec.max_per_second
        || old.position != position as i64
}

async fn mark(db: &Db, id: i64, by: &str) -> Result<()> {
    exec_on_pool!(db, p => sqlx::query("UPDATE sender_pools SET managed_by = $1 WHERE id = $2")
        .bind(by).bind(id).execute(p).await)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, url: &str, env: Option<&str>) -> PoolSpec {
        PoolSpec {
            name: name.into(),
            role: pools::PoolRole::Primary,
            from: "receipts@shop.example".into(),
            from_name: "Shop".into(),
            relay_url: url.into(),
            password_env: env.map(str::to_string),
            max_per_second: 50,
            enabled: true,
            smtputf8: false,
        }
    }

    #[test]
    fn password_comes_from_the_named_variable_percent_encoded() {
        let url = with_password("smtp://mailer@relay.example:587?tls=starttls", "p@ss:w/rd")
            .expect("valid");
        assert_eq!(
            url,
            "smtp://mailer:p%40ss%3Aw%2Frd@relay.example:587?tls=starttls"
        );
        let parsed = RelayUrl::parse(&url).expect("valid");
        let RelayUrl::Smtp { credentials, .. } = parsed else {
            panic!("smtp")
        };
        assert_eq!(credentials, Some(("mailer".into(), "p@ss:w/rd".into())));
    }

    #[test]
    fn check_names_what_is_wrong() {
        let none = |_: &str| None;
        let err =
            check(&[spec("a", "smtp://u@h:25", Some("RELAY_PW"))], none).expect_err("must fail");
        assert!(err.to_string().contains("RELAY_PW"), "{err}");
        let err = check(
            &[spec("a", "capture://", None), spec("a", "capture://", None)],
            none,
        )
        .expect_err("must fail");
        assert!(err.to_string().contains("used twice"), "{err}");
        let err = check(
            &[spec("a", "smtp://u:inline@h:25", Some("X"))],
            |_: &str| Some("pw".into()),
        )
        .expect_err("must fail");
        assert!(err.to_string().contains("user only"), "{err}");
        assert!(check(&[spec("a", "ftp://h", None)], none).is_err());
        assert!(check(&[spec("a", "capture://", None)], none).is_ok());
    }
}
