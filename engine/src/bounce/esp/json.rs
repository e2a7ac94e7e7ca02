//! Small JSON and crypto helpers shared by the normalisers and verifiers.

use serde_json::Value;

use super::{EspError, MAX_BODY};

/// The value at `path` (object keys), if every step exists.
pub(crate) fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, k| cur.get(*k))
}

/// A non-empty string at `path` (numbers are given as text).
pub(crate) fn text_at(v: &Value, path: &[&str]) -> Option<String> {
    match at(v, path)? {
        Value::String(s) => {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_string())
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An RFC 3339 time (`2016-01-27T14:59:38.237Z`) as Unix milliseconds.
pub(crate) fn rfc3339_ms(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Unix seconds (integer or fractional, number or text) as milliseconds.
pub(crate) fn unix_seconds_ms(v: &Value) -> Option<i64> {
    let secs = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    // Years 1970..=9999 only; anything else is junk, not a time.
    (secs.is_finite() && (0.0..253_402_300_800.0).contains(&secs)).then_some((secs * 1000.0) as i64)
}

/// A plausible SMTP reply code (200..=599) from a number or text.
pub(crate) fn smtp_code(v: Option<&Value>) -> Option<u16> {
    let n = match v? {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (200..600).contains(&n).then_some(n as u16)
}

/// Parses a JSON body, refusing empty and oversized ones.
pub(crate) fn parse_json(body: &[u8]) -> Result<Value, EspError> {
    if body.len() > MAX_BODY {
        return Err(EspError::malformed(format!(
            "body too large: {} bytes (limit {MAX_BODY})",
            body.len()
        )));
    }
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(EspError::malformed("empty body"));
    }
    serde_json::from_slice(body).map_err(|e| EspError::malformed(format!("not valid JSON: {e}")))
}

/// Constant-time equality of two byte strings (the length is not hidden).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// The first non-empty string among `paths`.
pub(crate) fn first_text(v: &Value, paths: &[&[&str]]) -> Option<String> {
    paths.iter().find_map(|p| text_at(v, p))
}

/// The items of a body that is one event object or a batch (array) of them.
pub(crate) fn one_or_many(v: Value, what: &str) -> Result<Vec<Value>, EspError> {
    let items = match v {
        Value::Array(a) => a,
        o @ Value::Object(_) => vec![o],
        _ => {
            return Err(EspError::malformed(format!(
                "a {what} webhook is a JSON object or an array of them"
            )));
        }
    };
    if let Some(i) = items.iter().position(|x| !x.is_object()) {
        return Err(EspError::malformed(format!(
            "event {i} is not a JSON object"
        )));
    }
    Ok(items)
}

/// An event id made of several parts (`message|type|recipient|time`), for providers without a
/// single id per event; `None` when the first part (the message) is missing.
pub(crate) fn compound_id(parts: &[Option<&str>]) -> Option<String> {
    parts.first().copied().flatten()?;
    Some(
        parts
            .iter()
            .map(|p| p.unwrap_or(""))
            .collect::<Vec<_>>()
            .join("|"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn helpers_refuse_junk() {
        assert_eq!(unix_seconds_ms(&json!(1e300)), None);
        assert_eq!(unix_seconds_ms(&json!("-5")), None);
        assert_eq!(
            unix_seconds_ms(&json!(1521472262.908181)),
            Some(1521472262908)
        );
        assert_eq!(smtp_code(Some(&json!(605))), None);
        assert_eq!(smtp_code(Some(&json!("550"))), Some(550));
        assert_eq!(
            rfc3339_ms("2019-11-05T16:33:54.9070259Z"),
            Some(1572971634907)
        );
        assert!(parse_json(b"  ").is_err());
        assert!(ct_eq(b"abc", b"abc") && !ct_eq(b"abc", b"abd") && !ct_eq(b"ab", b"abc"));
        assert!(one_or_many(json!([{}, 1]), "x").is_err());
        assert_eq!(one_or_many(json!({"a": 1}), "x").map(|v| v.len()), Ok(1));
        assert_eq!(compound_id(&[None, Some("b")]), None);
        assert_eq!(
            compound_id(&[Some("m"), None, Some("t")]).as_deref(),
            Some("m||t")
        );
    }
}
