//! `[delivery]`: retries, leases, SMTP timeouts by stage, batches.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// Domain of the VERP return path (`bounce+<token>@…`) and of Message-IDs.
    pub bounce_domain: String,
    /// Waits after the 1st, 2nd, 3rd… soft failure, in seconds; then the order is held.
    pub retry_delays_seconds: Vec<i64>,
    /// Seconds a job's lease lasts. A live worker renews its leases every third
    /// of this, so only a dead process's jobs wait for it to run out.
    pub lease_seconds: i64,
    /// A cap on every stage of `smtp_timeouts` (for impatient setups and tests).
    pub smtp_timeout_seconds: i64,
    /// Seconds each SMTP stage may wait (RFC 5321 §4.5.3.2), and the wait for a
    /// free relay connection.
    pub smtp_timeouts: SmtpTimeoutsConfig,
    /// Jobs a worker claims at a time.
    pub batch_size: i64,
    /// Batches a worker process sends at once, each claimed by its own loop
    /// (so one waiting for the database or a slow relay does not idle the
    /// others). A killed process can repeat up to `send_loops × batch_size` sends.
    pub send_loops: i64,
    /// On SIGTERM, seconds the sends in flight may take to finish before they are abandoned.
    pub shutdown_grace_seconds: i64,
}

/// `[delivery.smtp_timeouts]`: RFC 5321's values where it names one, Postfix's
/// `smtp_*_timeout` otherwise.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpTimeoutsConfig {
    /// TCP connect.
    pub connect_seconds: i64,
    /// The 220 greeting (and an implicit TLS handshake).
    pub greeting_seconds: i64,
    /// EHLO, STARTTLS, AUTH, RSET, NOOP.
    pub command_seconds: i64,
    /// The reply to MAIL FROM.
    pub mail_seconds: i64,
    /// The reply to RCPT TO.
    pub rcpt_seconds: i64,
    /// The 354 reply to DATA.
    pub data_init_seconds: i64,
    /// Each write of the message data.
    pub data_block_seconds: i64,
    /// The reply to the final dot; past it the outcome is unknown.
    pub final_reply_seconds: i64,
    /// Waiting for a free connection of the pool (queueing, never a relay failure).
    pub queue_seconds: i64,
}

impl Default for SmtpTimeoutsConfig {
    fn default() -> Self {
        Self {
            connect_seconds: 30,
            greeting_seconds: 300,
            command_seconds: 300,
            mail_seconds: 300,
            rcpt_seconds: 300,
            data_init_seconds: 120,
            data_block_seconds: 180,
            final_reply_seconds: 600,
            queue_seconds: 60,
        }
    }
}

impl SmtpTimeoutsConfig {
    pub(super) fn all(&self) -> [i64; 9] {
        [
            self.connect_seconds,
            self.greeting_seconds,
            self.command_seconds,
            self.mail_seconds,
            self.rcpt_seconds,
            self.data_init_seconds,
            self.data_block_seconds,
            self.final_reply_seconds,
            self.queue_seconds,
        ]
    }
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            bounce_domain: "bounce.rebound.local".into(),
            retry_delays_seconds: vec![300, 1800, 7200],
            lease_seconds: 15,
            smtp_timeout_seconds: 600,
            smtp_timeouts: SmtpTimeoutsConfig::default(),
            batch_size: 256,
            send_loops: 4,
            shutdown_grace_seconds: 20,
        }
    }
}
