//! Twilio's REST API (2010-04-01): `Messages.json` for SMS, `Calls.json` for
//! voice calls with inline TwiML, basic auth with the account sid and auth
//! token, and the `X-Twilio-Signature` check for Twilio's status callbacks.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha1::Sha1;
use std::time::Duration;

use crate::config::SmsConfig;
use crate::error::{Error, Result};

pub const PROVIDER: &str = "twilio";

/// How long one request to Twilio may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A Twilio account's REST client. `Debug` never shows the auth token.
#[derive(Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    base_url: String,
    account_sid: String,
    auth_token: String,
    from: String,
    status_callback: Option<String>,
}

impl std::fmt::Debug for TwilioClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioClient")
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<secret>")
            .field("from", &self.from)
            .field("status_callback", &self.status_callback)
            .finish()
    }
}

/// What Twilio answered for a created message or call.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Created {
    pub sid: String,
    pub status: String,
}

/// A request Twilio refused (`status` is the HTTP status) or that never got
/// an answer (`status` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioError {
    pub status: Option<u16>,
    /// Twilio's error code (e.g. 21211 for an invalid `To` number).
    pub code: Option<i64>,
    pub message: String,
}

impl std::fmt::Display for TwilioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.status, self.code) {
            (Some(s), Some(c)) => write!(f, "{} (HTTP {s}, code {c})", self.message),
            (Some(s), None) => write!(f, "{} (HTTP {s})", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for TwilioError {}

#[derive(Deserialize)]
struct ErrorBody {
    code: Option<i64>,
    message: Option<String>,
}

impl TwilioClient {
    /// A client for `base_url` (normally `https://api.twilio.com`).
    pub fn new(
        base_url: &str,
        account_sid: &str,
        auth_token: &str,
        from: &str,
        status_callback: Option<String>,
    ) -> Result<Self> {
        if account_sid.is_empty() || auth_token.is_empty() || from.is_empty() {
            return Err(Error::Config(
                "`sms.provider`: `twilio` needs sms.twilio_account_sid, sms.twilio_auth_token and sms.from_number".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .user_agent(concat!("Rebound/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Internal(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            account_sid: account_sid.to_string(),
            auth_token: auth_token.to_string(),
            from: from.to_string(),
            status_callback,
        })
    }

    pub fn from_config(cfg: &SmsConfig) -> Result<Self> {
        let missing = || {
            Error::Config(
                "`sms.provider`: `twilio` needs sms.twilio_account_sid, sms.twilio_auth_token and sms.from_number".into(),
            )
        };
        Self::new(
            &cfg.twilio_base_url,
            cfg.twilio_account_sid.as_deref().ok_or_else(missing)?,
            cfg.twilio_auth_token.as_deref().ok_or_else(missing)?,
            cfg.from_number.as_deref().ok_or_else(missing)?,
            None,
        )
    }

    /// Twilio reports status changes to `url` (`StatusCallback`).
    pub fn with_status_callback(mut self, url: Option<String>) -> Self {
        self.status_callback = url;
        self
    }

    pub fn auth_token(&self) -> &str {
        &self.auth_token
    }

    /// `POST /2010-04-01/Accounts/{sid}/Messages.json` with `To`, `From`, `Body`.
    pub async fn send_message(&self, to: &str, body: &str) -> Result<Created, TwilioError> {
        let mut form = vec![("To", to), ("From", self.from.as_str()), ("Body", body)];
        if let Some(cb) = &self.status_callback {
            form.push(("StatusCallback", cb));
        }
        self.post("Messages.json", &form).await
    }

    /// A WhatsApp template message: `POST …/Messages.json` with `To` and
    /// `From` as `whatsapp:+…` addresses (`from` is the WhatsApp sender),
    /// `ContentSid` (the approved template) and `ContentVariables` (a JSON
    /// object of its placeholders), and no `Body`: WhatsApp accepts only
    /// approved templates for messages a business starts.
    pub async fn send_whatsapp_template(
        &self,
        to: &str,
        content_sid: &str,
        content_variables: &str,
    ) -> Result<Created, TwilioError> {
        let to = whatsapp_address(to);
        let from = whatsapp_address(&self.from);
        let mut form = vec![
            ("To", to.as_str()),
            ("From", from.as_str()),
            ("ContentSid", content_sid),
            ("ContentVariables", content_variables),
        ];
        if let Some(cb) = &self.status_callback {
            form.push(("StatusCallback", cb));
        }
        self.post("Messages.json", &form).await
    }

    /// `POST /2010-04-01/Accounts/{sid}/Calls.json` with `To`, `From` and
    /// `Twiml` that says `message` aloud in `language` (Twilio's
    /// language-REGION code, see [`say_language`]).
    pub async fn start_call(
        &self,
        to: &str,
        message: &str,
        language: &str,
    ) -> Result<Created, TwilioError> {
        let twiml = say_twiml(message, language);
        let mut form = vec![
            ("To", to),
            ("From", self.from.as_str()),
            ("Twiml", twiml.as_str()),
        ];
        if let Some(cb) = &self.status_callback {
            form.push(("StatusCallback", cb));
        }
        self.post("Calls.json", &form).await
    }

    async fn post(&self, resource: &str, form: &[(&str, &str)]) -> Result<Created, TwilioError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/{resource}",
            self.base_url, self.account_sid
        );
        let response = self
            .http
            .post(&url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .form(form)
            .send()
            .await
            .map_err(|e| TwilioError {
                status: None,
                code: None,
                message: if e.is_timeout() {
                    format!("no answer within {} s", TIMEOUT.as_secs())
                } else {
                    // Without the URL: it holds the account sid.
                    format!("request failed: {}", e.without_url())
                },
            })?;
        let status = response.status();
        let text = response.text().await.map_err(|e| TwilioError {
            status: Some(status.as_u16()),
            code: None,
            message: format!("reading the answer failed: {}", e.without_url()),
        })?;
        if !status.is_success() {
            let parsed: Option<ErrorBody> = serde_json::from_str(&text).ok();
            let (code, message) = match parsed {
                Some(ErrorBody { code, message }) => (code, message),
                None => (None, None),
            };
            return Err(TwilioError {
                status: Some(status.as_u16()),
                code,
                message: message
                    .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string()),
            });
        }
        serde_json::from_str::<Created>(&text).map_err(|e| TwilioError {
            status: Some(status.as_u16()),
            code: None,
            message: format!("unexpected answer from Twilio: {e}"),
        })
    }
}

/// `+6281234567890` → `whatsapp:+6281234567890` (Twilio's WhatsApp address).
pub fn whatsapp_address(e164: &str) -> String {
    format!("whatsapp:{}", e164.trim_start_matches("whatsapp:"))
}

/// `<Response><Say language="…">…</Say></Response>` with `language` and
/// `message` XML-escaped, and a `voice` that speaks it where Twilio's
/// default voice does not (see [`say_voice`]).
pub fn say_twiml(message: &str, language: &str) -> String {
    let voice = say_voice(language)
        .map(|v| format!(" voice=\"{}\"", xml_escape(v)))
        .unwrap_or_default();
    format!(
        "<Response><Say{voice} language=\"{}\">{}</Say></Response>",
        xml_escape(language),
        xml_escape(message)
    )
}

/// The `<Say voice>` for a language Twilio's default voice (`man`) does not
/// speak. Twilio warns that "an invalid combination of voice and language
/// may result in error and <Say> instruction failure"; its Google voices
/// cover Indonesian (`Google.id-ID-Standard-A`, in Twilio's text-to-speech
/// voice list). English and the default voice's other languages keep it.
pub fn say_voice(language: &str) -> Option<&'static str> {
    match language {
        "id-ID" => Some("Google.id-ID-Standard-A"),
        "ms-MY" => Some("Google.ms-MY-Standard-A"),
        _ => None,
    }
}

/// The `language` of `<Say>` for what is said in `lang`: Twilio names its
/// text-to-speech languages language-REGION (`en-US`, `id-ID`), so a tag
/// with a region keeps it and a bare language gets its usual one.
pub fn say_language(lang: &crate::i18n::Lang) -> String {
    let locale = lang.locale();
    let language = locale.id.language.as_str();
    if let Some(region) = locale.id.region {
        return format!("{language}-{}", region.as_str());
    }
    let region = match language {
        "en" => "US",
        "id" => "ID",
        "ms" => "MY",
        "pt" => "BR",
        "sv" => "SE",
        "da" => "DK",
        "nb" => "NO",
        "ja" => "JP",
        "ko" => "KR",
        "zh" => "CN",
        "de" | "es" | "fi" | "fr" | "it" | "nl" | "pl" | "ru" => {
            return format!("{language}-{}", language.to_ascii_uppercase());
        }
        // A bare language code; Twilio's voice for it picks the region.
        other => return other.to_owned(),
    };
    format!("{language}-{region}")
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if c.is_control() && !matches!(c, '\n' | '\r' | '\t') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Twilio's request signature: base64 of HMAC-SHA1(auth token, the full URL
/// followed by every POST parameter's name and value, sorted by name).
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut data = String::from(url);
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac = match Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) {
        Ok(m) => m,
        // HMAC takes keys of any length; this branch cannot happen.
        Err(_) => return String::new(),
    };
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The name/value pairs of an `application/x-www-form-urlencoded` body.
pub fn form_params(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// True when `header` (the `X-Twilio-Signature`) signs `url` and the
/// form-encoded `body` with `auth_token`. Compared in constant time.
pub fn verify_request(auth_token: &str, url: &str, body: &[u8], header: &str) -> bool {
    let params = form_params(body);
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(header.trim()) else {
        return false;
    };
    let Ok(expected) =
        base64::engine::general_purpose::STANDARD.decode(signature(auth_token, url, &params))
    else {
        return false;
    };
    constant_time_eq(&given, &expected)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn signature_matches_twilios_documented_example() {
        let params = pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675310"),
            ("Digits", "1234"),
            ("From", "+14158675310"),
            ("To", "+18005551212"),
        ]);
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            signature("12345", url, &params),
            "GvWf1cFY/Q7PnoempGyD5oXAezc="
        );
        let body = "To=%2B18005551212&From=%2B14158675310&Digits=1234&Caller=%2B14158675310&CallSid=CA1234567890ABCDE";
        assert!(verify_request(
            "12345",
            url,
            body.as_bytes(),
            "GvWf1cFY/Q7PnoempGyD5oXAezc="
        ));
        assert!(!verify_request(
            "wrong",
            url,
            body.as_bytes(),
            "GvWf1cFY/Q7PnoempGyD5oXAezc="
        ));
        assert!(!verify_request(
            "12345",
            "https://mycompany.com/other",
            body.as_bytes(),
            "GvWf1cFY/Q7PnoempGyD5oXAezc="
        ));
        assert!(!verify_request(
            "12345",
            url,
            body.as_bytes(),
            "not base64!"
        ));
    }

