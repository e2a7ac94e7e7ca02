//! Text messages, WhatsApp messages and voice calls to customers: an agent's
//! action from the held queue, or a fallback. Every message and call is a row
//! in `sms_messages` (`kind`: `sms`, `whatsapp`, `call`), whichever provider
//! handled it:
//!
//! - `capture` (development): the row is stored with status `captured`;
//!   nothing leaves the machine. The Outbox page shows these.
//! - `twilio`: Twilio's REST API ([`twilio`]); the row keeps Twilio's `sid`
//!   and status, and status callbacks (`POST /hooks/twilio/status`, signed by
//!   Twilio) move it on through [`record_status`]. An SMS that reaches
//!   `delivered` marks its order as reached (`sms_delivered`); a WhatsApp
//!   message `delivered` or `read` too (`whatsapp_delivered`).
//!
//! WhatsApp ([`whatsapp`]) has its own provider (`[whatsapp]`, off by
//! default), sends only to customers who opted in, and only approved
//! templates through Twilio.
//!
//! Phone numbers and bodies (which carry receipt links) are never logged in
//! full: logs show [`crate::privacy::mask_phone`] and the row id.

pub mod capture;
pub mod twilio;
pub mod whatsapp;

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::config::SmsConfig;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::privacy::mask_phone;
use crate::{exec_on_pool, on_pool};

pub use twilio::TwilioClient;
pub use whatsapp::WhatsappProvider;

/// One SMS or call as stored in `sms_messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct SmsRecord {
    pub id: i64,
    pub order_id: Option<i64>,
    /// `sms`, `whatsapp` or `call`.
    pub kind: String,
    /// E.164, in full (the row is the record of what was sent; logs mask it).
    pub to_phone: String,
    /// The SMS text, what the call says, or the WhatsApp template's text as
    /// Rebound rendered it (Twilio fills the approved template itself).
    pub body: String,
    /// `capture` or `twilio`.
    pub provider: String,
    /// The provider's id (Twilio's `SM…` / `CA…` sid).
    pub provider_sid: Option<String>,
    /// `captured`; `sending` while the provider is asked; then the provider's
    /// status (`queued`, `sent`, `delivered`, `undelivered`, `failed`,
    /// `ringing`, `in-progress`, `completed`, `busy`, `no-answer`, …).
    pub status: String,
    pub error: Option<String>,
    pub requested_by: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

const COLUMNS: &str = "id, order_id, kind, to_phone, body, provider, provider_sid, status, error, \
    requested_by, created_at, updated_at";

/// Longest SMS body accepted (Twilio's limit for one message).
pub const MAX_SMS_CHARS: usize = 1600;
/// Longest spoken message for a call.
pub const MAX_CALL_CHARS: usize = 2000;

/// Statuses after which a message or call changes no more (late callbacks
/// with an earlier status are ignored).
const FINAL_STATUSES: &[&str] = &[
    "captured",
    "delivered",
    "undelivered",
    "failed",
    "read",
    "canceled",
    "completed",
    "busy",
    "no-answer",
];

/// Where SMS and calls go, chosen by `sms.provider`.
#[derive(Debug, Clone)]
pub enum SmsProvider {
    /// Development: keep every message in the database, send nothing.
    Capture,
    Twilio(TwilioClient),
}

impl SmsProvider {
    /// The provider `sms.provider` names (the configuration is validated at
    /// load, so a `twilio` provider has its account, token and number).
    pub fn from_config(cfg: &SmsConfig) -> Result<Self> {
        match cfg.provider.as_str() {
            "capture" => Ok(SmsProvider::Capture),
            "twilio" => Ok(SmsProvider::Twilio(TwilioClient::from_config(cfg)?)),
            other => Err(Error::Config(format!(
                "`sms.provider`: unknown provider `{other}`"
            ))),
        }
    }

    /// The provider for the whole configuration: like [`from_config`], plus
    /// Twilio status callbacks to `{public_url}/hooks/twilio/status` when
    /// `public_url` is set.
    ///
    /// [`from_config`]: SmsProvider::from_config
    pub fn from_app_config(cfg: &crate::Config) -> Result<Self> {
        Ok(Self::from_config(&cfg.sms)?.with_public_url(cfg.public_url.as_deref()))
    }

