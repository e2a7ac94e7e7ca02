//! `[whatsapp]`: receipt links on WhatsApp, beside SMS. Off unless a
//! provider is named; Twilio sends business-initiated messages only as
//! pre-approved templates (a Content SID per language and its variables).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// What a template variable can carry (`variables` of a template).
pub const TEMPLATE_VALUES: &[&str] = &[
    "shop",
    "order_number",
    "customer_name",
    "link",
    "link_token",
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WhatsappConfig {
    /// `off` (default: WhatsApp is never offered), `capture` (development:
    /// messages are kept and shown in the Outbox) or `twilio`.
    pub provider: String,
    /// Twilio's REST API base URL (tests point it at a local server).
    pub twilio_base_url: String,
    /// Default: `sms.twilio_account_sid`.
    pub twilio_account_sid: Option<String>,
    /// Default: `sms.twilio_auth_token`. Secret: only in configuration.
    pub twilio_auth_token: Option<String>,
    /// The WhatsApp sender (E.164, without `whatsapp:`), e.g. `+14155238886`.
    pub from_number: Option<String>,
    /// The template used when none matches the order's language.
    pub default_language: String,
    /// Per language (BCP 47: `en`, `id`, `pt-BR`): the approved template.
    pub templates: BTreeMap<String, WhatsappTemplate>,
}

/// One approved WhatsApp template (Twilio Content Template Builder).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WhatsappTemplate {
    /// Twilio's Content SID (`HX` and 32 hex digits).
    pub content_sid: String,
    /// What fills the template's placeholders `{{1}}`, `{{2}}`, …, in order:
    /// names from [`TEMPLATE_VALUES`].
    pub variables: Vec<String>,
}

impl Default for WhatsappConfig {
    fn default() -> Self {
        Self {
            provider: "off".into(),
            twilio_base_url: "https://api.twilio.com".into(),
            twilio_account_sid: None,
            twilio_auth_token: None,
            from_number: None,
            default_language: "en".into(),
            templates: BTreeMap::new(),
        }
    }
}

impl WhatsappConfig {
    /// True when a provider is configured (WhatsApp may be offered).
    pub fn enabled(&self) -> bool {
        self.provider != "off"
    }

