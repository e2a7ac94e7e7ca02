//! `rebound` subcommands. Passwords never come from arguments (they would sit
//! in shell history and `ps`): from `REBOUND_USER_PASSWORD` or standard input.

use anyhow::Context;
use clap::{Parser, Subcommand};
use engine::accounts::{self, NewUser, Role};
use engine::audit::Actor;
use engine::{Clock, Config, SystemClock};
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::sync::Arc;

use crate::bootstrap;

#[derive(Parser, Debug)]
#[command(
    name = "rebound",
    version,
    about = "Every customer gets their receipt, one way or another."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (migrates the database first).
    Serve {
        /// Listen address; overrides `bind` from the configuration.
        #[arg(long)]
        bind: Option<std::net::SocketAddr>,
        /// Dev only: run the clock this many times faster (makes retries visible in a demo).
        #[arg(long, default_value_t = 1.0)]
        time_scale: f64,
        /// `web`: HTTP only; `worker`: send/webhook/bounce workers plus /healthz, /readyz
        /// and /metrics; `all`: both (one process).
        #[arg(long, value_enum, default_value_t = ServeRole::All)]
        role: ServeRole,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Bounce tools for operators.
    Bounce {
        #[command(subcommand)]
        command: BounceCommand,
    },
    /// Manage the shops' API keys.
    Apikey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Generated demo history for the dashboard (marked as demo data, removable).
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
    /// Customers' personal data: retention and erasure.
    Privacy {
        #[command(subcommand)]
        command: PrivacyCommand,
    },
    /// Email-health risk: how well the score predicts bounces.
    Risk {
        #[command(subcommand)]
        command: RiskCommand,
    },
    /// Sender pools: list, add, change, disable, or apply `[[pools]]` from rebound.toml.
    Pool {
        #[command(subcommand)]
        command: crate::pool_cli::PoolCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum RiskCommand {
    /// Print scored orders by risk-score decile next to their observed bounce
    /// and held rates (a useful score rises decile by decile).
    Calibration {
        /// Orders created in the last this many days.
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
}

/// What one `rebound serve` process does (several processes share one PostgreSQL).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ServeRole {
    /// The browser app and the shop API; no workers.
    Web,
    /// The workers, with only /healthz, /readyz and /metrics over HTTP.
    Worker,
    /// Everything in one process.
    All,
}

impl ServeRole {
    pub fn runs_workers(self) -> bool {
        self != ServeRole::Web
    }

    pub fn serves_web(self) -> bool {
        self != ServeRole::Worker
    }
}

#[derive(Subcommand, Debug)]
pub enum PrivacyCommand {
    /// Run the retention pass now (blank old raw bounces, truncate old client IPs,
    /// delete old delivered orders and finished webhook events, anonymise long-disabled
    /// staff accounts; see `[privacy]`).
    Retention,
    /// Erase one customer's personal data everywhere; the address stays suppressed as its hash.
    Erase {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum DemoCommand {
    /// Write believable history straight into the database (nothing is sent), then
    /// refresh the dashboard rollups. Orders are numbered `DEMO-…` and flagged as demo.
    Seed {
        /// How many orders.
        #[arg(long)]
        orders: u64,
        /// Spread over this many days up to now.
        #[arg(long, default_value_t = 30)]
        days: i64,
        /// The same seed gives the same history.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Seed even though a sender pool relays real mail (demo addresses are made up,
        /// but at real mailbox providers).
        #[arg(long)]
        force: bool,
        /// Only if the database has no orders at all yet (`make run` seeds a fresh
        /// database on its first start, and never again).
        #[arg(long)]
        if_empty: bool,
    },
    /// Remove every demo order and everything tied to it.
    Clear,
    /// Post believable orders through the real shop API of a running server, at a
    /// steady pace (about 8 % from the demo VPN range, 5 % to dead `.invalid`
    /// addresses), so the dashboard and the held queue move.
    Live {
        /// The running server.
        #[arg(long, default_value = "http://127.0.0.1:3000")]
        url: String,
        /// A shop API key (`rebound apikey create`).
        #[arg(long, env = "REBOUND_API_KEY")]
        api_key: String,
        /// Orders a minute.
        #[arg(long, default_value_t = 20.0)]
        per_minute: f64,
        /// Stop after this many orders (default: until Ctrl-C).
        #[arg(long)]
        count: Option<u64>,
        /// The same seed gives the same customers.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Subcommand, Debug)]
pub enum BounceCommand {
    /// Classify raw bounce / feedback messages (files, or `-` for stdin): one
    /// JSON line per recipient, with the same parser and rules the server uses.
    Classify {
        #[arg(required = true)]
        files: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ApiKeyCommand {
    /// Create a key; the secret is printed once and stored only hashed.
    Create {
        #[arg(long)]
        name: String,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by id.
    Revoke { id: i64 },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a staff user. The password is read from REBOUND_USER_PASSWORD or stdin.
    Add {
        #[arg(long)]
        email: String,
        /// agent, manager or admin
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Display name (defaults to the part of the email before @).
        #[arg(long)]
        name: Option<String>,
    },
    /// List staff users.
    List,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rebound: {e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rebound: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rebound: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, mut config: Config) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            bind,
            time_scale,
            role,
        } => {
            if let Some(b) = bind {
                config.bind = b;
            }
            serve(config, time_scale, role).await
        }
        Command::Migrate => {
            bootstrap::open_database(&config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::User { command } => user_command(command, &config).await,
        Command::Apikey { command } => apikey_command(command, &config).await,
        Command::Demo { command } => demo_command(command, &config).await,
        Command::Privacy { command } => privacy_command(command, &config).await,
        Command::Risk { command } => risk_command(command, &config).await,
        Command::Pool { command } => crate::pool_cli::run(command, &config).await,
        Command::Bounce {
            command: BounceCommand::Classify { files },
        } => classify_files(&files),
    }
}

async fn serve(config: Config, time_scale: f64, role: ServeRole) -> anyhow::Result<()> {
    // --- ops: metrics recorder, role, shutdown grace ---
    crate::http::metrics::install();
    let runs_workers = role.runs_workers();
    let grace =
        std::time::Duration::from_secs(config.delivery.shutdown_grace_seconds.unsigned_abs());
    // --- end ops ---
    let db = bootstrap::open_database(&config).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::scaled(time_scale));
    if time_scale != 1.0 {
        tracing::warn!(
            time_scale,
            "the clock runs faster than real time (dev only)"
        );
    }
    if let Some((email, password)) =
        bootstrap::ensure_first_admin(&db, &config, clock.now_ms()).await?
    {
        // Printed once to the terminal on purpose; never logged.
        println!(
            "\n  Created the first admin account (shown once):\n    email:    {email}\n    password: {password}\n"
        );
    }
    let mut leptos_options = leptos::config::get_configuration(None)
        .context("leptos configuration")?
        .leptos_options;
    leptos_options.site_addr = config.bind;
    if role.serves_web() {
        // Before anything is served: pages must link the names the build wrote.
        crate::http::site_files::use_build_names(&mut leptos_options)
            .context("the browser app's files")?;
    }
    let bind = config.bind;
    // Worker processes apply `[[pools]]`: they are the ones that send.
    if runs_workers && !config.pools.is_empty() {
        let applied = engine::pool_file::apply(&db, clock.now_ms(), &config.pools, |v| {
            std::env::var(v).ok()
        })
        .await
        .context("[[pools]] in the configuration")?;
        tracing::info!(
            created = ?applied.created,
            updated = ?applied.updated,
            released = ?applied.released,
            "sender pools from the configuration file applied"
        );
    }
    if engine::delivery::pools::ensure_dev_pools(&db, clock.now_ms()).await? {
        tracing::warn!(
            "no sender pools were configured: created capture pools (messages go to the Outbox, nothing is sent)"
        );
    }
    let worker = Arc::new(engine::delivery::worker::Worker::new(
        db.clone(),
        clock.clone(),
        &config,
    )?);
    let wake = worker.wake.clone();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Signed events for the shop, every second, on the injected clock.
    let shop_webhooks_task = runs_workers.then(|| {
        tokio::spawn(engine::shop_webhooks::run(
            db.clone(),
            clock.clone(),
            config.shop_webhook.clone(),
            stop_rx.clone(),
        ))
    });
    // Bounces straight from the MTAs returning them, when `inbound_smtp.bind` is set
    // (a worker's job: a web-only process leaves the port to the workers).
    let inbound_listener = if runs_workers {
        crate::inbound_smtp::bind(&config)
            .await
            .map_err(anyhow::Error::msg)?
    } else {
        None
    };
    let inbound_smtp_task = match inbound_listener {
        Some(listener) => {
            let at = listener.local_addr()?;
            tracing::info!(%at, domain = %config.delivery.bounce_domain, "inbound SMTP listener for bounces");
            let smtp = crate::inbound_smtp::InboundSmtp::new(
                db.clone(),
                clock.clone(),
                &config,
                wake.clone(),
            );
            Some(tokio::spawn(
                Arc::new(smtp).serve(listener, stop_rx.clone()),
            ))
        }
        None => None,
    };
    let heartbeat = runs_workers.then(|| worker.heartbeat.clone());
    let worker_task =
        runs_workers.then(|| tokio::spawn(worker.clone().run_graceful(stop_rx.clone(), grace)));
    // The timers beside the sends: fallback decisions, reach, rollups,
    // retention, pool health.
    let periodic_task = runs_workers.then(|| {
        let periodic = Arc::new(engine::periodic::Periodic::for_worker(&worker));
        tokio::spawn(periodic.run(stop_rx.clone()))
    });
    let risk = Arc::new(engine::risk::Assessor::new(&config.risk)?);
    // Risk sources are re-read when their files change, without a restart.
    let risk_reload_task = tokio::spawn(watch_risk_sources(risk.clone(), stop_rx.clone()));
    let state = app::ssr::AppState {
        db: db.clone(),
        config: Arc::new(config),
        clock,
        risk,
    };
    let router = if role.serves_web() {
        crate::http::router_with_workers(state, leptos_options, wake, heartbeat).await?
    } else {
        crate::http::worker_router(state, heartbeat)
    };
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    tracing::info!(%bind, backend = db.backend_name(), ?role, "Rebound is serving on http://{bind}");
    // On SIGTERM the workers stop claiming at once, while HTTP drains.
    let mut http_stop = stop_rx.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    crate::http::serve(listener, router, async move {
        let _ = http_stop.wait_for(|stop| *stop).await;
    })
    .await?;
    // The sends in flight get `delivery.shutdown_grace_seconds`; the worker then
    // puts back the jobs it still holds, so another process takes them at once.
    if let Some(task) = worker_task {
        let _ = task.await;
    }
    if let Some(task) = periodic_task {
        let _ = task.await;
    }
    if let Some(task) = shop_webhooks_task {
        let _ = task.await;
    }
    let _ = risk_reload_task.await;
    if let Some(task) = inbound_smtp_task {
        let _ = task.await;
    }
    db.close().await;
    Ok(())
}

/// Checks the risk source files every 30 s and reloads them when one changed;
/// a file that fails to load keeps the previous data.
async fn watch_risk_sources(
    risk: Arc<engine::risk::Assessor>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        let r = risk.clone();
        match tokio::task::spawn_blocking(move || r.reload_if_changed()).await {
            Ok(Ok(true)) => tracing::info!("risk sources reloaded"),
            Ok(Ok(false)) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "risk sources changed but did not load; keeping the previous ones")
            }
            Err(e) => tracing::warn!(error = %e, "risk source reload failed"),
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("REBOUND_USER_PASSWORD") {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        return Ok(rpassword::prompt_password("Password: ")?);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// `rebound bounce classify`: prints one JSON line per recipient; a file that
/// cannot be read or parsed prints an `error` line and the exit code is 1.
fn classify_files(files: &[String]) -> anyhow::Result<()> {
    use std::io::Read;
    let classifier = engine::bounce::Classifier::shared();
    let mut failures = 0;
    for file in files {
        let raw = if file == "-" {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).map(|_| buf)
        } else {
            std::fs::read(file)
        };
        let line = match raw
            .map_err(|e| e.to_string())
            .and_then(|raw| classifier.classify_message(&raw).map_err(|e| e.to_string()))
        {
            // A message that reports nobody (not a bounce, or a format nothing recognises)
            // says so rather than printing nothing.
            Ok(verdicts) if verdicts.is_empty() => {
                serde_json::json!({ "file": file, "kind": "not_a_bounce", "recipients": 0 })
                    .to_string()
            }
            Ok(verdicts) => verdicts
                .iter()
                .map(|v| {
                    serde_json::json!({
                        "file": file,
                        "recipient": v.recipient,
                        "kind": v.kind,
                        "reason": v.verdict.reason.as_str(),
                        "class": v.verdict.class.as_str(),
                        "hard_bounce": v.hard_bounce,
                        "status": v.reply.enhanced,
                        "reply_code": v.reply.code,
                        "rule": v.verdict.rule_id,
                        "mta": v.report.mta,
                        "diagnostic": v.reply.text,
                    })
                    .to_string()
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => {
                failures += 1;
                serde_json::json!({ "file": file, "error": e }).to_string()
            }
        };
        if !line.is_empty() {
            println!("{line}");
        }
    }
    if failures > 0 {
        anyhow::bail!("{failures} file(s) could not be classified");
    }
    Ok(())
}

async fn risk_command(cmd: RiskCommand, config: &Config) -> anyhow::Result<()> {
    let db = bootstrap::open_database(config).await?;
    let now = SystemClock::new().now_ms();
    match cmd {
        RiskCommand::Calibration { days } => {
            if !(1..=3650).contains(&days) {
                anyhow::bail!("--days must be 1 to 3650");
            }
            let deciles = engine::risk::calibration::deciles(&db, now - days * 86_400_000).await?;
            if deciles.is_empty() {
                println!("no scored orders in the last {days} days");
            } else {
                print!("{}", engine::risk::calibration::table(&deciles));
            }
        }
    }
    Ok(())
}

async fn privacy_command(cmd: PrivacyCommand, config: &Config) -> anyhow::Result<()> {
    let db = bootstrap::open_database(config).await?;
    let now = SystemClock::new().now_ms();
    match cmd {
        PrivacyCommand::Retention => {
            let Some(r) = engine::retention::run_now(&db, now, &config.privacy).await? else {
                anyhow::bail!(
                    "another process is running the retention pass; try again in a few minutes"
                );
            };
            println!(
                "retention: {} raw bounce messages blanked, {} client IPs truncated, {} delivered orders deleted, \
                 {} audit-log IPs truncated, {} shop webhook events deleted, {} webhook rejection counts deleted, \
                 {} stale sign-in throttle entries deleted, {} disabled staff accounts anonymised",
                r.bounce_raw_blanked,
                r.ips_truncated,
                r.orders_deleted,
                r.audit_ips_truncated,
                r.webhook_events_deleted,
                r.webhook_rejections_deleted,
                r.login_throttles_deleted,
                r.users_anonymised
            );
        }
        PrivacyCommand::Erase { email } => {
            let r = engine::erasure::erase(&db, now, &email, &Actor::cli()).await?;
            // Masked here too: terminal output ends up in logs and tickets.
            println!(
                "erased {}: {} orders anonymised, {} bounces, {} captured mails, {} links, {} SMS/calls, {} audit entries masked; the address stays suppressed as {}",
                engine::privacy::mask_email(&email.trim().to_lowercase()),
                r.orders,
                r.bounces,
                r.outbox,
                r.links,
                r.sms,
                r.audit_entries,
                r.suppressed_as
            );
        }
    }
    db.close().await;
    Ok(())
}

async fn demo_command(cmd: DemoCommand, config: &Config) -> anyhow::Result<()> {
    // A client of the API: it needs no database of its own.
    if let DemoCommand::Live {
        url,
        api_key,
        per_minute,
        count,
        seed,
    } = cmd
    {
        return crate::demo_live::run(crate::demo_live::LiveOptions {
            url,
            api_key,
            per_minute,
            count,
            seed,
        })
        .await;
    }
    let db = bootstrap::open_database(config).await?;
    let now = SystemClock::new().now_ms();
    match cmd {
        DemoCommand::Seed {
            orders,
            days,
            seed,
            force,
            if_empty,
        } => {
            if if_empty && engine::demo::has_orders(&db).await? {
                println!("the database already has orders: no demo history seeded");
                db.close().await;
                return Ok(());
            }
            if let Some(pool) = engine::demo::real_relay(&db).await?
                && !force
            {
                anyhow::bail!(
                    "sender pool {pool} relays real mail; demo data belongs on a database whose pools only capture (--force to seed anyway)"
                );
            }
            let started = std::time::Instant::now();
            let s = engine::demo::seed(&db, now, &engine::demo::SeedOptions { orders, days, seed })
                .await?;
            println!(
                "seeded {} demo orders over {days} days ({} from VPN addresses, {} held, {} reached, {} open support cases) in {:.1} s",
                s.orders,
                s.vpn,
                s.held,
                s.reached,
                s.open_cases,
                started.elapsed().as_secs_f64()
            );
        }
        DemoCommand::Clear => {
            let n = engine::demo::clear(&db, now).await?;
            println!("removed {n} demo orders");
        }
        DemoCommand::Live { .. } => {}
    }
    db.close().await;
    Ok(())
}

async fn apikey_command(cmd: ApiKeyCommand, config: &Config) -> anyhow::Result<()> {
    let db = bootstrap::open_database(config).await?;
    let now = SystemClock::new().now_ms();
    match cmd {
        ApiKeyCommand::Create { name } => {
            let created = engine::apikeys::create_by(&db, now, &Actor::cli(), &name).await?;
            // The only time the secret exists outside the caller's hands.
            println!("{}", created.secret);
            eprintln!(
                "API key {} ({}) created; store it now, it is not shown again.",
                created.key.id, created.key.name
            );
        }
        ApiKeyCommand::List => {
            println!(
                "{:<5} {:<24} {:<12} {:<22} status",
                "id", "name", "prefix", "last used"
            );
            for k in engine::apikeys::list(&db).await? {
                println!(
                    "{:<5} {:<24} {:<12} {:<22} {}",
                    k.id,
                    k.name,
                    k.prefix,
                    k.last_used_at
                        .map(engine::clock::format_utc)
                        .unwrap_or_else(|| "never".into()),
                    if k.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    }
                );
            }
        }
        ApiKeyCommand::Revoke { id } => {
            let k = engine::apikeys::revoke_by(&db, now, &Actor::cli(), id).await?;
            println!("revoked API key {} ({})", k.id, k.name);
        }
    }
    db.close().await;
    Ok(())
}

async fn user_command(cmd: UserCommand, config: &Config) -> anyhow::Result<()> {
    let db = bootstrap::open_database(config).await?;
    let clock = SystemClock::new();
    match cmd {
        UserCommand::Add { email, role, name } => {
            let password = read_password()?;
            let display_name =
                name.unwrap_or_else(|| email.split('@').next().unwrap_or("").to_string());
            let user = accounts::create_user_by(
                &db,
                clock.now_ms(),
                &Actor::cli(),
                NewUser {
                    email,
                    display_name,
                    role,
                    password,
                },
            )
            .await?;
            println!("added {} ({})", user.email, user.role);
        }
        UserCommand::List => {
            let users = accounts::list_users(&db).await?;
            println!(
                "{:<6} {:<36} {:<8} {:<9} last sign-in",
                "id", "email", "role", "status"
            );
            for u in users {
                println!(
                    "{:<6} {:<36} {:<8} {:<9} {}",
                    u.id,
                    u.email,
                    u.role,
                    if u.disabled { "disabled" } else { "active" },
                    u.last_login_at
                        .map(engine::clock::format_utc)
                        .unwrap_or_else(|| "never".into())
                );
            }
        }
    }
    db.close().await;
    Ok(())
}

/// `--role`: a refusal that names the roles there are.
fn parse_role(text: &str) -> Result<Role, String> {
    text.parse()
        .map_err(|_| format!("unknown role '{text}' (agent, manager or admin)"))
}
