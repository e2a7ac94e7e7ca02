//! The sign-in gate decides on the normalised path: dot segments (plain or
//! percent-encoded), encoded slashes and double slashes never reach a staff
//! page without a session. Requests go over a raw HTTP/1.1 connection,
//! because reqwest (the `url` crate) would resolve the dot segments itself
//! before sending.

mod support;

use engine::accounts::Role;
use reqwest::cookie::CookieStore;
use std::sync::Arc;
use support::{PASSWORD, TestServer, servers, test_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Answer {
    status: u16,
    location: Option<String>,
    body: String,
}

/// One request with the path exactly as given, `Connection: close`.
async fn raw_request(srv: &TestServer, method: &str, path: &str, cookie: Option<&str>) -> Answer {
    let addr = srv.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let cookie = cookie
        .map(|c| format!("cookie: {c}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\n{cookie}content-length: 0\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let location = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("location"))
        })
        .map(|(_, v)| v.trim().to_string());
    Answer {
        status,
        location,
        body: body.to_string(),
    }
}

/// Paths that resolve to `/admin/users` by RFC 3986 (or by a router that
/// ignores empty segments).
const RESOLVE_TO_ADMIN_USERS: &[&str] = &[
    "/r/../admin/users",
    "/pkg/../admin/users",
    "/api/../admin/users",
    "/fn/../admin/users",
    "/login/../admin/users",
    "/r/%2e%2e/admin/users",
    "/pkg/%2E%2E/admin/users",
    "/api/.%2e/admin/users",
    "/r/x/../../admin/users",
    "/r/./../admin/users",
    "/pkg/../%61dmin/users",
    "//admin/users",
    "/admin//users",
    "/r/../../../admin/users",
];

/// Paths that only a decoding or backslash-tolerant router would read as
/// the admin area: refused or sent to sign-in, never rendered.
const ENCODED_SEPARATORS: &[&str] = &[
    "/r/..%2fadmin%2fusers",
    "/r/..%2Fadmin/users",
    "/pkg/..%5cadmin%5cusers",
    "/api/%2e%2e%2fadmin%2fusers",
];

#[tokio::test]
async fn without_a_session_every_spelling_of_a_staff_path_goes_to_sign_in() {
    for srv in servers(test_config()).await {
        let b = srv.backend();
        let plain = raw_request(&srv, "GET", "/admin/users", None).await;
        assert_eq!(plain.status, 303, "[{b}] {}", plain.body);
        assert_eq!(plain.location.as_deref(), Some("/login?next=/admin/users"));
        for path in RESOLVE_TO_ADMIN_USERS {
            for method in ["GET", "HEAD"] {
                let a = raw_request(&srv, method, path, None).await;
                assert_eq!(
                    (a.status, a.location.as_deref()),
                    (303, Some("/login?next=/admin/users")),
                    "[{b}] {method} {path}: {}",
                    a.body
                );
                assert!(!a.body.contains("topbar"), "[{b}] {path} rendered a page");
            }
        }
        for path in ENCODED_SEPARATORS {
            let a = raw_request(&srv, "GET", path, None).await;
            let to_sign_in = a.status == 303
                && a.location
                    .as_deref()
                    .is_some_and(|l| l.starts_with("/login?next="));
            assert!(
                to_sign_in || (400..500).contains(&a.status),
                "[{b}] {path}: {} {:?}",
                a.status,
                a.location
            );
            assert!(!a.body.contains("topbar"), "[{b}] {path} rendered a page");
        }
        // The query survives into `next`, normalised path first.
        let a = raw_request(&srv, "GET", "/r/../admin/audit?before=5", None).await;
        assert_eq!(
            a.location.as_deref(),
            Some("/login?next=/admin/audit%3Fbefore%3D5"),
            "[{b}]"
        );
        // Public paths stay public, in their normal form only.
        let a = raw_request(&srv, "GET", "/login", None).await;
        assert_eq!(a.status, 200, "[{b}] sign-in page");
        let a = raw_request(&srv, "GET", "/login/./", None).await;
        assert_eq!(
            (a.status, a.location.as_deref()),
            (308, Some("/login/")),
            "[{b}]"
        );
        // Anything but a page read on a path not in normal form is refused.
        let a = raw_request(&srv, "POST", "/fn/../fn/auth/logout", None).await;
        assert_eq!(a.status, 400, "[{b}] {}", a.body);
        srv.stop().await;
    }
}

#[tokio::test]
async fn with_a_session_a_path_is_served_only_in_its_normal_form() {
    for srv in servers(test_config()).await {
        let b = srv.backend();
        srv.add_user("admin@example.com", Role::Admin).await;
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let c = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        assert_eq!(srv.login(&c, "admin@example.com", PASSWORD).await.0, 200);
        let base: reqwest::Url = srv.base.parse().expect("url");
        let cookie = jar
            .cookies(&base)
            .and_then(|v| v.to_str().ok().map(str::to_string))
            .expect("session cookie");

        let page = raw_request(&srv, "GET", "/admin/users", Some(&cookie)).await;
        assert_eq!(page.status, 200, "[{b}] the page itself");
        assert!(page.body.contains("admin@example.com"), "[{b}]");
        for path in RESOLVE_TO_ADMIN_USERS {
            let a = raw_request(&srv, "GET", path, Some(&cookie)).await;
            assert_eq!(
                (a.status, a.location.as_deref()),
                (308, Some("/admin/users")),
                "[{b}] {path}"
            );
        }
        srv.stop().await;
    }
}
