//! HTTP basic auth for the providers that offer nothing else (Postmark, SparkPost, Brevo,
//! Mailjet: the credentials go into the webhook URL, `https://user:pass@host/...`), and the
//! HMAC helpers the signing providers share.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};

use super::{EspError, Rejection, ct_eq};

/// Checks HTTP basic auth against a list of `user:password` pairs, so credentials can be
/// rotated: configure the new pair beside the old one, change the provider's URL, then drop
/// the old pair.
#[derive(Clone)]
pub struct BasicAuth {
    accepted: Vec<Vec<u8>>,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BasicAuth {{ {} pairs }}", self.accepted.len())
    }
}

impl BasicAuth {
    /// From `user:password` entries; each needs both parts.
    pub fn new<S: AsRef<str>>(pairs: &[S]) -> Result<BasicAuth, EspError> {
        let mut accepted = Vec::new();
        for (i, p) in pairs.iter().enumerate() {
            let p = p.as_ref().trim();
            match p.split_once(':') {
                Some((u, pw)) if !u.is_empty() && !pw.is_empty() => {
                    accepted.push(p.as_bytes().to_vec())
                }
                _ => {
                    return Err(EspError::Config(format!(
                        "credential {} is not `user:password`",
                        i + 1
                    )));
                }
            }
        }
        if accepted.is_empty() {
            return Err(EspError::Config("no credentials".into()));
        }
        Ok(BasicAuth { accepted })
    }

    /// Checks an `Authorization` header value.
    pub fn verify(&self, authorization: Option<&str>) -> Result<(), EspError> {
        let Some(h) = authorization else {
            return Err(EspError::unauthorized(
                Rejection::Missing,
                "basic auth credentials are missing",
            ));
        };
        let bad = || EspError::unauthorized(Rejection::BadSignature, "wrong credentials");
        let (scheme, rest) = h.trim().split_once(' ').ok_or_else(bad)?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(bad());
        }
        let given = B64.decode(rest.trim()).map_err(|_| bad())?;
        // Every pair is compared, so the time does not tell which one matched.
        let hit = self
            .accepted
            .iter()
            .fold(false, |hit, a| ct_eq(&given, a) | hit);
        if hit { Ok(()) } else { Err(bad()) }
    }
}

/// The `Authorization` value a provider sends for `user:password` (tests, simulations).
pub fn basic_authorization(pair: &str) -> String {
    format!("Basic {}", B64.encode(pair))
}

/// HMAC-SHA256 of the concatenated `parts` under `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

/// HMAC-SHA1 of the concatenated `parts` under `key` (Mandrill).
pub fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(key) else {
        return Vec::new();
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

/// A header's signature missing → 401 `missing`.
pub(crate) fn require<'a>(v: Option<&'a str>, what: &str) -> Result<&'a str, EspError> {
    v.map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| {
        EspError::unauthorized(Rejection::Missing, format!("the {what} header is missing"))
    })
}

/// The signed timestamp (Unix seconds) within `max_age_seconds` of `now_ms`.
pub(crate) fn fresh(timestamp: &str, now_ms: i64, max_age_seconds: i64) -> Result<(), EspError> {
    let stale = |why: &str| EspError::unauthorized(Rejection::Stale, why);
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| stale("the timestamp is not a number"))?;
    if (now_ms / 1000).saturating_sub(ts).abs() > max_age_seconds {
        return Err(stale("the signed timestamp is too old"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(s: &str) -> String {
        basic_authorization(s)
    }

    #[test]
    fn two_pairs_at_once_for_rotation() {
        let a = BasicAuth::new(&["postmark:old-secret", "postmark:new-secret"]).expect("pairs");
        a.verify(Some(&basic("postmark:old-secret"))).expect("old");
        a.verify(Some(&basic("postmark:new-secret"))).expect("new");
        a.verify(Some(
            &basic("postmark:new-secret").replace("Basic", "basic"),
        ))
        .expect("scheme is case-insensitive");
        for bad in [
            basic("postmark:new-secreT"),
            basic("postmark:new-secret "),
            format!("Bearer {}", B64.encode("postmark:new-secret")),
            "Basic %%%".to_string(),
            "Basic".to_string(),
            String::new(),
        ] {
            assert!(matches!(
                a.verify(Some(&bad)),
                Err(EspError::Unauthorized(Rejection::BadSignature, _))
            ));
        }
        assert!(matches!(
            a.verify(None),
            Err(EspError::Unauthorized(Rejection::Missing, _))
        ));
        assert_eq!(
            format!("{a:?}"),
            "BasicAuth { 2 pairs }",
            "no secret in Debug"
        );
        assert!(BasicAuth::new(&["nocolon"]).is_err());
        assert!(BasicAuth::new(&[":pw"]).is_err());
        assert!(BasicAuth::new::<&str>(&[]).is_err());
    }

    #[test]
    fn timestamps_must_be_fresh() {
        let now = 1_800_000_000_000;
        fresh("1800000000", now, 300).expect("now");
        fresh("1799999800", now, 300).expect("200 s old");
        assert!(fresh("1799999000", now, 300).is_err());
        assert!(fresh("1800001000", now, 300).is_err(), "future");
        assert!(fresh("soon", now, 300).is_err());
        assert_eq!(
            hex::encode(hmac_sha256(
                b"key",
                &[b"The quick brown fox ", b"jumps over the lazy dog"]
            )),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        assert_eq!(
            hex::encode(hmac_sha1(
                b"key",
                &[b"The quick brown fox jumps over the lazy dog"]
            )),
            "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"
        );
    }
}
