//! The one table of providers: for each, how a request is verified (built once from the
//! configuration) and how its body is normalised.

use std::collections::HashMap;
use std::sync::Arc;

use super::auth::BasicAuth;
use super::mailersend::MailerSendVerifier;
use super::mailgun::MailgunVerifier;
use super::mandrill::MandrillVerifier;
use super::postal::PostalVerifier;
use super::resend::SvixVerifier;
use super::sendgrid::SendGridVerifier;
use super::ses::{SnsSettings, SnsVerifier};
use super::{EspError, EspWebhooksConfig, Normalised, Provider};

/// A provider's normaliser: the verified payload → events.
pub type Normalise = fn(&[u8]) -> Result<Normalised, EspError>;

/// The normaliser of each provider.
pub fn normaliser(p: Provider) -> Normalise {
    match p {
        Provider::Ses => super::ses::parse_notification,
        Provider::SendGrid => super::sendgrid::normalise,
        Provider::Postmark => super::postmark::normalise,
        Provider::Mailgun => super::mailgun::parse_event,
        Provider::Postal => super::postal::normalise,
        Provider::SparkPost => super::sparkpost::normalise,
        Provider::Brevo => super::brevo::normalise,
        Provider::Mailjet => super::mailjet::normalise,
        Provider::Resend => super::resend::normalise,
        Provider::MailerSend => super::mailersend::normalise,
        Provider::Mandrill => super::mandrill::normalise,
    }
}

/// How one provider's requests are authenticated.
#[derive(Debug, Clone)]
pub enum Verifier {
    /// SES: SNS's RSA signature, certificate from an allowed host, topic ours.
    Sns(Arc<SnsVerifier>),
    /// SendGrid: ECDSA P-256 over timestamp + body.
    SendGrid(SendGridVerifier),
    /// Postmark, SparkPost, Brevo, Mailjet: HTTP basic auth (a list of pairs).
    Basic(BasicAuth),
    /// Mailgun: HMAC-SHA256 over timestamp + token in the body, fresh and unused.
    Mailgun(Arc<MailgunVerifier>),
    /// Postal: RSA over the body.
    Postal(PostalVerifier),
    /// Resend: Svix's HMAC-SHA256 over id + timestamp + body.
    Svix(SvixVerifier),
    /// MailerSend: HMAC-SHA256 over the body.
    MailerSend(MailerSendVerifier),
    /// Mandrill: HMAC-SHA1 over the URL and the sorted POST fields.
    Mandrill(MandrillVerifier),
}

/// Every provider's verifier: absent when not configured, an error text when misconfigured.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    slots: HashMap<Provider, Result<Verifier, String>>,
}

fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn basic(pairs: &[String]) -> Option<Result<Verifier, String>> {
    (!pairs.is_empty()).then(|| {
        BasicAuth::new(pairs)
            .map(Verifier::Basic)
            .map_err(|e| e.to_string())
    })
}

