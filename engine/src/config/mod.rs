//! Configuration: optional `rebound.toml`, overridden by `REBOUND_…` environment
//! variables (nested keys joined with `__`, e.g. `REBOUND_SESSION__IDLE_MINUTES`),
//! and the conventional `DATABASE_URL`. Unknown keys and bad values stop start-up
//! with a message naming the key.

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

mod delivery;
mod env;
mod pools;
mod validate;
mod whatsapp;

pub use crate::bounce::esp::EspWebhooksConfig;
pub use crate::risk::{NetworkListConfig, RiskConfig};
pub use delivery::{DeliveryConfig, SmtpTimeoutsConfig};
use env::{describe, env_setting, parse_env_value, top_level_keys};
pub use pools::PoolSpec;
pub use whatsapp::{TEMPLATE_VALUES, WhatsappConfig, WhatsappTemplate};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub bind: SocketAddr,
    /// `sqlite://path` (default, embedded) or `postgres://…` (scale-out).
    pub database_url: String,
    /// The externally visible base URL (used for links and the CSRF origin check).
    pub public_url: Option<String>,
    /// Trust the first `X-Forwarded-For` address (only behind your own proxy).
    pub trust_forwarded_for: bool,
    /// 32 bytes, base64: seals relay passwords in the database (`engine::secrets`).
    /// Secret: set it in the environment (`REBOUND_SECRETS_KEY`).
    pub secrets_key: Option<String>,
    pub session: SessionConfig,
    pub login: LoginConfig,
    pub demo: DemoConfig,
    pub log: LogConfig,
    pub shop: ShopConfig,
    pub delivery: DeliveryConfig,
    pub fallback: FallbackConfig,
    pub links: LinksConfig,
    pub sms: SmsConfig,
    /// WhatsApp beside SMS (`[whatsapp]`, off by default).
    pub whatsapp: WhatsappConfig,
    pub shop_webhook: ShopWebhookConfig,
    pub esp_webhooks: EspWebhooksConfig,
    pub inbound_smtp: InboundSmtpConfig,
    pub metrics: MetricsConfig,
    pub privacy: PrivacyConfig,
    pub risk: RiskConfig,
    pub pool_health: PoolHealthConfig,
    pub pace: PaceConfig,
    /// Sender pools as code (`[[pools]]`), applied at start (`pool_file`).
    pub pools: Vec<PoolSpec>,
}

/// Who may read `/metrics`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Bearer token a scraper must present; none: only loopback peers without
    /// `X-Forwarded-For` may scrape. Secret: only in configuration.
    pub token: Option<String>,
}

/// How long personal data is kept (the retention pass; `rebound privacy retention`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// Raw bounce messages (full headers, often the customer's address) are blanked after this many days.
    pub bounce_raw_days: i64,
    /// Orders' client IP addresses are cut to their /24 (IPv4) or /48 (IPv6) after this many days.
    pub ip_truncate_days: i64,
    /// Delivered orders (and their attempts, bounces, links, messages) are deleted after this many days.
    pub delivered_order_days: i64,
    /// Shop webhook events no longer pending (delivered or given up) are deleted with
    /// their delivery tries after this many days, and so are ESP webhook rejection
    /// counts not added to for as long.
    pub webhook_days: i64,
    /// A staff account disabled this many days ago has its email and name replaced by
    /// placeholders; the row stays, so the audit log still points at it.
    pub disabled_user_days: i64,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            bounce_raw_days: 30,
            ip_truncate_days: 30,
            delivered_order_days: 365,
            webhook_days: 30,
            disabled_user_days: 90,
        }
    }
}

/// When email has failed: who gets what (see the README's fallback table).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FallbackConfig {
    /// Orders whose total (in minor units, any currency) is at least this go to support as critical.
    pub critical_total_minor: i64,
    /// Minutes support has to act on a critical held order.
    pub critical_sla_minutes: i64,
    /// Minutes support has to act on any other held order in the queue.
    pub normal_sla_minutes: i64,
    /// An accepted email with no bounce for this many seconds counts as reached.
    pub reach_window_seconds: i64,
}

/// Secure receipt links (`/r/{token}`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LinksConfig {
    /// Hours a link stays valid.
    pub ttl_hours: i64,
    /// Receipt-page requests one IP address may make per minute.
    pub per_ip_per_minute: i64,
    /// Requests one token may receive per minute.
    pub per_token_per_minute: i64,
}

impl LinksConfig {
    /// How long a new link stays valid, in milliseconds.
    pub fn ttl_ms(&self) -> i64 {
        self.ttl_hours * 3_600_000
    }
}

