//! The `[esp_webhooks]` section of the configuration: the ESP webhooks own
//! their settings and `config` composes them (so nothing here reads the rest
//! of `Config`). [`Registry::new`](super::registry::Registry::new) builds the
//! verifiers from it.

use serde::{Deserialize, Serialize};

/// Incoming ESP event webhooks (bounce / complaint / delivery events).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EspWebhooksConfig {
    /// Amazon SES via SNS: topic ARNs accepted (empty: the SES endpoint is off).
    pub sns_topic_arns: Vec<String>,
    /// Hosts the SNS signing certificate and subscribe URL may be fetched from (a regex).
    pub sns_host_pattern: String,
    /// Allow `http://` certificate URLs (tests only; SNS always uses https).
    pub sns_allow_http: bool,
    /// SendGrid Event Webhook verification key (base64 of the P-256 public key); none: off.
    pub sendgrid_public_key: Option<String>,
    /// Postmark webhook basic-auth user and password; none: off. Secret.
    pub postmark_username: Option<String>,
    pub postmark_password: Option<String>,
    /// Mailgun HTTP webhook signing key; none: off. Secret.
    pub mailgun_signing_key: Option<String>,
    /// Postmark basic-auth credentials, `user:password` each, several at once while rotating
    /// (beside the older `postmark_username` / `postmark_password` pair). Secret.
    pub postmark_credentials: Vec<String>,
    /// Postal: the `p=` value of the Postal server's DNS record (RSA public key, base64);
    /// none: off.
    pub postal_public_key: Option<String>,
    /// SparkPost webhook basic auth, `user:password` each; empty: off. Secret.
    pub sparkpost_credentials: Vec<String>,
    /// Brevo webhook basic auth (in the webhook URL), `user:password` each; empty: off. Secret.
    pub brevo_credentials: Vec<String>,
    /// Mailjet event URL basic auth, `user:password` each; empty: off. Secret.
    pub mailjet_credentials: Vec<String>,
    /// Resend (Svix) endpoint signing secret, `whsec_…`; none: off. Secret.
    pub resend_signing_secret: Option<String>,
    /// MailerSend webhook signing secret; none: off. Secret.
    pub mailersend_signing_secret: Option<String>,
    /// Mandrill webhook key; none: off. Secret.
    pub mandrill_webhook_key: Option<String>,
    /// The webhook URL exactly as entered in Mandrill (it is signed); none: `public_url` +
    /// `/api/v1/webhooks/mandrill`.
    pub mandrill_webhook_url: Option<String>,
    /// Signed timestamps older than this many seconds are refused (replays).
    pub max_age_seconds: i64,
}

impl Default for EspWebhooksConfig {
    fn default() -> Self {
        Self {
            sns_topic_arns: Vec::new(),
            sns_host_pattern: r"^sns\.[a-z0-9-]+\.amazonaws\.com$".into(),
            sns_allow_http: false,
            sendgrid_public_key: None,
            postmark_username: None,
            postmark_password: None,
            mailgun_signing_key: None,
            postmark_credentials: Vec::new(),
            postal_public_key: None,
            sparkpost_credentials: Vec::new(),
            brevo_credentials: Vec::new(),
            mailjet_credentials: Vec::new(),
            resend_signing_secret: None,
            mailersend_signing_secret: None,
            mandrill_webhook_key: None,
            mandrill_webhook_url: None,
            max_age_seconds: 600,
        }
    }
}
