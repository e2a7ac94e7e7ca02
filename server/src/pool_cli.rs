//! `rebound pool …`: sender pools from the command line, for operators who
//! deploy with scripts rather than the browser. Pools set in `rebound.toml`
//! (`[[pools]]`) are listed but changed only there. Every change is audited
//! with the actor `cli`, in the transaction of the change (the engine's
//! `pools::*_by` operations: `pool.add`, `pool.update`, `pool.pause`,
//! `pool.resume`, the same entries the Pools page writes).

use clap::Subcommand;
use engine::audit::Actor;
use engine::clock::{Clock, SystemClock};
use engine::delivery::pools::{self, NewPool, PoolRole, SenderPool};
use engine::delivery::relay_url::RelayUrl;
use engine::{Config, Db, pool_file};

use crate::bootstrap;

#[derive(Subcommand, Debug)]
pub enum PoolCommand {
    /// Every pool in sending order: name, role, From, relay (password hidden), state,
    /// whether it offers SMTPUTF8.
    List,
    /// Make the database match `[[pools]]` in rebound.toml now (`serve` does it at start).
    Apply,
    /// Add a pool. The relay password is read from the variable `--password-env` names.
    Add {
        #[arg(long)]
        name: String,
        /// primary, backup or masked.
        #[arg(long)]
        role: PoolRole,
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
        /// Its relay path carries SMTPUTF8 (RFC 6531): addresses with a
        /// non-ASCII part before @ are accepted and sent through it.
        #[arg(long)]
        smtputf8: bool,
    },
    /// Change a pool; what is not given stays as it is.
    Set {
        name: String,
        /// primary, backup or masked.
        #[arg(long)]
        role: Option<PoolRole>,
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
        /// Whether its relay path carries SMTPUTF8 (RFC 6531).
        #[arg(long, value_name = "true|false")]
        smtputf8: Option<bool>,
    },
    /// Stop sending through a pool (kept, with its history).
    Disable { name: String },
}

pub async fn run(command: PoolCommand, config: &Config) -> anyhow::Result<()> {
    let db = bootstrap::open_database(config).await?;
    let now = SystemClock::scaled(1.0).now_ms();
    let cli = Actor::cli();
    let env = |v: &str| std::env::var(v).ok();
    match command {
        PoolCommand::List => list(&db).await,
        PoolCommand::Apply => {
            let applied = pool_file::apply(&db, now, &config.pools, env).await?;
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
            smtputf8,
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
                smtputf8,
            };
            let relay = pool_file::relay_url_of(&spec, env)?;
            let position = pools::list(&db).await?.len() as i64;
            let pool = pools::create_by(
                &db,
                now,
                &cli,
                NewPool {
                    name: &spec.name,
                    role: spec.role,
                    from_name: &spec.from_name,
                    from_address: &spec.from,
                    relay_url: &relay,
                    max_per_second: spec.max_per_second,
                    position,
                },
            )
            .await?;
            if disabled {
                pools::set_enabled_by(&db, now, &cli, pool.id, false).await?;
            }
            if smtputf8 {
                pools::set_smtputf8_by(&db, now, &cli, pool.id, true).await?;
            }
            let utf8 = if smtputf8 { ", SMTPUTF8" } else { "" };
            println!("added pool {} ({}{utf8})", pool.name, pool.role);
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
            smtputf8,
        } => {
            let pool = editable(&db, &name).await?;
            let relay = match relay_url {
                Some(relay_url) => {
                    let spec = pool_file::PoolSpec {
                        name: name.clone(),
                        role: pool.role,
                        from: pool.from_address.clone(),
                        from_name: pool.from_name.clone(),
                        relay_url,
                        password_env,
                        max_per_second: pool.max_per_second,
                        enabled: pool.enabled,
                        smtputf8: pool.smtputf8,
                    };
                    Some(pool_file::relay_url_of(&spec, env)?)
                }
                None => None,
            };
            pools::update_by(
                &db,
                now,
                &cli,
                pool.id,
                NewPool {
                    name: &pool.name,
                    role: role.unwrap_or(pool.role),
                    from_name: from_name.as_deref().unwrap_or(&pool.from_name),
                    from_address: from.as_deref().unwrap_or(&pool.from_address),
                    relay_url: relay.as_deref().unwrap_or(&pool.relay_url),
                    max_per_second: max_per_second.unwrap_or(pool.max_per_second),
                    position: pool.position,
                },
                relay.is_none(),
            )
            .await?;
            if enable {
                pools::set_enabled_by(&db, now, &cli, pool.id, true).await?;
            }
            if let Some(on) = smtputf8
                && on != pool.smtputf8
            {
                pools::set_smtputf8_by(&db, now, &cli, pool.id, on).await?;
            }
            println!("updated pool {}", pool.name);
            Ok(())
        }
        PoolCommand::Disable { name } => {
            let pool = editable(&db, &name).await?;
            pools::set_enabled_by(&db, now, &cli, pool.id, false).await?;
            println!("disabled pool {}", pool.name);
            Ok(())
        }
    }
}

async fn list(db: &Db) -> anyhow::Result<()> {
    let all = pools::list(db).await?;
    let from_file = pool_file::file_managed(db).await?;
    println!(
        "{:<16} {:<8} {:<32} {:<40} {:<9} {:<8} source",
        "name", "role", "from", "relay", "state", "smtputf8"
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
        let smtputf8 = if p.smtputf8 { "yes" } else { "no" };
        println!(
            "{:<16} {:<8} {:<32} {:<40} {:<9} {smtputf8:<8} {source}",
            p.name, p.role, p.from_address, relay, state
        );
    }
    Ok(())
}

/// The pool by name, if the command line may change it.
async fn editable(db: &Db, name: &str) -> anyhow::Result<SenderPool> {
    let pool = pools::list(db)
        .await?
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| {
            anyhow::anyhow!("no sender pool named {name:?} (see `rebound pool list`)")
        })?;
    pool_file::ensure_editable(db, pool.id).await?;
    Ok(pool)
}