/// Text messages and calls to customers (agent actions from the held queue).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    /// `capture` (development: messages are kept and shown in the Outbox) or `twilio`.
    pub provider: String,
    /// Twilio's REST API base URL (tests point it at a local server).
    pub twilio_base_url: String,
    pub twilio_account_sid: Option<String>,
    /// Secret: only in configuration, never shown or logged.
    pub twilio_auth_token: Option<String>,
    /// The sending phone number (E.164) for SMS and calls.
    pub from_number: Option<String>,
}

/// The signed `receipt.held` events pushed to the shop.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ShopWebhookConfig {
    /// Where events are POSTed; none: events are only kept for the notifications API.
    pub url: Option<String>,
    /// HMAC-SHA256 signing secret. Secret: only in configuration.
    pub secret: Option<String>,
    /// Deliveries tried before an event is given up.
    pub max_attempts: i64,
    /// Seconds one delivery may take.
    pub timeout_seconds: i64,
}

/// The optional built-in SMTP listener that takes bounces for `delivery.bounce_domain`
/// straight from the MTAs returning them (point the domain's MX record at it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct InboundSmtpConfig {
    /// Address to listen on, e.g. `0.0.0.0:25`; none (the default): the listener is off.
    pub bind: Option<SocketAddr>,
    /// Largest message accepted (advertised with `SIZE`; larger ones get `552`).
    pub max_message_bytes: usize,
}

/// When the health guard (`engine::delivery::guard`) demotes or pauses a sender
/// pool. Rates are read over the last hour, day and week; a window counts once
/// it holds `min_sends` attempts, so a handful of sends cannot pause a pool.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PoolHealthConfig {
    /// Turn the guard off (rates are still shown).
    pub enabled: bool,
    /// Bounces (bad recipient, reputation block, content) per attempt that demote a pool.
    pub bounce_demote: f64,
    /// ... and that pause it.
    pub bounce_pause: f64,
    /// Complaints per accepted message that demote a pool.
    pub complaint_demote: f64,
    /// ... and that pause it.
    pub complaint_pause: f64,
    /// Attempts a window needs before its rates count.
    pub min_sends: i64,
    /// This many attempts in a row through a pool with no SMTP answer at all
    /// (refused, timed out, dropped) mark its relay unreachable: tried after
    /// every other pool until a probe gets a greeting again. 0: never.
    pub relay_failures: i64,
}

impl Default for PoolHealthConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            bounce_demote: 0.05,
            bounce_pause: 0.10,
            complaint_demote: 0.001,
            complaint_pause: 0.003,
            min_sends: 50,
            relay_failures: 5,
        }
    }
}

/// Spreading sends per (pool, recipient provider) so bursts are smoothed
/// (`engine::delivery::pace`); shaping rules may slow a pair further.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PaceConfig {
    /// Sends per second one pool may make to one recipient provider.
    pub per_provider_per_second: f64,
    /// How many sends may go at once before the spacing applies.
    pub burst: i64,
}

impl Default for PaceConfig {
    fn default() -> Self {
        Self {
            per_provider_per_second: 200.0,
            burst: 400,
        }
    }
}

impl Default for InboundSmtpConfig {
    fn default() -> Self {
        Self {
            bind: None,
            max_message_bytes: crate::bounce::MAX_MESSAGE_SIZE,
        }
    }
}

impl Default for FallbackConfig {
    fn default() -> Self {
        Self {
            critical_total_minor: 50_000,
            critical_sla_minutes: 60,
            normal_sla_minutes: 240,
            reach_window_seconds: 3600,
        }
    }
}

impl Default for LinksConfig {
    fn default() -> Self {
        Self {
            ttl_hours: 72,
            per_ip_per_minute: 30,
            per_token_per_minute: 10,
        }
    }
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            provider: "capture".into(),
            twilio_base_url: "https://api.twilio.com".into(),
            twilio_account_sid: None,
            twilio_auth_token: None,
            from_number: None,
        }
    }
}