    /// Asks Twilio to report status changes to `{public_url}/hooks/twilio/status`.
    pub fn with_public_url(self, public_url: Option<&str>) -> Self {
        match (self, public_url) {
            (SmsProvider::Twilio(c), Some(url)) => {
                SmsProvider::Twilio(c.with_status_callback(Some(status_callback_url(url))))
            }
            (other, _) => other,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            SmsProvider::Capture => capture::PROVIDER,
            SmsProvider::Twilio(_) => twilio::PROVIDER,
        }
    }

    /// Sends (or captures) a text message. The row is stored before the
    /// provider is asked, so a crash mid-request leaves a `sending` trace.
    /// A provider refusal is stored as `failed` with its message and
    /// returned as an error.
    pub async fn send_sms(
        &self,
        db: &Db,
        now: Millis,
        order_id: Option<i64>,
        to_e164: &str,
        body: &str,
        requested_by: &str,
    ) -> Result<SmsRecord> {
        validate_phone(to_e164)?;
        validate_text(body, MAX_SMS_CHARS, "the message")?;
        self.dispatch(db, now, order_id, Kind::Sms, to_e164, body, requested_by)
            .await
    }

    /// Starts (or captures) a voice call that reads `spoken_message` aloud,
    /// spoken as `language` (the language the message is written in: Twilio
    /// gets `<Say language="id-ID">`, see [`twilio::say_language`]).
    #[allow(clippy::too_many_arguments)]
    pub async fn start_call(
        &self,
        db: &Db,
        now: Millis,
        order_id: Option<i64>,
        to: &str,
        spoken_message: &str,
        language: &crate::i18n::Lang,
        requested_by: &str,
    ) -> Result<SmsRecord> {
        validate_phone(to)?;
        validate_text(spoken_message, MAX_CALL_CHARS, "the spoken message")?;
        let say_language = twilio::say_language(language);
        let out = Outgoing {
            order_id,
            kind: Kind::Call,
            to,
            body: spoken_message,
            requested_by,
            template: None,
            say_language: Some(&say_language),
        };
        dispatch(self.client(), db, now, out).await
    }

