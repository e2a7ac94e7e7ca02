//! Security headers on every response, through the real router on a loopback
//! port: every page of the app (as a role that may see it, and signed out),
//! the server functions, the shop API, the charts, the CSV and PDF downloads
//! and the operations endpoints. Pages name a fresh script nonce in their
//! Content-Security-Policy and allow no inline script without it; everything
//! else may run nothing at all.

mod support;

use engine::accounts::Role;
use engine::orders::AccountKind;
use std::collections::HashSet;
use support::{PASSWORD, TestServer, intake, order, servers, test_config};

/// The policy of everything that is not a page.
const NOT_A_PAGE: &str = "default-src 'none'; frame-ancestors 'none'";

/// What one response said.
struct Seen {
    what: String,
    status: u16,
    csp: String,
    html: Option<String>,
}

/// Checks the headers every response must carry; returns what the page needs
/// checked further.
async fn check(srv: &TestServer, what: &str, res: reqwest::Response, https: bool) -> Seen {
    let b = srv.backend();
    let h = res.headers().clone();
    let header = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let csp = header("content-security-policy")
        .unwrap_or_else(|| panic!("[{b}] {what}: no Content-Security-Policy"));
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "[{b}] {what}: {csp}"
    );
    assert_eq!(
        header("x-content-type-options").as_deref(),
        Some("nosniff"),
        "[{b}] {what}"
    );
    assert_eq!(
        header("referrer-policy").as_deref(),
        Some("same-origin"),
        "[{b}] {what}"
    );
    assert_eq!(
        header("x-frame-options").as_deref(),
        Some("DENY"),
        "[{b}] {what}"
    );
    let hsts = header("strict-transport-security");
    if https {
        assert_eq!(
            hsts.as_deref(),
            Some("max-age=31536000; includeSubDomains"),
            "[{b}] {what}: public_url is https"
        );
    } else {
        assert_eq!(hsts, None, "[{b}] {what}: no HSTS over plain http");
    }
    let status = res.status().as_u16();
    let is_html = header("content-type").is_some_and(|t| t.starts_with("text/html"));
    let html = if is_html {
        Some(res.text().await.unwrap_or_default())
    } else {
        assert_eq!(csp, NOT_A_PAGE, "[{b}] {what} ({status})");
        None
    };
    Seen {
        what: what.to_string(),
        status,
        csp,
        html,
    }
}

/// The nonce a page's policy names, after checking the policy and that every
/// script on the page carries it.
fn page_nonce(b: &str, seen: &Seen) -> String {
    let what = &seen.what;
    let csp = &seen.csp;
    let html = seen.html.as_deref().unwrap_or_default();
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src "))
        .unwrap_or_else(|| panic!("[{b}] {what}: no script-src in {csp}"));
    assert!(
        !script_src.contains("'unsafe-inline'") && !script_src.contains("'unsafe-eval'"),
        "[{b}] {what}: {script_src}"
    );
    for directive in [
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(
            csp.contains(directive),
            "[{b}] {what}: {directive} in {csp}"
        );
    }
    let nonce = script_src
        .split_whitespace()
        .find_map(|s| s.strip_prefix("'nonce-"))
        .and_then(|s| s.strip_suffix('\''))
        .unwrap_or_else(|| panic!("[{b}] {what}: no nonce in {script_src}"))
        .to_string();
    assert!(
        nonce.len() >= 16,
        "[{b}] {what}: a nonce must not be guessable: {nonce}"
    );
    let scripts: Vec<&str> = html
        .split("<script")
        .skip(1)
        .map(|s| s.split('>').next().unwrap_or_default())
        .collect();
    if what.starts_with("/r/") {
        // The customer's pages carry no script at all (no WASM either).
        assert!(
            scripts.is_empty(),
            "[{b}] {what}: a script on a customer page"
        );
        assert!(
            !html.contains(".wasm"),
            "[{b}] {what}: WASM on a customer page"
        );
    } else {
        assert!(!scripts.is_empty(), "[{b}] {what}: the page loads the app");
    }
    for tag in scripts {
        assert!(
            tag.contains(&format!("nonce=\"{nonce}\"")),
            "[{b}] {what}: a script without this response's nonce: <script{tag}>"
        );
    }
    nonce
}