impl Default for ShopWebhookConfig {
    fn default() -> Self {
        Self {
            url: None,
            secret: None,
            max_attempts: 8,
            timeout_seconds: 10,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ShopConfig {
    /// Shown on receipts and the customer receipt page.
    pub name: String,
    /// `https://` URL of the logo on receipts (optional).
    pub logo_url: Option<String>,
    /// Where customers write with questions about an order.
    pub support_email: String,
    /// Footer line on every receipt.
    pub footer: String,
    /// A folder with `receipt.html.j2` / `receipt.txt.j2` overriding the built-in templates.
    pub template_dir: Option<String>,
    /// The customers' language when an order names none (BCP 47, e.g. `id`);
    /// unset: the browser's on the link page, else English.
    pub default_locale: Option<String>,
    /// IANA time zone for dates customers see (`Asia/Jakarta`).
    pub time_zone: String,
    /// A folder of `<language>.ftl` files overriding or adding catalogue messages.
    pub locales_dir: Option<String>,
}

impl Default for ShopConfig {
    fn default() -> Self {
        Self {
            name: "Rebound Demo Shop".into(),
            logo_url: None,
            support_email: "support@shop.example".into(),
            footer: "Thank you for your order.".into(),
            template_dir: None,
            default_locale: None,
            time_zone: "UTC".into(),
            locales_dir: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// Minutes of inactivity after which a staff session expires.
    pub idle_minutes: i64,
    /// Set the `Secure` flag on the session cookie (turn on behind https).
    pub secure_cookie: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LoginConfig {
    /// Consecutive failures for one account before it is locked for a while.
    pub max_failures_per_account: i64,
    /// Failures from one IP address before it is locked for a while.
    pub max_failures_per_ip: i64,
    /// First lockout in seconds; doubles with each further failure.
    pub base_lockout_seconds: i64,
    /// Longest lockout in seconds.
    pub max_lockout_seconds: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DemoConfig {
    /// Create an admin with a generated password when there are no users.
    pub create_admin: bool,
    /// Email of that first admin.
    pub admin_email: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: String,
    /// A `tracing` filter such as `info` or `rebound=debug,info`.
    pub level: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 3000)),
            database_url: "sqlite://./data/rebound.db".into(),
            public_url: None,
            trust_forwarded_for: false,
            secrets_key: None,
            session: SessionConfig::default(),
            login: LoginConfig::default(),
            demo: DemoConfig::default(),
            log: LogConfig::default(),
            shop: ShopConfig::default(),
            delivery: DeliveryConfig::default(),
            fallback: FallbackConfig::default(),
            links: LinksConfig::default(),
            sms: SmsConfig::default(),
            whatsapp: WhatsappConfig::default(),
            shop_webhook: ShopWebhookConfig::default(),
            esp_webhooks: EspWebhooksConfig::default(),
            inbound_smtp: InboundSmtpConfig::default(),
            metrics: MetricsConfig::default(),
            privacy: PrivacyConfig::default(),
            risk: RiskConfig::default(),
            pool_health: PoolHealthConfig::default(),
            pace: PaceConfig::default(),
            pools: Vec::new(),
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle_minutes: 480,
            secure_cookie: false,
        }
    }
}

impl Default for LoginConfig {
    fn default() -> Self {
        Self {
            max_failures_per_account: 5,
            max_failures_per_ip: 20,
            base_lockout_seconds: 30,
            max_lockout_seconds: 900,
        }
    }
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            create_admin: true,
            admin_email: "admin@rebound.local".into(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: "text".into(),
            level: "info".into(),
        }
    }
}

impl Config {
    /// Loads defaults ← `rebound.toml` (or the file named by `REBOUND_CONFIG`)
    /// ← `REBOUND_…` ← `DATABASE_URL`, then validates.
    pub fn load() -> Result<Self> {
        let file = std::env::var_os("REBOUND_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("rebound.toml"));
        if std::env::var_os("REBOUND_CONFIG").is_some() && !file.exists() {
            return Err(Error::Config(format!(
                "REBOUND_CONFIG names {} which does not exist",
                file.display()
            )));
        }
        Self::load_from(&file, std::env::vars())
    }

    /// Loads from a given file (skipped when absent) and a given environment;
    /// `load` passes the process environment, tests pass their own.
    pub fn load_from(file: &Path, env: impl IntoIterator<Item = (String, String)>) -> Result<Self> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if file.exists() {
            figment = figment.merge(Toml::file(file));
        }
        let top_level = top_level_keys();
        let mut rebound_env = Vec::new();
        for (k, v) in &env {
            if let Some(key) = env_setting(k, &top_level)? {
                rebound_env.push((key, v.clone()));
            }
        }
        for (key, value) in rebound_env {
            // `session__idle_minutes` → key path `session.idle_minutes`.
            figment = figment.merge(Serialized::global(
                &key.replace("__", "."),
                parse_env_value(&value),
            ));
        }
        if let Some((_, url)) = env.iter().find(|(k, _)| k == "DATABASE_URL") {
            figment = figment.merge(Serialized::global("database_url", url.clone()));
        }
        let config: Config = figment.extract().map_err(|e| Error::Config(describe(&e)))?;
        config.validate()?;
        Ok(config)
    }

    /// The base of customer-facing links: `public_url`, else this server's address.
    pub fn public_base_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.bind),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres")
    }
}

#[cfg(test)]
mod tests;
