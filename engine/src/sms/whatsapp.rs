//! WhatsApp: a customer's secure receipt link as a WhatsApp message, beside
//! SMS and through the same rows (`sms_messages`, kind `whatsapp`), status
//! callbacks and Outbox.
//!
//! - `capture` (development): the message is stored with status `captured`
//!   and shown in the Outbox; nothing leaves the machine.
//! - `twilio`: Twilio's Messages API with `whatsapp:+…` addresses. WhatsApp
//!   takes only approved templates for messages a business starts, so Rebound
//!   sends the template configured for the order's language
//!   (`[whatsapp.templates.<lang>]`: `ContentSid`) with its variables
//!   (`ContentVariables`); the row keeps Rebound's own rendering of the text
//!   from the catalogue (`whatsapp-link`), in the template's language.
//!
//! Nobody is messaged without their consent: [`WhatsappProvider::send_link`]
//! refuses an order without `whatsapp_opt_in`, whoever asks.

use serde_json::{Map, Value};

use super::{Kind, Outgoing, SmsRecord, TwilioClient, dispatch, twilio};
use crate::clock::Millis;
use crate::config::{Config, WhatsappTemplate};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::links::IssuedLink;
use crate::on_pool;
use crate::orders::Order;
use crate::privacy::mask_phone;

/// The `kind` of a WhatsApp row in `sms_messages`.
pub const KIND: &str = "whatsapp";

/// `requested_by` of the messages the automatic fallback sends.
pub const FALLBACK_BY: &str = "rebound";

/// Where WhatsApp messages go, chosen by `whatsapp.provider`.
#[derive(Debug, Clone)]
pub enum WhatsappProvider {
    /// Development: keep every message in the database, send nothing.
    Capture,
    /// Twilio, with the WhatsApp sender as its `from`.
    Twilio(TwilioClient),
}

impl WhatsappProvider {
    /// The provider `whatsapp.provider` names; `None` when it is `off`. With
    /// `public_url` set, Twilio reports status changes to
    /// `{public_url}/hooks/twilio/status`.
    pub fn from_app_config(cfg: &Config) -> Result<Option<Self>> {
        let wa = &cfg.whatsapp;
        match wa.provider.as_str() {
            "off" => Ok(None),
            "capture" => Ok(Some(WhatsappProvider::Capture)),
            "twilio" => {
                let missing = || {
                    Error::Config(
                        "`whatsapp.provider`: `twilio` needs whatsapp.from_number and a Twilio account"
                            .into(),
                    )
                };
                let client = TwilioClient::new(
                    &wa.twilio_base_url,
                    wa.account_sid(&cfg.sms).ok_or_else(missing)?,
                    wa.auth_token(&cfg.sms).ok_or_else(missing)?,
                    wa.from_number.as_deref().ok_or_else(missing)?,
                    cfg.public_url.as_deref().map(super::status_callback_url),
                )?;
                Ok(Some(WhatsappProvider::Twilio(client)))
            }
            other => Err(Error::Config(format!(
                "`whatsapp.provider`: unknown provider `{other}`"
            ))),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            WhatsappProvider::Capture => super::capture::PROVIDER,
            WhatsappProvider::Twilio(_) => twilio::PROVIDER,
        }
    }

