//! A sender pool's relay URL: parsed, redacted for logs and the UI, and its
//! password sealed for storage (`crate::secrets` holds only the cipher; the
//! URL's syntax and its percent codec live here, so nothing in `secrets`
//! depends on delivery).

use std::fmt;

use crate::error::{Error, Result};

/// Connection security for an SMTP relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain SMTP (local or trusted relays only).
    None,
    /// Plain connection upgraded with STARTTLS, which is then required (no fallback).
    StartTls,
    /// Implicit TLS from the first byte (`smtps://`, usually port 465).
    Tls,
}

/// Where a sender pool's mail goes. Parsed from the pool's relay URL:
/// `smtp://[user:pass@]host:port` (plain, or STARTTLS when `?tls=starttls`), `smtps://…`
/// (implicit TLS), `capture://` (development: store the message, send nothing).
///
/// User and password are percent-decoded (`%40` for `@`, `%3A` for `:`). The port defaults
/// to 25 for `smtp` and 465 for `smtps`. `Debug` output never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub enum RelayUrl {
    Smtp {
        host: String,
        port: u16,
        security: Security,
        credentials: Option<(String, String)>,
    },
    Capture,
}

/// A relay URL or sender configuration that cannot work. Messages never contain the
/// password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("invalid relay URL: {0}")]
    InvalidUrl(String),
    #[error("invalid sender configuration: {0}")]
    InvalidConfig(String),
    #[error("TLS setup failed: {0}")]
    Tls(String),
}

impl RelayUrl {
    pub fn parse(s: &str) -> Result<Self, TransportError> {
        let bad = |why: &str| TransportError::InvalidUrl(why.to_string());
        let s = s.trim();
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| bad("expected scheme://… (smtp, smtps or capture)"))?;
        let scheme = scheme.to_ascii_lowercase();
        let implicit_tls = match scheme.as_str() {
            "capture" => {
                return if rest.is_empty() || rest == "/" {
                    Ok(RelayUrl::Capture)
                } else {
                    Err(bad("capture:// takes no host or options"))
                };
            }
            "smtp" => false,
            "smtps" => true,
            _ => return Err(bad("unknown scheme (expected smtp, smtps or capture)")),
        };
        let (authority, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        let authority = authority.strip_suffix('/').unwrap_or(authority);
        if authority.contains('/') {
            return Err(bad("a relay URL has no path"));
        }
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let credentials = match userinfo {
            None => None,
            Some(u) => {
                let (user, pass) = u
                    .split_once(':')
                    .ok_or_else(|| bad("credentials must be user:password"))?;
                let user = percent_decode(user).ok_or_else(|| bad("bad escape in user"))?;
                let pass = percent_decode(pass).ok_or_else(|| bad("bad escape in password"))?;
                // Stored relay URLs carry the password sealed (`crate::secrets`).
                let pass = if crate::secrets::is_sealed(&pass) {
                    crate::secrets::open(&pass)
                        .map_err(|e| TransportError::InvalidConfig(e.to_string()))?
                } else {
                    pass
                };
                if user.is_empty() {
                    return Err(bad("empty user name"));
                }
                Some((user, pass))
            }
        };
        let default_port = if implicit_tls { 465 } else { 25 };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("unclosed [ in IPv6 host"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => parse_port(p)?,
                None if after.is_empty() => default_port,
                None => return Err(bad("junk after IPv6 host")),
            };
            (h.to_string(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), parse_port(p)?),
                None => (hostport.to_string(), default_port),
            }
        };
        if host.is_empty()
            || host
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b"/?#@[]".contains(&b))
        {
            return Err(bad("missing or invalid host"));
        }
        let mut security = if implicit_tls {
            Security::Tls
        } else {
            Security::None
        };
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match (key, value.to_ascii_lowercase().as_str(), implicit_tls) {
                ("tls", "starttls", false) => security = Security::StartTls,
                ("tls", "none", false) => security = Security::None,
                ("tls", "implicit", true) => {}
                ("tls", _, _) => {
                    return Err(bad(
                        "tls= must be starttls or none for smtp://, implicit for smtps://",
                    ));
                }
                _ => return Err(bad("unknown option (only tls= is understood)")),
            }
        }
        Ok(RelayUrl::Smtp {
            host,
            port,
            security,
            credentials,
        })
    }

    /// The URL for logs and the UI: the password is replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            RelayUrl::Capture => "capture://".to_string(),
            RelayUrl::Smtp {
                host,
                port,
                security,
                credentials,
            } => {
                let scheme = if *security == Security::Tls {
                    "smtps"
                } else {
                    "smtp"
                };
                let user = match credentials {
                    Some((u, _)) => format!("{}:***@", percent_encode(u)),
                    None => String::new(),
                };
                let host = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host.clone()
                };
                let query = if *security == Security::StartTls {
                    "?tls=starttls"
                } else {
                    ""
                };
                format!("{scheme}://{user}{host}:{port}{query}")
            }
        }
    }
}

