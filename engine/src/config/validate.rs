//! `Config::validate`: each section's values checked after loading, by
//! concern, so a bad value is refused at start with the key that holds it.

use super::Config;
use crate::error::{Error, Result};

fn bad(key: &str, why: &str) -> Result<()> {
    Err(Error::Config(format!("`{key}`: {why}")))
}

impl Config {
    pub(super) fn validate(&self) -> Result<()> {
        self.validate_access()?;
        self.validate_delivery()?;
        self.validate_channels()?;
        self.validate_operations()?;
        Ok(())
    }

    /// Where the data lives, sign-in, sessions, the risk section, secrets.
    fn validate_access(&self) -> Result<()> {
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            return bad(
                "database_url",
                "must start with sqlite:, postgres:// or postgresql://",
            );
        }
        if self.session.idle_minutes < 1 {
            return bad("session.idle_minutes", "must be at least 1");
        }
        if self.login.max_failures_per_account < 1 {
            return bad("login.max_failures_per_account", "must be at least 1");
        }
        if self.login.max_failures_per_ip < 1 {
            return bad("login.max_failures_per_ip", "must be at least 1");
        }
        if self.login.base_lockout_seconds < 1
            || self.login.max_lockout_seconds < self.login.base_lockout_seconds
        {
            return bad(
                "login.max_lockout_seconds",
                "must be at least login.base_lockout_seconds (>= 1)",
            );
        }
        self.risk.validate()?;
        if let Some(k) = &self.secrets_key {
            crate::secrets::parse_key(k)?;
        }
        Ok(())
    }

    /// Sender pool health, pacing, logging, the public URL, delivery.
    fn validate_delivery(&self) -> Result<()> {
        let h = &self.pool_health;
        let rate = |r: f64| (0.0..=1.0).contains(&r);
        if !(rate(h.bounce_demote) && rate(h.bounce_pause) && h.bounce_demote <= h.bounce_pause) {
            return bad(
                "pool_health.bounce_pause",
                "rates are fractions 0 to 1, and bounce_demote must not exceed bounce_pause",
            );
        }
        if !(rate(h.complaint_demote)
            && rate(h.complaint_pause)
            && h.complaint_demote <= h.complaint_pause)
        {
            return bad(
                "pool_health.complaint_pause",
                "rates are fractions 0 to 1, and complaint_demote must not exceed complaint_pause",
            );
        }
        if h.min_sends < 1 {
            return bad("pool_health.min_sends", "must be at least 1");
        }
        if !(self.pace.per_provider_per_second > 0.0
            && self.pace.per_provider_per_second <= 100_000.0)
        {
            return bad(
                "pace.per_provider_per_second",
                "must be above 0 (at most 100000)",
            );
        }
        if !(1..=100_000).contains(&self.pace.burst) {
            return bad("pace.burst", "must be 1 to 100000");
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return bad("log.format", "must be `text` or `json`");
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return bad("public_url", "must start with http:// or https://");
        }
        if self.delivery.retry_delays_seconds.iter().any(|d| *d < 1) {
            return bad(
                "delivery.retry_delays_seconds",
                "every delay must be at least 1 second",
            );
        }
        if self.delivery.smtp_timeout_seconds < 1 {
            return bad("delivery.smtp_timeout_seconds", "must be at least 1");
        }
        if self.delivery.smtp_timeouts.all().iter().any(|s| *s < 1) {
            return bad(
                "delivery.smtp_timeouts",
                "every timeout must be at least 1 second",
            );
        }
        if !(3..=3600).contains(&self.delivery.lease_seconds) {
            return bad("delivery.lease_seconds", "must be 3 to 3600");
        }
        if !(1..=1000).contains(&self.delivery.batch_size) {
            return bad("delivery.batch_size", "must be 1 to 1000");
        }
        if !(1..=64).contains(&self.delivery.send_loops) {
            return bad("delivery.send_loops", "must be 1 to 64");
        }
        if self.delivery.bounce_domain.is_empty()
            || self.delivery.bounce_domain.contains(['@', ' '])
        {
            return bad("delivery.bounce_domain", "must be a domain name");
        }
        Ok(())
    }

    /// The customer's channels: the shop, links, fallback, SMS, WhatsApp, shop webhooks.
    fn validate_channels(&self) -> Result<()> {
        if !self.shop.support_email.contains('@') {
            return bad("shop.support_email", "must be an email address");
        }
        crate::i18n::validate_shop(self.shop.default_locale.as_deref(), &self.shop.time_zone)
            .map_err(Error::Config)?;
        if self.links.ttl_hours < 1 {
            return bad("links.ttl_hours", "must be at least 1");
        }
        if self.links.per_ip_per_minute < 1 || self.links.per_token_per_minute < 1 {
            return bad("links.per_ip_per_minute", "rate limits must be at least 1");
        }
        if self.fallback.critical_sla_minutes < 1 || self.fallback.normal_sla_minutes < 1 {
            return bad(
                "fallback.critical_sla_minutes",
                "SLAs must be at least 1 minute",
            );
        }
        if !matches!(self.sms.provider.as_str(), "capture" | "twilio") {
            return bad("sms.provider", "must be `capture` or `twilio`");
        }
        if self.sms.provider == "twilio"
            && (self.sms.twilio_account_sid.is_none()
                || self.sms.twilio_auth_token.is_none()
                || self.sms.from_number.is_none())
        {
            return bad(
                "sms.provider",
                "`twilio` needs sms.twilio_account_sid, sms.twilio_auth_token and sms.from_number",
            );
        }
        self.whatsapp.validate(&self.sms)?;
        if let Some(url) = &self.shop_webhook.url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return bad("shop_webhook.url", "must start with http:// or https://");
            }
            if self
                .shop_webhook
                .secret
                .as_deref()
                .is_none_or(str::is_empty)
            {
                return bad(
                    "shop_webhook.secret",
                    "is required when shop_webhook.url is set",
                );
            }
        }
        Ok(())
    }

    /// Bounce intake, shutdown, metrics, privacy and the demo.
    fn validate_operations(&self) -> Result<()> {
        if regex::Regex::new(&self.esp_webhooks.sns_host_pattern).is_err() {
            return bad(
                "esp_webhooks.sns_host_pattern",
                "is not a valid regular expression",
            );
        }
        if !(1024..=crate::bounce::MAX_MESSAGE_SIZE).contains(&self.inbound_smtp.max_message_bytes)
        {
            return bad(
                "inbound_smtp.max_message_bytes",
                "must be 1024 to 10485760 (the bounce parser's limit)",
            );
        }
        if self.inbound_smtp.bind.is_some_and(|b| b == self.bind) {
            return bad(
                "inbound_smtp.bind",
                "must differ from `bind` (the web server)",
            );
        }
        if !(0..=3600).contains(&self.delivery.shutdown_grace_seconds) {
            return bad("delivery.shutdown_grace_seconds", "must be 0 to 3600");
        }
        if self.metrics.token.as_deref().is_some_and(|t| t.len() < 16) {
            return bad("metrics.token", "must be at least 16 characters");
        }
        for (key, days) in [
            ("privacy.bounce_raw_days", self.privacy.bounce_raw_days),
            ("privacy.ip_truncate_days", self.privacy.ip_truncate_days),
            (
                "privacy.delivered_order_days",
                self.privacy.delivered_order_days,
            ),
            ("privacy.webhook_days", self.privacy.webhook_days),
            (
                "privacy.disabled_user_days",
                self.privacy.disabled_user_days,
            ),
        ] {
            if days < 1 {
                return bad(key, "must be at least 1 day");
            }
        }
        if !self.demo.admin_email.contains('@') {
            return bad("demo.admin_email", "must be an email address");
        }
        Ok(())
    }
}