    /// Sends `issued` (a fresh secure link for `order`) on WhatsApp, in the
    /// order's language. Refused when the customer has not opted in or the
    /// order has no phone number.
    pub async fn send_link(
        &self,
        db: &Db,
        now: Millis,
        cfg: &Config,
        order: &Order,
        issued: &IssuedLink,
        requested_by: &str,
    ) -> Result<SmsRecord> {
        if let Some(why) = refusal(order) {
            return Err(Error::invalid(why));
        }
        let phone = order.customer_phone.as_deref().unwrap_or_default();
        super::validate_phone(phone)?;
        let locale = locale_of(order, cfg);
        let url = issued.url(&cfg.public_base_url());
        // Twilio: the approved template of the order's language and its values;
        // the row records the text in the template's language (what Twilio sends).
        let (client, text_locale, template) = match self {
            WhatsappProvider::Capture => (None, locale, None),
            WhatsappProvider::Twilio(client) => {
                let (language, template) = cfg.whatsapp.template_for(locale).ok_or_else(|| {
                    Error::Config("`whatsapp.templates`: no template for this language".into())
                })?;
                let values = TemplateValues {
                    shop: &cfg.shop.name,
                    order_number: &order.order_number,
                    customer_name: &order.customer_name,
                    link: &url,
                    link_token: &issued.token,
                };
                let variables = content_variables(template, &values);
                (
                    Some(client),
                    Some(language),
                    Some((template.content_sid.as_str(), variables)),
                )
            }
        };
        let body = message_text(text_locale, &cfg.shop.name, &order.order_number, &url);
        let out = Outgoing {
            order_id: Some(order.id),
            kind: Kind::Whatsapp,
            to: phone,
            body: &body,
            requested_by,
            template: template.as_ref().map(|(sid, vars)| (*sid, vars.as_str())),
            say_language: None,
        };
        dispatch(client, db, now, out).await
    }
}

/// Why `order` may not be messaged on WhatsApp, if it may not.
pub fn refusal(order: &Order) -> Option<&'static str> {
    if order.customer_phone.as_deref().is_none_or(str::is_empty) {
        Some("There is no phone number on this order.")
    } else if !order.whatsapp_opt_in {
        Some("The customer has not agreed to messages on WhatsApp.")
    } else {
        None
    }
}

/// The order's language (BCP 47): its `customer.locale`, else the shop's
/// `shop.default_locale`; `None` (English) when neither is set.
fn locale_of<'a>(order: &'a Order, cfg: &'a Config) -> Option<&'a str> {
    order
        .customer_locale
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .or(cfg.shop.default_locale.as_deref())
}

/// The message in the customer's language (the catalogue's `whatsapp-link`;
/// English when `locale` is `None` or a language without a catalogue): what
/// the capture provider keeps and what the row of a Twilio template message
/// records.
pub fn message_text(locale: Option<&str>, shop: &str, order_number: &str, link: &str) -> String {
    crate::i18n::text(
        locale.unwrap_or(crate::i18n::FALLBACK),
        "whatsapp-link",
        &[("shop", shop), ("order", order_number), ("url", link)],
    )
}

/// What a template's variables can be filled with (see
/// [`crate::config::TEMPLATE_VALUES`]).
pub struct TemplateValues<'a> {
    pub shop: &'a str,
    pub order_number: &'a str,
    pub customer_name: &'a str,
    pub link: &'a str,
    pub link_token: &'a str,
}

/// `ContentVariables`: `{"1": …, "2": …}` in the template's order. WhatsApp
/// refuses parameters with new lines, tabs or more than four spaces in a
/// row, and empty ones: each value is put on one line, spaces collapsed.
pub fn content_variables(template: &WhatsappTemplate, values: &TemplateValues<'_>) -> String {
    let mut map = Map::new();
    for (i, name) in template.variables.iter().enumerate() {
        let raw = match name.as_str() {
            "shop" => values.shop,
            "order_number" => values.order_number,
            "customer_name" => values.customer_name,
            "link" => values.link,
            "link_token" => values.link_token,
            _ => "",
        };
        map.insert((i + 1).to_string(), Value::String(one_line(raw)));
    }
    Value::Object(map).to_string()
}

fn one_line(s: &str) -> String {
    let words: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        "-".into()
    } else {
        words.join(" ")
    }
}

/// What the automatic fallback's WhatsApp message came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FallbackLink {
    /// Sent: the row.
    Sent(Box<SmsRecord>),
    /// Nothing sent: sent before (a decision taken over after a crash finds the
    /// earlier row), or WhatsApp is off.
    Skipped,
    /// It could not be sent, for this reason: the order must go to support as
    /// critical (the caller does that: `fallback::whatsapp`).
    Failed(String),
}

