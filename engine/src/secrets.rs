//! Secrets the database holds are sealed at rest. The only ones are the
//! passwords in sender pools' relay URLs (admins edit pools in the UI, so they
//! live in the database); Twilio tokens, webhook secrets and the metrics token
//! live only in configuration. A password is stored as
//! `sealed1.<base64url(nonce ‖ XChaCha20-Poly1305 ciphertext)>` under a 32-byte
//! key from the environment (`REBOUND_SECRETS_KEY`, base64), so a database
//! dump or backup does not carry it. Without a key, a relay URL with a
//! password is refused rather than stored in clear.
//!
//! The key is process-wide ([`install`] at start-up), because the one place
//! that opens a password, `delivery::relay_url::RelayUrl::parse`, is reached from many callers.

use std::sync::RwLock;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

use crate::error::{Error, Result};

const PREFIX: &str = "sealed1.";
/// Binds a sealed value to what it is, so it cannot be moved elsewhere.
const AAD: &[u8] = b"rebound relay password";

static KEY: RwLock<Option<[u8; 32]>> = RwLock::new(None);

/// Decodes a base64 key of exactly 32 bytes.
pub fn parse_key(b64: &str) -> Result<[u8; 32]> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| {
            Error::Config("secrets_key must be base64 (e.g. `openssl rand -base64 32`)".into())
        })?;
    bytes.try_into().map_err(|_| {
        Error::Config("secrets_key must be 32 bytes (e.g. `openssl rand -base64 32`)".into())
    })
}

/// Sets (or clears) the process's key.
pub fn install(b64: Option<&str>) -> Result<()> {
    let key = b64.map(parse_key).transpose()?;
    *KEY.write().unwrap_or_else(|p| p.into_inner()) = key;
    Ok(())
}

pub fn has_key() -> bool {
    KEY.read().unwrap_or_else(|p| p.into_inner()).is_some()
}

fn key() -> Option<[u8; 32]> {
    *KEY.read().unwrap_or_else(|p| p.into_inner())
}

pub fn is_sealed(s: &str) -> bool {
    s.starts_with(PREFIX)
}

/// Seals `plain` under `key`.
pub fn seal_with(key: &[u8; 32], plain: &str) -> Result<String> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let mut nonce = [0u8; 24];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plain.as_bytes(),
                aad: AAD,
            },
        )
        .map_err(|_| Error::Internal("sealing a secret failed".into()))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
    ))
}

/// Opens a value sealed under `key`.
pub fn open_with(key: &[u8; 32], token: &str) -> Result<String> {
    let bad = || {
        Error::Config("a stored secret cannot be opened with this secrets_key (missing, changed, or the value was altered)".into())
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.strip_prefix(PREFIX).ok_or_else(bad)?)
        .map_err(|_| bad())?;
    if raw.len() < 24 + 16 {
        return Err(bad());
    }
    let (nonce, sealed) = raw.split_at(24);
    let plain = XChaCha20Poly1305::new(key.into())
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: AAD,
            },
        )
        .map_err(|_| bad())?;
    String::from_utf8(plain).map_err(|_| bad())
}

/// Opens a sealed value with the process's key.
pub fn open(token: &str) -> Result<String> {
    let key = key().ok_or_else(|| {
        Error::Config("a stored secret is sealed but REBOUND_SECRETS_KEY is not set".into())
    })?;
    open_with(&key, token)
}

/// Seals `plain` with the process's key (refused without one: a password is
/// never stored in clear).
pub fn seal(plain: &str) -> Result<String> {
    let key = key().ok_or_else(|| {
        Error::invalid(
            "relay passwords are stored encrypted: set REBOUND_SECRETS_KEY (32 bytes, base64) first",
        )
    })?;
    seal_with(&key, plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn sealed_values_open_only_with_their_key_and_unaltered() {
        let sealed = seal_with(&KEY, "s3cret:pass").expect("seal");
        assert!(is_sealed(&sealed) && !sealed.contains("s3cret"));
        assert_ne!(
            sealed,
            seal_with(&KEY, "s3cret:pass").expect("seal"),
            "fresh nonce"
        );
        assert_eq!(open_with(&KEY, &sealed).expect("open"), "s3cret:pass");
        assert!(open_with(&[8; 32], &sealed).is_err(), "another key");
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(open_with(&KEY, &altered).is_err(), "tampered");
        assert!(open_with(&KEY, "sealed1.!!").is_err());
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(parse_key("not base64!").is_err());
        assert!(parse_key("c2hvcnQ=").is_err());
        let b64 = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
        assert_eq!(parse_key(&b64).expect("ok"), [1u8; 32]);
    }
}