impl Registry {
    /// The verifiers the `[esp_webhooks]` section `c` configures; `public_url`
    /// (the configuration's) gives Mandrill's default webhook URL.
    pub fn new(c: &EspWebhooksConfig, public_url: Option<&str>) -> Registry {
        let mut slots = HashMap::new();
        let mut put = |p: Provider, slot: Option<Result<Verifier, String>>| {
            if let Some(s) = slot {
                slots.insert(p, s);
            }
        };
        put(
            Provider::Ses,
            (!c.sns_topic_arns.is_empty()).then(|| {
                SnsVerifier::new(&SnsSettings {
                    topic_arns: c.sns_topic_arns.clone(),
                    host_pattern: c.sns_host_pattern.clone(),
                    allow_http: c.sns_allow_http,
                })
                .map(|v| Verifier::Sns(Arc::new(v)))
                .map_err(|e| e.to_string())
            }),
        );
        put(
            Provider::SendGrid,
            set(&c.sendgrid_public_key).map(|k| {
                SendGridVerifier::new(k)
                    .map(Verifier::SendGrid)
                    .map_err(|e| e.to_string())
            }),
        );
        // The single pair of older configurations is one more entry of the list.
        let mut postmark = c.postmark_credentials.clone();
        let postmark = match (set(&c.postmark_username), set(&c.postmark_password)) {
            (Some(u), Some(p)) => {
                postmark.push(format!("{u}:{p}"));
                basic(&postmark)
            }
            (None, None) => basic(&postmark),
            _ => Some(Err(
                "postmark_username and postmark_password must both be set".into(),
            )),
        };
        put(Provider::Postmark, postmark);
        put(
            Provider::Mailgun,
            set(&c.mailgun_signing_key)
                .map(|k| Ok(Verifier::Mailgun(Arc::new(MailgunVerifier::new(k))))),
        );
        put(
            Provider::Postal,
            set(&c.postal_public_key).map(|k| {
                PostalVerifier::new(k)
                    .map(Verifier::Postal)
                    .map_err(|e| e.to_string())
            }),
        );
        put(Provider::SparkPost, basic(&c.sparkpost_credentials));
        put(Provider::Brevo, basic(&c.brevo_credentials));
        put(Provider::Mailjet, basic(&c.mailjet_credentials));
        put(
            Provider::Resend,
            set(&c.resend_signing_secret).map(|s| {
                SvixVerifier::new(s)
                    .map(Verifier::Svix)
                    .map_err(|e| e.to_string())
            }),
        );
        put(
            Provider::MailerSend,
            set(&c.mailersend_signing_secret)
                .map(|s| Ok(Verifier::MailerSend(MailerSendVerifier::new(s)))),
        );
        put(
            Provider::Mandrill,
            set(&c.mandrill_webhook_key).map(|k| {
                // The URL entered in Mandrill; by default this server's public URL.
                let url = set(&c.mandrill_webhook_url)
                    .map(str::to_string)
                    .or_else(|| {
                        public_url
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(|u| {
                                format!("{}/api/v1/webhooks/mandrill", u.trim_end_matches('/'))
                            })
                    });
                match url {
                    Some(u) => MandrillVerifier::new(k, &u)
                        .map(Verifier::Mandrill)
                        .map_err(|e| e.to_string()),
                    None => Err("mandrill_webhook_url (or public_url) must be set".into()),
                }
            }),
        );
        Registry { slots }
    }

    /// The verifier of `p`, or why there is none.
    pub fn verifier(&self, p: Provider) -> Result<&Verifier, EspError> {
        match self.slots.get(&p) {
            Some(Ok(v)) => Ok(v),
            Some(Err(m)) => Err(EspError::Config(m.clone())),
            None => Err(EspError::NotConfigured(p)),
        }
    }

    /// The configured providers and their configuration errors, in [`Provider::ALL`] order.
    pub fn configured(&self) -> Vec<(Provider, Option<String>)> {
        Provider::ALL
            .into_iter()
            .filter_map(|p| self.slots.get(&p).map(|s| (p, s.as_ref().err().cloned())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_configured_providers_have_verifiers() {
        let mut c = EspWebhooksConfig {
            postmark_credentials: vec!["a:1".into(), "b:2".into()],
            postmark_username: Some("c".into()),
            postmark_password: Some("3".into()),
            brevo_credentials: vec!["nocolon".into()],
            mandrill_webhook_key: Some("k".into()),
            resend_signing_secret: Some("whsec_c2VjcmV0".into()),
            ..EspWebhooksConfig::default()
        };
        let r = Registry::new(&c, None);
        assert!(matches!(
            r.verifier(Provider::Postmark),
            Ok(Verifier::Basic(_))
        ));
        assert!(matches!(
            r.verifier(Provider::Resend),
            Ok(Verifier::Svix(_))
        ));
        assert!(matches!(
            r.verifier(Provider::Brevo),
            Err(EspError::Config(_))
        ));
        assert!(
            matches!(r.verifier(Provider::Mandrill), Err(EspError::Config(_))),
            "no URL to sign"
        );
        assert!(matches!(
            r.verifier(Provider::Ses),
            Err(EspError::NotConfigured(_))
        ));
        assert_eq!(
            r.configured()
                .iter()
                .map(|(p, e)| (p.as_str(), e.is_some()))
                .collect::<Vec<_>>(),
            vec![
                ("postmark", false),
                ("brevo", true),
                ("resend", false),
                ("mandrill", true)
            ]
        );
        let public_url = Some("https://rebound.example.com/");
        let r = Registry::new(&c, public_url);
        assert!(matches!(
            r.verifier(Provider::Postmark),
            Ok(Verifier::Basic(_))
        ));
        c.postmark_password = None;
        assert!(matches!(
            Registry::new(&c, public_url).verifier(Provider::Postmark),
            Err(EspError::Config(_))
        ));
        assert!(matches!(
            r.verifier(Provider::Mandrill),
            Ok(Verifier::Mandrill(_))
        ));
    }
}