impl fmt::Debug for RelayUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RelayUrl({})", self.redacted())
    }
}

impl fmt::Display for RelayUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn parse_port(p: &str) -> Result<u16, TransportError> {
    match p.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(TransportError::InvalidUrl("invalid port".to_string())),
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~+".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The relay URL as it may be stored: a clear-text password is replaced by
/// its sealed form (percent-encoded parts stay as they are); a URL without a
/// password, or with one already sealed, is returned unchanged.
pub fn seal_relay_url(url: &str) -> Result<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Ok(url.to_string());
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return Ok(url.to_string());
    };
    let Some((user, password)) = userinfo.split_once(':') else {
        return Ok(url.to_string());
    };
    if password.is_empty() || crate::secrets::is_sealed(password) {
        return Ok(url.to_string());
    }
    if !crate::secrets::has_key() {
        return Err(Error::invalid(
            "relay passwords are stored encrypted: set REBOUND_SECRETS_KEY (32 bytes, base64) first",
        ));
    }
    let plain = percent_decode(password)
        .ok_or_else(|| Error::invalid("relay URL: bad escape in password"))?;
    Ok(format!(
        "{scheme}://{user}:{}@{host}{tail}",
        crate::secrets::seal(&plain)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_urls_parse_and_redact() {
        let u = RelayUrl::parse("smtp://mailer:s%40cret%3Ax@relay.example:587?tls=starttls")
            .expect("parse");
        assert_eq!(
            u,
            RelayUrl::Smtp {
                host: "relay.example".to_string(),
                port: 587,
                security: Security::StartTls,
                credentials: Some(("mailer".to_string(), "s@cret:x".to_string())),
            }
        );
        assert_eq!(
            u.redacted(),
            "smtp://mailer:***@relay.example:587?tls=starttls"
        );
        assert!(!format!("{u:?}").contains("cret"));
        assert_eq!(
            RelayUrl::parse("smtps://relay.example").expect("parse"),
            RelayUrl::Smtp {
                host: "relay.example".to_string(),
                port: 465,
                security: Security::Tls,
                credentials: None,
            }
        );
        assert_eq!(
            RelayUrl::parse("smtp://[::1]:2525")
                .expect("parse")
                .redacted(),
            "smtp://[::1]:2525"
        );
        assert_eq!(
            RelayUrl::parse("capture://").expect("parse"),
            RelayUrl::Capture
        );
        for bad in [
            "relay.example:25",
            "http://relay.example",
            "smtp://",
            "smtp://relay.example:0",
            "smtp://relay.example:99999",
            "smtp://relay.example/path",
            "smtp://relay.example?tls=maybe",
            "smtps://relay.example?tls=starttls",
            "smtp://relay.example?foo=1",
            "smtp://user@relay.example",
            "capture://somewhere",
        ] {
            let err = RelayUrl::parse(bad).expect_err(bad);
            assert!(matches!(err, TransportError::InvalidUrl(_)), "{bad}");
        }
        let err = RelayUrl::parse("smtp://u:hunter2@relay.example:x").expect_err("bad port");
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn percent_codec_round_trips_and_refuses_bad_escapes() {
        for s in ["plain", "s@cret:x", "a b/c?d#e%f", "jörg"] {
            assert_eq!(percent_decode(&percent_encode(s)).as_deref(), Some(s));
        }
        assert_eq!(percent_encode("a@b"), "a%40b");
        for bad in ["%", "%4", "%zz", "%ff"] {
            assert_eq!(percent_decode(bad), None, "{bad}");
        }
    }
}