/// Every page route of `app::App`, and the role that may see it.
const PAGES: &[(&str, Role)] = &[
    ("/", Role::Agent),
    ("/held", Role::Agent),
    ("/search", Role::Agent),
    ("/search?q=ann%40example.com", Role::Agent),
    ("/orders", Role::Manager),
    ("/orders/CSP-1", Role::Manager),
    ("/trends", Role::Manager),
    ("/flagged", Role::Manager),
    ("/pools", Role::Admin),
    ("/suppressions", Role::Admin),
    ("/admin/users", Role::Admin),
    ("/admin/audit", Role::Admin),
    ("/admin/outbox", Role::Admin),
    ("/admin/webhooks", Role::Admin),
    ("/admin/api-keys", Role::Admin),
    ("/admin/rules", Role::Admin),
    ("/no-such-page", Role::Admin),
];

/// What a signed-in staff member fetches besides pages.
const STAFF_OTHER: &[(&str, Role)] = &[
    ("/charts/bounce-class.svg", Role::Manager),
    ("/charts/bounce-class.csv", Role::Manager),
    ("/charts/risk-decile.svg", Role::Manager),
    ("/admin/suppressions.csv", Role::Admin),
];

async fn sweep(srv: &TestServer, https: bool) {
    let b = srv.backend();
    let mut pages: Vec<Seen> = Vec::new();
    let mut others: Vec<Seen> = Vec::new();
    let o = intake(
        srv,
        order("CSP-1", "ann@example.com", AccountKind::Guest, None),
    )
    .await;
    let link = engine::links::issue(
        &srv.state.db,
        srv.clock_now(),
        &o,
        "sms",
        "agent",
        3_600_000,
    )
    .await
    .expect("link");
    let key = engine::apikeys::create(&srv.state.db, srv.clock_now(), "csp", "test")
        .await
        .expect("key")
        .secret;

    let mut clients = Vec::new();
    for (role, email) in [
        (Role::Agent, "agent@csp.test"),
        (Role::Manager, "manager@csp.test"),
        (Role::Admin, "admin@csp.test"),
    ] {
        srv.add_user(email, role).await;
        let c = srv.client();
        let (s, body) = srv.login(&c, email, PASSWORD).await;
        assert_eq!(s, 200, "[{b}] login {email}: {body}");
        clients.push((role, c));
    }
    let client_for = |role: Role| {
        clients
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, c)| c.clone())
            .expect("a client per role")
    };

    for (path, role) in PAGES {
        let res = client_for(*role)
            .get(format!("{}{path}", srv.base))
            .send()
            .await
            .expect("get");
        let seen = check(srv, &format!("{path} as {role:?}"), res, https).await;
        let expected = if *path == "/no-such-page" { 404 } else { 200 };
        assert_eq!(seen.status, expected, "[{b}] {}", seen.what);
        pages.push(seen);
    }
    for (path, role) in STAFF_OTHER {
        let res = client_for(*role)
            .get(format!("{}{path}", srv.base))
            .send()
            .await
            .expect("get");
        let seen = check(srv, &format!("{path} as {role:?}"), res, https).await;
        assert_eq!(seen.status, 200, "[{b}] {}", seen.what);
        others.push(seen);
    }
    // A server function, as the hydrated app calls it.
    let res = client_for(Role::Manager)
        .post(format!("{}/fn/stats/overview", srv.base))
        .header("accept", "application/json")
        .send()
        .await
        .expect("post");
    let seen = check(srv, "/fn/stats/overview", res, https).await;
    assert_eq!(seen.status, 200, "[{b}] {}", seen.what);
    others.push(seen);

    // Signed out: the sign-in page, the customer's receipt link and its PDF,
    // a staff page (a redirect to sign in), the operations endpoints.
    let anon = srv.client();
    let token = &link.token;
    for (path, status) in [
        ("/login".to_string(), 200),
        (format!("/r/{token}"), 200),
        ("/r/not-a-real-token-at-all".to_string(), 404),
    ] {
        let res = anon
            .get(format!("{}{path}", srv.base))
            .send()
            .await
            .expect("get");
        let seen = check(srv, &format!("{path} signed out"), res, https).await;
        assert_eq!(seen.status, status, "[{b}] {}", seen.what);
        pages.push(seen);
    }
    for (path, status) in [
        (format!("/r/{token}/receipt.pdf"), 200),
        ("/held".to_string(), 303),
        ("/charts/bounce-class.svg".to_string(), 303),
        ("/healthz".to_string(), 200),
        ("/readyz".to_string(), 200),
        ("/metrics".to_string(), 200),
        ("/api/v1/openapi.json".to_string(), 200),
        ("/api/v1/orders/CSP-1".to_string(), 401),
    ] {
        let res = anon
            .get(format!("{}{path}", srv.base))
            .send()
            .await
            .expect("get");
        let seen = check(srv, &format!("{path} signed out"), res, https).await;
        assert_eq!(seen.status, status, "[{b}] {}", seen.what);
        others.push(seen);
    }
    // The shop API with its key: JSON, the inline receipt, the PDF, an error.
    let api = reqwest::Client::new();
    for (path, status) in [
        ("/api/v1/orders/CSP-1", 200),
        ("/api/v1/orders/CSP-1/receipt", 200),
        ("/api/v1/orders/CSP-1/receipt.pdf", 200),
        ("/api/v1/suppressions", 200),
        ("/api/v1/orders/NOPE", 404),
        ("/api/v1/nothing-here", 404),
    ] {
        let res = api
            .get(format!("{}{path}", srv.base))
            .bearer_auth(&key)
            .send()
            .await
            .expect("get");
        let seen = check(srv, &format!("{path} with an API key"), res, https).await;
        assert_eq!(seen.status, status, "[{b}] {}", seen.what);
        others.push(seen);
    }
    let res = api
        .post(format!("{}/api/v1/orders", srv.base))
        .bearer_auth(&key)
        .json(&serde_json::json!({ "order_number": "" }))
        .send()
        .await
        .expect("post");
    let seen = check(srv, "POST /api/v1/orders (invalid)", res, https).await;
    assert_eq!(seen.status, 422, "[{b}] {}", seen.what);

    // Every page is a page; nothing else is; every page's nonce is its own.
    for s in &others {
        assert!(s.html.is_none(), "[{b}] {} answered HTML", s.what);
    }
    let mut nonces = HashSet::new();
    for s in &pages {
        assert!(s.html.is_some(), "[{b}] {} is not HTML", s.what);
        let n = page_nonce(b, s);
        assert!(
            nonces.insert(n.clone()),
            "[{b}] {}: nonce {n} was already used by another response",
            s.what
        );
    }
    // The same page twice: two nonces.
    let again = client_for(Role::Agent)
        .get(format!("{}/", srv.base))
        .send()
        .await
        .expect("get");
    let again = check(srv, "/ again", again, https).await;
    let n = page_nonce(b, &again);
    assert!(nonces.insert(n), "[{b}] the nonce of / repeated");
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_pages_a_fresh_nonce() {
    for srv in servers(test_config()).await {
        sweep(&srv, false).await;
        srv.stop().await;
    }
}

#[tokio::test]
async fn hsts_only_when_the_public_url_is_https() {
    let mut config = test_config();
    config.public_url = Some("https://rebound.example.com".into());
    for srv in servers(config).await {
        sweep(&srv, true).await;
        srv.stop().await;
    }
}