    fn client(&self) -> Option<&TwilioClient> {
        match self {
            SmsProvider::Capture => None,
            SmsProvider::Twilio(client) => Some(client),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn dispatch(
        &self,
        db: &Db,
        now: Millis,
        order_id: Option<i64>,
        kind: Kind,
        to: &str,
        body: &str,
        requested_by: &str,
    ) -> Result<SmsRecord> {
        let out = Outgoing {
            order_id,
            kind,
            to,
            body,
            requested_by,
            template: None,
            say_language: None,
        };
        dispatch(self.client(), db, now, out).await
    }
}

/// One message or call to hand to a provider.
pub(crate) struct Outgoing<'a> {
    pub order_id: Option<i64>,
    pub kind: Kind,
    pub to: &'a str,
    /// What is stored (and, for SMS and calls, sent).
    pub body: &'a str,
    pub requested_by: &'a str,
    /// WhatsApp: the approved template's Content SID and its variables (JSON).
    pub template: Option<(&'a str, &'a str)>,
    /// A call: the `<Say>` language (`id-ID`); English (`en-US`) without one.
    pub say_language: Option<&'a str>,
}

/// Stores the row, then asks Twilio (`client`) or, without one, captures it.
/// The row is stored before the provider is asked, so a crash mid-request
/// leaves a `sending` trace. A provider refusal is stored as `failed` with
/// its message and returned as an error.
pub(crate) async fn dispatch(
    client: Option<&TwilioClient>,
    db: &Db,
    now: Millis,
    out: Outgoing<'_>,
) -> Result<SmsRecord> {
    let Outgoing {
        order_id,
        kind,
        to,
        body,
        requested_by,
        template,
        say_language,
    } = out;
    let Some(client) = client else {
        let row = capture::store(db, now, order_id, kind.as_str(), to, body, requested_by).await?;
        tracing::info!(id = row.id, kind = kind.as_str(), to = %mask_phone(to), "captured (not sent)");
        return Ok(row);
    };
    let row = insert(
        db,
        NewRow {
            now,
            order_id,
            kind: kind.as_str(),
            to,
            body,
            provider: twilio::PROVIDER,
            status: "sending",
            requested_by,
        },
    )
    .await?;
    let result = match (kind, template) {
        (Kind::Sms, _) => client.send_message(to, body).await,
        (Kind::Call, _) => {
            client
                .start_call(to, body, say_language.unwrap_or("en-US"))
                .await
        }
        (Kind::Whatsapp, Some((sid, vars))) => client.send_whatsapp_template(to, sid, vars).await,
        (Kind::Whatsapp, None) => Err(twilio::TwilioError {
            status: None,
            code: None,
            message: "a WhatsApp message needs an approved template".into(),
        }),
    };
    match result {
        Ok(created) => {
            tracing::info!(
                id = row.id,
                kind = kind.as_str(),
                to = %mask_phone(to),
                sid = %created.sid,
                status = %created.status,
                "handed to Twilio"
            );
            exec_on_pool!(db, p => sqlx::query(
                "UPDATE sms_messages SET provider_sid = $1, status = $2, updated_at = $3 WHERE id = $4"
            ).bind(&created.sid).bind(&created.status).bind(now).bind(row.id).execute(p).await)?;
        }
        Err(e) => {
            // Twilio's messages may quote the number: keep it out of logs and errors.
            let why = scrub_phone(&e.to_string(), to);
            tracing::warn!(id = row.id, kind = kind.as_str(), to = %mask_phone(to), error = %why, "Twilio refused");
            exec_on_pool!(db, p => sqlx::query(
                "UPDATE sms_messages SET status = 'failed', error = $1, updated_at = $2 WHERE id = $3"
            ).bind(&why).bind(now).bind(row.id).execute(p).await)?;
            return Err(match e.status {
                Some(s) if (400..500).contains(&s) => {
                    Error::Invalid(format!("Twilio refused the {}: {why}", kind.noun()))
                }
                _ => Error::Internal(format!("Twilio failed: {why}")),
            });
        }
    }
    get(db, row.id)
        .await?
        .ok_or_else(|| Error::Internal("message vanished after insert".into()))
}

/// `https://rebound.example.com` → `https://rebound.example.com/hooks/twilio/status`.
pub fn status_callback_url(public_url: &str) -> String {
    format!("{}/hooks/twilio/status", public_url.trim_end_matches('/'))
}

/// What a row of `sms_messages` is (its `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Sms,
    Call,
    Whatsapp,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Sms => "sms",
            Kind::Call => "call",
            Kind::Whatsapp => whatsapp::KIND,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Sms => "message",
            Kind::Call => "call",
            Kind::Whatsapp => "WhatsApp message",
        }
    }
}

pub(crate) struct NewRow<'a> {
    pub now: Millis,
    pub order_id: Option<i64>,
    pub kind: &'a str,
    pub to: &'a str,
    pub body: &'a str,
    pub provider: &'a str,
    pub status: &'a str,
    pub requested_by: &'a str,
}

pub(crate) async fn insert(db: &Db, row: NewRow<'_>) -> Result<SmsRecord> {
    let sql = format!(
        "INSERT INTO sms_messages (order_id, kind, to_phone, body, provider, status, requested_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {COLUMNS}"
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql)
        .bind(row.order_id).bind(row.kind).bind(row.to).bind(row.body).bind(row.provider)
        .bind(row.status).bind(row.requested_by).bind(row.now)
        .fetch_one(p).await)?)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<SmsRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM sms_messages WHERE id = $1");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await)?)
}

/// Messages and calls whatever their provider, newest first.
pub async fn list(db: &Db, before_id: Option<i64>, limit: i64) -> Result<Vec<SmsRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM sms_messages WHERE id < $1 ORDER BY id DESC LIMIT $2");
    Ok(on_pool!(db, p => sqlx::query_as(&sql)
        .bind(before_id.unwrap_or(i64::MAX)).bind(limit.clamp(1, 500)).fetch_all(p).await)?)
}