/// The automatic fallback's WhatsApp message: a new secure link for a held
/// order whose customer opted in. Sent once per order.
pub async fn try_fallback_link(
    db: &Db,
    now: Millis,
    cfg: &Config,
    order: &Order,
) -> Result<FallbackLink> {
    let earlier: Option<i64> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT id FROM sms_messages WHERE order_id = $1 AND kind = $2 AND requested_by = $3 LIMIT 1"
    ).bind(order.id).bind(KIND).bind(FALLBACK_BY).fetch_optional(p).await)?;
    if earlier.is_some() {
        return Ok(FallbackLink::Skipped);
    }
    let provider = match WhatsappProvider::from_app_config(cfg)? {
        Some(p) => p,
        None => return Ok(FallbackLink::Skipped),
    };
    let issued = crate::links::issue(db, now, order, KIND, FALLBACK_BY, cfg.links.ttl_ms()).await?;
    match provider
        .send_link(db, now, cfg, order, &issued, FALLBACK_BY)
        .await
    {
        Ok(row) => {
            let to = mask_phone(&row.to_phone);
            crate::orders::add_event(
                db,
                order.id,
                now,
                KIND,
                &format!(
                    "secure link #{} sent on WhatsApp to {to} ({})",
                    issued.link.id,
                    provider.name()
                ),
            )
            .await?;
            Ok(FallbackLink::Sent(Box::new(row)))
        }
        Err(e @ (Error::Invalid(_) | Error::Internal(_) | Error::Config(_))) => {
            Ok(FallbackLink::Failed(e.to_string()))
        }
        Err(e) => Err(e),
    }
}

/// After a status callback: a fallback WhatsApp message that Twilio reports
/// `failed` or `undelivered` sends its order to support as critical, unless
/// the customer was reached another way. The order and why, or `None`:
/// nothing to do. The caller opens the case (`fallback::whatsapp::after_status`).
pub async fn failed_fallback(db: &Db, row: &SmsRecord) -> Result<Option<(i64, String)>> {
    if row.kind != KIND
        || row.requested_by != FALLBACK_BY
        || !matches!(row.status.as_str(), "failed" | "undelivered")
    {
        return Ok(None);
    }
    let Some(order_id) = row.order_id else {
        return Ok(None);
    };
    let reached: Option<Option<i64>> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT reached_at FROM orders WHERE id = $1"
    ).bind(order_id).fetch_optional(p).await)?;
    if !matches!(reached, Some(None)) {
        return Ok(None);
    }
    Ok(Some((
        order_id,
        format!("WhatsApp reported it {}", row.status),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(vars: &[&str]) -> WhatsappTemplate {
        WhatsappTemplate {
            content_sid: "HX0123456789abcdef0123456789abcdef".into(),
            variables: vars.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn variables_in_the_templates_order_on_one_line() {
        let values = TemplateValues {
            shop: "Toko  Bali",
            order_number: "A-1",
            customer_name: "Putu\n\tWayan     Sari",
            link: "https://r.example.com/r/tok",
            link_token: "tok",
        };
        let json = content_variables(
            &template(&[
                "customer_name",
                "order_number",
                "link",
                "link_token",
                "shop",
            ]),
            &values,
        );
        let v: serde_json::Value = serde_json::from_str(&json).expect("json");
        assert_eq!(
            v,
            serde_json::json!({
                "1": "Putu Wayan Sari",
                "2": "A-1",
                "3": "https://r.example.com/r/tok",
                "4": "tok",
                "5": "Toko Bali",
            })
        );
        let empty = TemplateValues {
            customer_name: " \n",
            ..values
        };
        assert!(content_variables(&template(&["customer_name"]), &empty).contains(r#""1":"-""#));
    }

    #[test]
    fn the_text_follows_the_language() {
        let id = message_text(Some("id-ID"), "Toko", "A-1", "https://x/r/t");
        assert_eq!(
            id,
            "Toko: struk pesanan A-1 Anda sudah siap. Lihat di sini: https://x/r/t"
        );
        assert_eq!(message_text(Some("id"), "Toko", "A-1", "https://x/r/t"), id);
        let en = message_text(None, "Shop", "A-1", "https://x/r/t");
        assert_eq!(
            en,
            "Shop: your receipt for order A-1 is ready. View it here: https://x/r/t"
        );
        assert_eq!(message_text(Some("en"), "Shop", "A-1", "https://x/r/t"), en);
        assert_eq!(message_text(Some("de"), "Shop", "A-1", "https://x/r/t"), en);
    }
}