    /// The template for `locale` (`id-ID` → `id-ID`, then `id`), else the
    /// default language's.
    pub fn template_for(&self, locale: Option<&str>) -> Option<(&str, &WhatsappTemplate)> {
        let mut tries: Vec<String> = Vec::new();
        if let Some(l) = locale.map(str::trim).filter(|l| !l.is_empty()) {
            tries.push(l.to_string());
            if let Some((lang, _)) = l.split_once(['-', '_']) {
                tries.push(lang.to_string());
            }
        }
        tries.push(self.default_language.clone());
        tries.iter().find_map(|want| {
            self.templates
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(want))
                .map(|(k, t)| (k.as_str(), t))
        })
    }

    pub(super) fn validate(&self, sms: &super::SmsConfig) -> Result<()> {
        let bad = |key: &str, why: &str| Err(Error::Config(format!("`{key}`: {why}")));
        if !matches!(self.provider.as_str(), "off" | "capture" | "twilio") {
            return bad("whatsapp.provider", "must be `off`, `capture` or `twilio`");
        }
        for (lang, t) in &self.templates {
            let key = format!("whatsapp.templates.{lang}");
            let sid_ok = t.content_sid.len() == 34
                && t.content_sid.starts_with("HX")
                && t.content_sid[2..].bytes().all(|b| b.is_ascii_hexdigit());
            if !sid_ok {
                return bad(
                    &format!("{key}.content_sid"),
                    "must be a Twilio Content SID: HX and 32 hex digits",
                );
            }
            if let Some(v) = t
                .variables
                .iter()
                .find(|v| !TEMPLATE_VALUES.contains(&v.as_str()))
            {
                return Err(Error::Config(format!(
                    "`{key}.variables`: unknown value `{v}` (one of {})",
                    TEMPLATE_VALUES.join(", ")
                )));
            }
        }
        if self.provider != "twilio" {
            return Ok(());
        }
        if self.account_sid(sms).is_none()
            || self.auth_token(sms).is_none()
            || self.from_number.is_none()
        {
            return bad(
                "whatsapp.provider",
                "`twilio` needs whatsapp.from_number and a Twilio account (whatsapp.twilio_account_sid and whatsapp.twilio_auth_token, or the sms ones)",
            );
        }
        if self
            .from_number
            .as_deref()
            .is_some_and(|f| f.starts_with("whatsapp:"))
        {
            return bad(
                "whatsapp.from_number",
                "the number alone (E.164); Rebound adds `whatsapp:`",
            );
        }
        if self.template_for(None).is_none() {
            return bad(
                "whatsapp.templates",
                "`twilio` needs an approved template for whatsapp.default_language",
            );
        }
        Ok(())
    }

    /// The Twilio account: this section's, else the SMS one.
    pub fn account_sid<'a>(&'a self, sms: &'a super::SmsConfig) -> Option<&'a str> {
        self.twilio_account_sid
            .as_deref()
            .or(sms.twilio_account_sid.as_deref())
            .filter(|s| !s.is_empty())
    }

    /// The Twilio auth token: this section's, else the SMS one.
    pub fn auth_token<'a>(&'a self, sms: &'a super::SmsConfig) -> Option<&'a str> {
        self.twilio_auth_token
            .as_deref()
            .or(sms.twilio_auth_token.as_deref())
            .filter(|s| !s.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(sid: &str) -> WhatsappTemplate {
        WhatsappTemplate {
            content_sid: sid.into(),
            variables: vec!["shop".into(), "order_number".into(), "link".into()],
        }
    }

    const EN: &str = "HX0123456789abcdef0123456789abcdef";
    const ID: &str = "HXfedcba9876543210fedcba9876543210";

    #[test]
    fn templates_by_language_then_default() {
        let mut c = WhatsappConfig::default();
        c.templates.insert("en".into(), template(EN));
        c.templates.insert("id".into(), template(ID));
        assert_eq!(c.template_for(Some("id-ID")).map(|t| t.0), Some("id"));
        assert_eq!(c.template_for(Some("ID")).map(|t| t.0), Some("id"));
        assert_eq!(c.template_for(Some("de-DE")).map(|t| t.0), Some("en"));
        assert_eq!(
            c.template_for(None).map(|t| t.1.content_sid.as_str()),
            Some(EN)
        );
    }

    #[test]
    fn twilio_needs_an_account_a_sender_and_a_default_template() {
        let sms = crate::config::SmsConfig::default();
        let mut c = WhatsappConfig {
            provider: "twilio".into(),
            ..WhatsappConfig::default()
        };
        assert!(c.validate(&sms).is_err());
        c.twilio_account_sid = Some("AC1".into());
        c.twilio_auth_token = Some("t".into());
        c.from_number = Some("+14155238886".into());
        let e = c.validate(&sms).expect_err("no template");
        assert!(e.to_string().contains("default_language"), "{e}");
        c.templates.insert("en".into(), template(EN));
        c.validate(&sms).expect("valid");
        c.templates.insert("id".into(), template("HX123"));
        let e = c.validate(&sms).expect_err("bad sid");
        assert!(
            e.to_string().contains("whatsapp.templates.id.content_sid"),
            "{e}"
        );
        c.templates.insert(
            "id".into(),
            WhatsappTemplate {
                content_sid: ID.into(),
                variables: vec!["password".into()],
            },
        );
        let e = c.validate(&sms).expect_err("bad variable");
        assert!(e.to_string().contains("unknown value `password`"), "{e}");
    }

    #[test]
    fn the_account_defaults_to_the_sms_one() {
        let sms = crate::config::SmsConfig {
            twilio_account_sid: Some("ACsms".into()),
            twilio_auth_token: Some("sms-token".into()),
            ..crate::config::SmsConfig::default()
        };
        let mut c = WhatsappConfig::default();
        assert_eq!(c.auth_token(&sms), Some("sms-token"));
        c.twilio_auth_token = Some("wa-token".into());
        assert_eq!(c.auth_token(&sms), Some("wa-token"));
        assert_eq!(c.account_sid(&sms), Some("ACsms"));
    }
}