/// What the capture provider kept, newest first (the Outbox page).
pub async fn list_captured(db: &Db, limit: i64) -> Result<Vec<SmsRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM sms_messages WHERE provider = 'capture' ORDER BY id DESC LIMIT $1"
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(limit.clamp(1, 500)).fetch_all(p).await)?)
}

/// An order's messages and calls, oldest first.
pub async fn for_order(db: &Db, order_id: i64) -> Result<Vec<SmsRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM sms_messages WHERE order_id = $1 ORDER BY id");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(order_id).fetch_all(p).await)?)
}

/// A provider's status report for the message or call with `sid`. A final
/// status is never replaced by an earlier one arriving late. When an SMS
/// reaches `delivered`, its order counts as reached (`sms_delivered`); a
/// WhatsApp message `delivered` or `read` too (`whatsapp_delivered`).
/// Returns the row after the update, or `None` for an unknown sid.
pub async fn record_status(
    db: &Db,
    now: Millis,
    sid: &str,
    status: &str,
) -> Result<Option<SmsRecord>> {
    let status = status.trim().to_ascii_lowercase();
    if status.is_empty()
        || status.len() > 40
        || !status
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-' || c == '_')
    {
        return Err(Error::invalid("unknown message status"));
    }
    let sql = format!("SELECT {COLUMNS} FROM sms_messages WHERE provider_sid = $1");
    let row: Option<SmsRecord> =
        on_pool!(db, p => sqlx::query_as(&sql).bind(sid).fetch_optional(p).await)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let is_final = |s: &str| FINAL_STATUSES.contains(&s);
    // `read` may follow `delivered`; nothing else follows a final status.
    let allowed = !is_final(&row.status) || (row.status == "delivered" && status == "read");
    if allowed && row.status != status {
        // The status compared in the WHERE makes a concurrent callback lose, not overwrite.
        exec_on_pool!(db, p => sqlx::query(
            "UPDATE sms_messages SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4"
        ).bind(&status).bind(now).bind(row.id).bind(&row.status).execute(p).await)?;
        tracing::info!(id = row.id, sid, status = %status, "provider status");
    }
    let reached_via = match row.kind.as_str() {
        "sms" => Some("sms_delivered"),
        whatsapp::KIND => Some("whatsapp_delivered"),
        _ => None,
    };
    if let Some(channel) = reached_via
        && matches!(status.as_str(), "delivered" | "read")
        && let Some(order_id) = row.order_id
    {
        crate::reach::mark(db, order_id, now, channel).await?;
    }
    get(db, row.id).await
}

/// E.164: `+`, a country code not starting with 0, 7 to 15 digits in all.
pub fn validate_phone(phone: &str) -> Result<()> {
    let digits = phone.strip_prefix('+').unwrap_or("");
    let ok = (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "the phone number must be in international format, e.g. +4915112345678",
        ))
    }
}

fn validate_text(text: &str, max: usize, what: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::invalid(format!("{what} is empty")));
    }
    if text.chars().count() > max {
        return Err(Error::invalid(format!(
            "{what} is longer than {max} characters"
        )));
    }
    Ok(())
}

/// Replaces the number (with or without `+`) in a provider's message by its mask.
fn scrub_phone(text: &str, phone: &str) -> String {
    let masked = mask_phone(phone);
    let mut out = text.replace(phone, &masked);
    if let Some(bare) = phone.strip_prefix('+')
        && !bare.is_empty()
    {
        out = out.replace(bare, &masked);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_must_be_e164() {
        assert!(validate_phone("+4915112345678").is_ok());
        assert!(validate_phone("+14155550100").is_ok());
        for bad in [
            "4915112345678",
            "+0123456789",
            "+49 151 1234",
            "+12",
            "",
            "+",
        ] {
            assert!(validate_phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scrubs_numbers_from_provider_messages() {
        let m = scrub_phone(
            "The 'To' number +4915112345678 is not a valid phone number (4915112345678).",
            "+4915112345678",
        );
        assert!(!m.contains("4915112345678"), "{m}");
        assert!(m.contains("+49********678"), "{m}");
    }

    #[test]
    fn callback_url_from_public_url() {
        assert_eq!(
            status_callback_url("https://r.example.com/"),
            "https://r.example.com/hooks/twilio/status"
        );
    }
}