    #[test]
    fn twiml_escapes_the_message() {
        assert_eq!(
            say_twiml("Tom & Jerry's <order> \"A-1\"", "en-US"),
            "<Response><Say language=\"en-US\">Tom &amp; Jerry&apos;s &lt;order&gt; &quot;A-1&quot;</Say></Response>"
        );
    }

    #[test]
    fn the_call_speaks_the_customers_language() {
        use crate::i18n::Lang;
        let say = |tag: &str| say_language(&Lang::from_tag(tag).expect("a tag"));
        assert_eq!(say("id"), "id-ID");
        assert_eq!(
            say_twiml("Halo", "id-ID"),
            "<Response><Say voice=\"Google.id-ID-Standard-A\" language=\"id-ID\">Halo</Say></Response>"
        );
        assert_eq!(say_voice("en-US"), None);
        assert_eq!(say("id-ID"), "id-ID");
        assert_eq!(say("en"), "en-US");
        assert_eq!(say("en-GB"), "en-GB");
        // A language without a catalogue is spoken (and written) in English.
        assert_eq!(say("sw"), "en-US");
        assert_eq!(say_language(&Lang::default()), "en-US");
    }

    #[test]
    fn debug_hides_the_token() {
        let c = TwilioClient::new("http://x", "AC1", "s3cret-token", "+15005550006", None)
            .expect("client");
        assert!(!format!("{c:?}").contains("s3cret-token"));
    }
}
