//! `rebound pool …`: sender pools from the command line, for operators who
//! deploy with scripts rather than the browser. Pools set in `rebound.toml`
//! (`[[pools]]`) are listed but changed only there. Every change is audited
//! with the actor `cli`.

use clap::Subcommand;
use engine::audit::{self, Actor};
use engine::clock::{Clock, SystemClock};
use engine::delivery::pools::{self, NewPool, SenderPool};
use engine::delivery::relay_url::RelayUrl;
use engine::{Config, Db, pool_file};

use crate::bootstrap;

#[derive(Subcommand, Debug)]
pub enum PoolCommand {
    /// Every pool in sending order: name, role, From, relay (password hidden), state.
    List,
    /// Make the database match `[[pools]]` in rebound.toml now (`serve` does it at start).
    Apply,
    /// Add a pool. The relay password is read from the variable `--password-env` names.
    Add {
        #[arg(long)]
        name: String,
        /// primary, backup or masked.
        #[arg(long)]
        role: String,
        /// The From address.
        #[arg(long)]
        from: String,
        #[arg(long, default_value = "")]
        from_name: String,
        /// smtp://user@host:587?tls=starttls, smtps://user@host or capture://
        #[arg(long)]
        relay_url: String,
        #[arg(long)]
        password_env: Option<String>,
        #[arg(long, default_value_t = 50)]
        max_per_second: i64,
        /// Add it switched off.
        #[arg(long)]
        disabled: bool,
    },
    /// Change a pool; what is not given stays as it is.
    Set {
        name: String,
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        from_name: Option<String>,
        #[arg(long)]
        relay_url: Option<String>,
        #[arg(long)]
        password_env: Option<String>,
        #[arg(long)]
        max_per_second: Option<i64>,
        /// Switch it on again (clears a health-guard pause).
        #[arg(long)]
        enable: bool,
    },
    /// Stop sending through a pool (kept, with its history).
    Disable { name: String },
}

pub async fn run(command: PoolCommand, config: &Config) -> Result<(), String> {
    let db = bootstrap::open_database(config)
        .await
        .map_err(|e| e.to_string())?;
    let now = SystemClock::scaled(1.0).now_ms();
    let env = |v: &str| std::env::var(v).ok();
    match command {
        PoolCommand::List => list(&db).await,
        PoolCommand::Apply => {
            let applied = pool_file::apply(&db, now, &config.pools, env)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "rebound.toml: {} pools; created {:?}, updated {:?}, released {:?}",
                config.pools.len(),
                applied.created,
                applied.updated,
                applied.released
            );
            Ok(())
        }
        PoolCommand::Add {
            name,
            role,
            from,
            from_name,
            relay_url,
            password_env,
            max_per_second,
            disabled,
        } => {
            let spec = pool_file::PoolSpec {
                name,
                role,
                from,
                from_name,
                relay_url,
                password_env,
                max_per_second,
                enabled: !disabled,
            };
            let relay = pool_file::relay_url_of(&spec, env).map_err(|e| e.to_string())?;
            let position = pools::list(&db).await.map_err(|e| e.to_string())?.len() as i64;
            let pool = pools::create(
                &db,
                now,
                NewPool {
                    name: &spec.name,
                    role: &spec.role,
                    from_name: &spec.from_name,
                    from_address: &spec.from,
                    relay_url: &relay,
                    max_per_second: spec.max_per_second,
                    position,
                },
            )
            .await
            .map_err(|e| e.to_string())?;
            if disabled {
                pools::set_enabled(&db, now, pool.id, false)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            audited(&db, now, "pool.create", &pool.name).await?;
            println!("added pool {} ({})", pool.name, pool.role);
            Ok(())
        }
        PoolCommand::Set {
            name,
            role,
            from,
            from_name,
            relay_url,
            password_env,
            max_per_second,
            enable,
        } => {
            let pool = editable(&db, &name).await?;
            let relay = match relay_url {
                Some(relay_url) => {
                    let spec = pool_file::PoolSpec {
                        name: name.clone(),
                        role: pool.role.clone(),
                        from: pool.from_address.clone(),
                        from_name: pool.from_name.clone(),
                        relay_url,
                        password_env,
                        max_per_second: pool.max_per_second,
                        enabled: pool.enabled,
                    };
                    Some(pool_file::relay_url_of(&spec, env).map_err(|e| e.to_string())?)
                }
                None => None,
            };
            pools::update(
                &db,
                pool.id,
                NewPool {
                    name: &pool.name,
                    role: role.as_deref().unwrap_or(&pool.role),
                    from_name: from_name.as_deref().unwrap_or(&pool.from_name),
                    from_address: from.as_deref().unwrap_or(&pool.from_address),
                    relay_url: relay.as_deref().unwrap_or(&pool.relay_url),
                    max_per_second: max_per_second.unwrap_or(pool.max_per_second),
                    position: pool.position,
                },
                relay.is_none(),
            )
            .await
            .map_err(|e| e.to_string())?;
            audited(&db, now, "pool.update", &pool.name).await?;
            if enable {
                pools::set_enabled(&db, now, pool.id, true)
                    .await
                    .map_err(|e| e.to_string())?;
                audited(&db, now, "pool.enable", &pool.name).await?;
            }
            println!("updated pool {}", pool.name);
            Ok(())
        }
        PoolCommand::Disable { name } => {
            let pool = editable(&db, &name).await?;
            pools::set_enabled(&db, now, pool.id, false)
                .await
                .map_err(|e| e.to_string())?;
            audited(&db, now, "pool.disable", &pool.name).await?;
            println!("disabled pool {}", pool.name);
            Ok(())
        }
    }
}

async fn list(db: &Db) -> Result<(), String> {
    let all = pools::list(db).await.map_err(|e| e.to_string())?;
    let from_file = pool_file::file_managed(db)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{:<16} {:<8} {:<32} {:<40} {:<9} source",
        "name", "role", "from", "relay", "state"
    );
    for p in &all {
        let relay = RelayUrl::parse(&p.relay_url)
            .map(|r| r.redacted())
            .unwrap_or_else(|e| format!("unusable: {e}"));
        let state = if p.enabled {
            p.health_state.as_str()
        } else {
            "disabled"
        };
        let source = if from_file.contains(&p.id) {
            "rebound.toml"
        } else {
            "page/cli"
        };
        println!(
            "{:<16} {:<8} {:<32} {:<40} {:<9} {source}",
            p.name, p.role, p.from_address, relay, state
        );
    }
    Ok(())
}

/// The pool by name, if the command line may change it.
async fn editable(db: &Db, name: &str) -> Result<SenderPool, String> {
    let pool = pools::list(db)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| format!("no sender pool named {name:?} (see `rebound pool list`)"))?;
    pool_file::ensure_editable(db, pool.id)
        .await
        .map_err(|e| e.to_string())?;
    Ok(pool)
}

async fn audited(db: &Db, now: i64, action: &str, name: &str) -> Result<(), String> {
    audit::record(db, now, &Actor::cli(), action, name, "rebound pool")
        .await
        .map_err(|e| e.to_string())
}
