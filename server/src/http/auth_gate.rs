//! Staff pages need a signed-in session; without one a browser is sent to the
//! sign-in page (works with JavaScript off). Server functions check roles
//! themselves; this gate only spares signed-out visitors an empty page.
//!
//! The gate decides on the normalised path (RFC 3986 §6.2.2: unreserved
//! characters percent-decoded, then §5.2.4 remove_dot_segments; repeated
//! slashes collapsed), so `/r/../admin/users` or `/pkg/%2e%2e/admin` is
//! judged as the `/admin/…` it resolves to. A path not in that form is never
//! served as it is: a page read is redirected to its normal form, anything
//! else refused.

use app::ssr::auth::USER_ID_KEY;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

/// Paths anyone may fetch: sign-in, assets, server functions (they check
/// roles), the shop API (API keys), health, customer receipt links.
const PUBLIC_PREFIXES: &[&str] = &[
    "/login", "/pkg/", "/fn/", "/api/", "/healthz", "/readyz", "/metrics", "/r/", "/favicon",
];

pub async fn require_sign_in(session: Session, req: Request, next: Next) -> Response {
    let raw = req.uri().path();
    let normal = normalize_path(raw);
    let is_page_read = req.method() == Method::GET || req.method() == Method::HEAD;
    if !is_page_read {
        if normal != raw {
            return (StatusCode::BAD_REQUEST, "the path is not in normal form").into_response();
        }
        return next.run(req).await;
    }
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    if !is_public(raw) && !signed_in(&session).await {
        let target = format!("{normal}{query}");
        let to = if target == "/" {
            "/login".to_string()
        } else {
            format!("/login?next={}", urlencode(&target))
        };
        return Redirect::to(&to).into_response();
    }
    if normal != raw {
        return Redirect::permanent(&format!("{normal}{query}")).into_response();
    }
    next.run(req).await
}

async fn signed_in(session: &Session) -> bool {
    session
        .get::<i64>(USER_ID_KEY)
        .await
        .ok()
        .flatten()
        .is_some()
}

/// Public only if every reading of the path is: as sent, normalised, and
/// normalised with encoded slashes and backslashes taken as `/` (how a
/// router that decodes before it matches would see it).
fn is_public(raw: &str) -> bool {
    let loose = raw
        .replace("%2f", "/")
        .replace("%2F", "/")
        .replace("%5c", "/")
        .replace("%5C", "/")
        .replace('\\', "/");
    [raw.to_string(), normalize_path(raw), normalize_path(&loose)]
        .iter()
        .all(|p| PUBLIC_PREFIXES.iter().any(|prefix| p.starts_with(prefix)))
}

/// Unreserved characters percent-decoded (other escapes upper-cased),
/// repeated slashes collapsed, dot segments removed; always starts with `/`.
fn normalize_path(raw: &str) -> String {
    let decoded = decode_unreserved(raw);
    let mut collapsed = String::with_capacity(decoded.len() + 1);
    collapsed.push('/');
    for c in decoded.chars() {
        if !(c == '/' && collapsed.ends_with('/')) {
            collapsed.push(c);
        }
    }
    let out = remove_dot_segments(&collapsed);
    if out.starts_with('/') {
        out
    } else {
        format!("/{out}")
    }
}

/// RFC 3986 §2.3 / §6.2.2.2: `%41` is `A`, `%2e` is `.`; `%2f` stays an
/// escape (a slash inside a segment), written `%2F`.
fn decode_unreserved(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escape {
            Some(b) if b.is_ascii_alphanumeric() || b"-._~".contains(&b) => {
                out.push(char::from(b));
                i += 3;
            }
            Some(b) => {
                out.push_str(&format!("%{b:02X}"));
                i += 3;
            }
            None => {
                // Not an escape: copy the whole character through.
                let c = raw[i..].chars().next().unwrap_or('\u{FFFD}');
                out.push(c);
                i += c.len_utf8().max(1);
            }
        }
    }
    out
}

/// RFC 3986 §5.2.4, step by step.
fn remove_dot_segments(path: &str) -> String {
    let mut input = path;
    let mut out = String::with_capacity(path.len());
    let pop = |out: &mut String| match out.rfind('/') {
        Some(i) => out.truncate(i),
        None => out.clear(),
    };
    while !input.is_empty() {
        if let Some(rest) = input.strip_prefix("../") {
            input = rest;
        } else if let Some(rest) = input.strip_prefix("./") {
            input = rest;
        } else if input.starts_with("/./") {
            input = &input[2..];
        } else if input == "/." {
            input = "/";
        } else if input.starts_with("/../") {
            input = &input[3..];
            pop(&mut out);
        } else if input == "/.." {
            input = "/";
            pop(&mut out);
        } else if input == "." || input == ".." {
            input = "";
        } else {
            let start = usize::from(input.starts_with('/'));
            let end = input[start..].find('/').map_or(input.len(), |i| i + start);
            out.push_str(&input[..end]);
            input = &input[end..];
        }
    }
    out
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_queries() {
        assert_eq!(
            urlencode("/admin/audit?before=5"),
            "/admin/audit%3Fbefore%3D5"
        );
    }

    #[test]
    fn dot_segments_go_as_rfc_3986_says() {
        // RFC 3986 §5.2.4's own examples.
        assert_eq!(remove_dot_segments("/a/b/c/./../../g"), "/a/g");
        assert_eq!(remove_dot_segments("mid/content=5/../6"), "mid/6");
        assert_eq!(remove_dot_segments("/../../x"), "/x");
        assert_eq!(remove_dot_segments("/a/.."), "/");
    }

    #[test]
    fn paths_are_normalised_before_the_decision() {
        for (raw, normal) in [
            ("/admin/users", "/admin/users"),
            ("/r/../admin/users", "/admin/users"),
            ("/pkg/../admin/users", "/admin/users"),
            ("/api/%2e%2e/admin/users", "/admin/users"),
            ("/r/%2E%2e/%61dmin/users", "/admin/users"),
            ("//admin//users", "/admin/users"),
            ("/r/.%2e/./admin/users", "/admin/users"),
            ("/r/..%2fadmin", "/r/..%2Fadmin"),
            ("/a/%zz/b", "/a/%zz/b"),
            ("/ä/%C3%A4", "/ä/%C3%A4"),
            ("", "/"),
        ] {
            assert_eq!(normalize_path(raw), normal, "{raw}");
        }
    }

    #[test]
    fn a_path_is_public_only_if_every_reading_is() {
        assert!(is_public("/pkg/app.js"));
        assert!(is_public("/r/abc/receipt.pdf"));
        for staff in [
            "/admin/users",
            "/r/../admin/users",
            "/pkg/../admin/users",
            "/api/%2e%2e/admin/users",
            "/r/..%2fadmin%2fusers",
            "/r/..%5Cadmin",
            "/r/..\\admin",
            "//admin/users",
        ] {
            assert!(!is_public(staff), "{staff}");
        }
    }
}
