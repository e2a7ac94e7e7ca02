//! Staff sign-in, sessions, roles and CSRF, through the real HTTP server on
//! both databases.

mod support;

use engine::accounts::Role;
use engine::config::LoginConfig;
use support::{PASSWORD, servers, test_config};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Admins only.
    Admin,
    /// These roles and admins.
    Roles(&'static [&'static str]),
}

const AGENTS_AND_MANAGERS: Access = Access::Roles(&["agent", "manager"]);
const AGENTS: Access = Access::Roles(&["agent"]);

/// Every server function and who may call it. The test fails when a server
/// function exists that is not listed here, so none can ship unchecked.
const POLICY: &[(&str, Access)] = &[
    ("/fn/auth/login", Access::Public),
    ("/fn/auth/logout", Access::Public),
    ("/fn/auth/current_user", Access::Public),
    ("/fn/receipts/open", Access::Public),
    ("/fn/support/list", AGENTS_AND_MANAGERS),
    ("/fn/support/take", AGENTS),
    ("/fn/support/resolve", AGENTS),
    ("/fn/support/log_call", AGENTS),
    ("/fn/support/regenerate_link", AGENTS),
    ("/fn/support/send_sms", AGENTS),
    ("/fn/support/send_whatsapp", AGENTS),
    ("/fn/support/start_call", AGENTS),
    ("/fn/support/bulk", AGENTS),
    ("/fn/support/resend_pools", AGENTS),
    ("/fn/support/resend_via_pool", AGENTS),
    ("/fn/support/email_link", AGENTS),
    ("/fn/support/case", AGENTS_AND_MANAGERS),
    ("/fn/users/list", Access::Admin),
    ("/fn/users/add", Access::Admin),
    ("/fn/users/set_role", Access::Admin),
    ("/fn/users/set_disabled", Access::Admin),
    ("/fn/audit/list", Access::Admin),
    ("/fn/orders/list", AGENTS_AND_MANAGERS),
    ("/fn/orders/search", AGENTS_AND_MANAGERS),
    ("/fn/orders/get", AGENTS_AND_MANAGERS),
    ("/fn/orders/flagged", AGENTS_AND_MANAGERS),
    ("/fn/outbox/list", Access::Admin),
    ("/fn/outbox/get", Access::Admin),
    ("/fn/outbox/sms", Access::Admin),
    ("/fn/webhooks/list", Access::Admin),
    ("/fn/webhooks/get", Access::Admin),
    ("/fn/webhooks/esp_events", Access::Admin),
    ("/fn/pools/list", Access::Roles(&["manager"])),
    ("/fn/pools/health", Access::Roles(&["manager"])),
    ("/fn/pools/set_enabled", Access::Admin),
    ("/fn/pools/save", Access::Admin),
    ("/fn/suppressions/list", AGENTS_AND_MANAGERS),
    ("/fn/bounces/rules", Access::Admin),
    ("/fn/suppressions/add", Access::Admin),
    ("/fn/suppressions/release", Access::Admin),
    ("/fn/apikeys/list", Access::Admin),
    ("/fn/apikeys/create", Access::Admin),
    ("/fn/apikeys/revoke", Access::Admin),
    ("/fn/stats/overview", AGENTS_AND_MANAGERS),
    ("/fn/stats/trends", Access::Roles(&["manager"])),
];

fn args_for(path: &str, n: usize, target_id: i64) -> Vec<(String, String)> {
    let v = |pairs: &[(&str, String)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    };
    match path {
        "/fn/auth/login" => v(&[
            ("email", "nobody@example.com".into()),
            ("password", "wrong password".into()),
        ]),
        "/fn/users/add" => v(&[
            ("email", format!("matrix-{n}@example.com")),
            ("display_name", "Matrix".into()),
            ("role", "agent".into()),
            ("password", PASSWORD.into()),
        ]),
        "/fn/users/set_role" => v(&[("user_id", target_id.to_string()), ("role", "agent".into())]),
        "/fn/users/set_disabled" => v(&[
            ("user_id", target_id.to_string()),
            ("disabled", "false".into()),
        ]),
        "/fn/orders/get" => v(&[("order_number", "NO-SUCH-ORDER".into())]),
        "/fn/orders/search" => v(&[("q", "NO-SUCH-ORDER".into())]),
        "/fn/receipts/open" => v(&[("token", "not-a-token".into())]),
        "/fn/support/take"
        | "/fn/support/regenerate_link"
        | "/fn/support/send_sms"
        | "/fn/support/send_whatsapp"
        | "/fn/support/start_call"
        | "/fn/support/email_link"
        | "/fn/support/case" => v(&[("order_number", "NO-SUCH-ORDER".into())]),
        "/fn/support/resolve" => v(&[
            ("order_number", "NO-SUCH-ORDER".into()),
            ("note", "done".into()),
        ]),
        "/fn/support/bulk" => v(&[
            ("action", "take".into()),
            ("order_numbers[0]", "NO-SUCH-ORDER".into()),
        ]),
        "/fn/support/resend_via_pool" => v(&[
            ("order_number", "NO-SUCH-ORDER".into()),
            ("pool_id", "1".into()),
        ]),
        "/fn/support/log_call" => v(&[
            ("order_number", "NO-SUCH-ORDER".into()),
            ("outcome", "reached".into()),
        ]),
        "/fn/outbox/get" => v(&[("id", "999999".into())]),
        "/fn/webhooks/get" => v(&[("id", "999999".into())]),
        "/fn/pools/set_enabled" => v(&[("pool_id", "1".into()), ("enabled", "true".into())]),
        "/fn/apikeys/create" => v(&[("name", format!("matrix key {n}"))]),
        "/fn/apikeys/revoke" => v(&[("key_id", "999999".into())]),
        "/fn/suppressions/list" => v(&[("search", "".into())]),
        "/fn/suppressions/add" => v(&[("email", format!("sup-{n}@example.com"))]),
        "/fn/suppressions/release" => v(&[("email", "never-suppressed@example.com".into())]),
        "/fn/pools/save" => v(&[
            ("name", format!("pool-{n}")),
            ("role", "backup".into()),
            ("from_name", "Shop".into()),
            ("from_address", "pool@shop.example".into()),
            ("relay_url", "capture://".into()),
            ("max_per_second", "5".into()),
            ("position", "3".into()),
        ]),
        _ => vec![],
    }
}

#[tokio::test]
async fn every_server_function_checks_the_role() {
    let registered: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p.to_string())
        .collect();
    for p in &registered {
        assert!(
            POLICY.iter().any(|(q, _)| q == p),
            "server function {p} has no entry in the role policy"
        );
    }
    for (p, _) in POLICY {
        assert!(
            registered.iter().any(|q| q == p),
            "policy lists {p} but no such server function exists"
        );
    }

    for srv in servers(test_config()).await {
        let target = srv.add_user("target@example.com", Role::Agent).await;
        srv.add_user("agent@example.com", Role::Agent).await;
        srv.add_user("manager@example.com", Role::Manager).await;
        srv.add_user("admin@example.com", Role::Admin).await;
        let mut n = 0;
        for who in [None, Some("agent"), Some("manager"), Some("admin")] {
            let client = srv.client();
            if let Some(w) = who {
                let (status, body) = srv
                    .login(&client, &format!("{w}@example.com"), PASSWORD)
                    .await;
                assert_eq!(status, 200, "{w} login: {body}");
            }
            // logout last: it ends the session.
            for (path, access) in POLICY
                .iter()
                .filter(|(p, _)| *p != "/fn/auth/logout")
                .chain(POLICY.iter().filter(|(p, _)| *p == "/fn/auth/logout"))
            {
                n += 1;
                let args = args_for(path, n, target);
                let args: Vec<(&str, &str)> =
                    args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let (status, body) = srv.call(&client, path, &args).await;
                let allowed = match access {
                    Access::Public => true,
                    Access::Admin => who == Some("admin"),
                    Access::Roles(roles) => who.is_some_and(|w| w == "admin" || roles.contains(&w)),
                };
                assert!(
                    status < 500,
                    "[{}] {path} as {who:?}: {status} {body}",
                    srv.backend()
                );
                if allowed {
                    assert!(
                        status != 403 && (status != 401 || *path == "/fn/auth/login"),
                        "[{}] {path} as {who:?} should be allowed: {status} {body}",
                        srv.backend()
                    );
                } else {
                    let expected = if who.is_none() { 401 } else { 403 };
                    assert_eq!(
                        status,
                        expected,
                        "[{}] {path} as {who:?}: {body}",
                        srv.backend()
                    );
                }
            }
        }
        srv.stop().await;
    }
}

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("rebound_session="))
        .map(|c| c.split(';').next().unwrap_or_default().to_string())
}

#[tokio::test]
async fn login_cycles_the_session_and_logout_destroys_it() {
    for srv in servers(test_config()).await {
        srv.add_user("a@example.com", Role::Admin).await;
        srv.add_user("b@example.com", Role::Agent).await;
        let raw = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let login = |cookie: Option<String>, email: &'static str| {
            let mut req = raw
                .post(format!("{}/fn/auth/login", srv.base))
                .header("accept", "application/json")
                .form(&[("email", email), ("password", PASSWORD)]);
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            req.send()
        };
        let first = login(None, "a@example.com").await.expect("login");
        assert_eq!(first.status(), 200);
        let c1 = session_cookie(&first).expect("session cookie set at login");
        let set_cookie = first
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
        assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");

        // Signing in again while holding c1 must issue a different id and retire c1.
        let second = login(Some(c1.clone()), "b@example.com")
            .await
            .expect("login");
        let c2 = session_cookie(&second).expect("new cookie");
        assert_ne!(c1, c2, "session id must change at login");
        let who = |cookie: String| {
            raw.post(format!("{}/fn/auth/current_user", srv.base))
                .header("accept", "application/json")
                .header("cookie", cookie)
                .send()
        };
        let old = who(c1.clone())
            .await
            .expect("req")
            .text()
            .await
            .unwrap_or_default();
        assert_eq!(old, "null", "the pre-login session id must be dead");
        let now = who(c2.clone())
            .await
            .expect("req")
            .text()
            .await
            .unwrap_or_default();
        assert!(now.contains("b@example.com"), "{now}");

        // Logout destroys the session server-side: replaying the cookie fails.
        let out = raw
            .post(format!("{}/fn/auth/logout", srv.base))
            .header("accept", "application/json")
            .header("cookie", c2.clone())
            .send()
            .await
            .expect("logout");
        assert_eq!(out.status(), 200);
        let after = who(c2).await.expect("req").text().await.unwrap_or_default();
        assert_eq!(after, "null", "a logged-out session must not come back");
        srv.stop().await;
    }
}

#[tokio::test]
async fn failed_logins_lock_out_per_account_and_per_ip_without_revealing_accounts() {
    let mut cfg = test_config();
    cfg.login = LoginConfig {
        max_failures_per_account: 3,
        max_failures_per_ip: 6,
        base_lockout_seconds: 30,
        max_lockout_seconds: 600,
    };
    for srv in servers(cfg).await {
        srv.add_user("victim@example.com", Role::Admin).await;
        let c = srv.client();
        let (s_wrong, b_wrong) = srv
            .login(&c, "victim@example.com", "not the password")
            .await;
        let (s_ghost, b_ghost) = srv.login(&c, "ghost@example.com", "not the password").await;
        assert_eq!((s_wrong, s_ghost), (401, 401));
        assert_eq!(
            b_wrong, b_ghost,
            "an unknown email must look exactly like a wrong password"
        );

        srv.login(&c, "victim@example.com", "not the password")
            .await;
        srv.login(&c, "victim@example.com", "not the password")
            .await;
        // Locked now, even with the right password.
        let (s, body) = srv.login(&c, "victim@example.com", PASSWORD).await;
        assert_eq!(s, 429, "{body}");
        assert!(body.contains("Too many failed attempts"), "{body}");

        // After the lockout passes, the right password works again.
        srv.clock.advance_ms(31_000);
        let (s, body) = srv.login(&c, "victim@example.com", PASSWORD).await;
        assert_eq!(s, 200, "{body}");

        // Per IP: failures spread over many accounts lock the address.
        for i in 0..6 {
            srv.login(&c, &format!("spray{i}@example.com"), "guess guess")
                .await;
        }
        let (s, body) = srv.login(&c, "victim@example.com", PASSWORD).await;
        assert_eq!(s, 429, "IP lockout expected: {body}");
        srv.stop().await;
    }
}

#[tokio::test]
async fn cross_origin_posts_are_refused() {
    for srv in servers(test_config()).await {
        srv.add_user("admin@example.com", Role::Admin).await;
        let c = srv.client();
        assert_eq!(srv.login(&c, "admin@example.com", PASSWORD).await.0, 200);
        let host = srv.base.trim_start_matches("http://").to_string();
        let post = |origin: Option<&'static str>, fetch_site: Option<&'static str>| {
            let mut r = c
                .post(format!("{}/fn/users/add", srv.base))
                .header("accept", "application/json")
                .form(&[
                    ("email", "csrf@example.com"),
                    ("display_name", "CSRF"),
                    ("role", "admin"),
                    ("password", PASSWORD),
                ]);
            if let Some(o) = origin {
                r = r.header("origin", o);
            }
            if let Some(f) = fetch_site {
                r = r.header("sec-fetch-site", f);
            }
            r.send()
        };
        for (origin, site) in [
            (Some("http://evil.example"), None),
            (None, Some("cross-site")),
            (Some("null"), None),
        ] {
            let res = post(origin, site).await.expect("post");
            assert_eq!(res.status(), 403, "origin {origin:?} site {site:?}");
            let body = res.text().await.unwrap_or_default();
            assert!(body.contains("cross-origin request refused"), "{body}");
        }
        let users = engine::accounts::list_users(&srv.state.db)
            .await
            .expect("list");
        assert!(
            !users.iter().any(|u| u.email == "csrf@example.com"),
            "a refused request must change nothing"
        );

        // The same request from our own origin goes through.
        let own = format!("http://{host}");
        let res = c
            .post(format!("{}/fn/users/add", srv.base))
            .header("accept", "application/json")
            .header("origin", own)
            .header("sec-fetch-site", "same-origin")
            .form(&[
                ("email", "ok@example.com"),
                ("display_name", "OK"),
                ("role", "agent"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 200);
        srv.stop().await;
    }
}

#[tokio::test]
async fn pages_need_a_session_and_disabled_users_lose_access_at_once() {
    for srv in servers(test_config()).await {
        let admin_id = srv.add_user("admin@example.com", Role::Admin).await;
        srv.add_user("other@example.com", Role::Admin).await;
        let c = srv.client();
        let res = c
            .get(format!("{}/admin/users", srv.base))
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 303);
        assert_eq!(
            res.headers().get("location").and_then(|v| v.to_str().ok()),
            Some("/login?next=/admin/users")
        );
        let login_page = c
            .get(format!("{}/login", srv.base))
            .send()
            .await
            .expect("get");
        assert_eq!(login_page.status(), 200);
        let html = login_page.text().await.unwrap_or_default();
        assert!(html.contains("Sign in to Rebound"), "{html}");

        assert_eq!(srv.login(&c, "admin@example.com", PASSWORD).await.0, 200);
        let page = c
            .get(format!("{}/admin/users", srv.base))
            .send()
            .await
            .expect("get");
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap_or_default();
        assert!(html.contains("other@example.com"), "users page lists users");

        // Another admin disables this one: the next call is refused.
        engine::accounts::set_disabled(&srv.state.db, srv.clock_now(), admin_id, true)
            .await
            .expect("disable");
        let (s, _) = srv.call(&c, "/fn/users/list", &[]).await;
        assert_eq!(s, 401);
        srv.stop().await;
    }
}

#[tokio::test]
async fn malformed_server_function_arguments_are_a_400_not_a_500() {
    for srv in servers(test_config()).await {
        srv.add_user("admin@example.com", Role::Admin).await;
        let c = srv.client();
        assert_eq!(srv.login(&c, "admin@example.com", PASSWORD).await.0, 200);
        for (path, form) in [
            (
                "/fn/users/set_role",
                vec![("user_id", "not-a-number"), ("role", "admin")],
            ),
            ("/fn/orders/get", vec![]),
            (
                "/fn/users/set_disabled",
                vec![("user_id", "1"), ("disabled", "maybe")],
            ),
        ] {
            let (status, body) = srv.call(&c, path, &form).await;
            assert_eq!(status, 400, "{path}: {body}");
        }
        srv.stop().await;
    }
}

#[tokio::test]
async fn health_endpoints_answer() {
    for srv in servers(test_config()).await {
        let c = srv.client();
        let h = c
            .get(format!("{}/healthz", srv.base))
            .send()
            .await
            .expect("get");
        assert_eq!(h.status(), 200);
        let r = c
            .get(format!("{}/readyz", srv.base))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 200);
        let body: serde_json::Value = r.json().await.expect("json");
        assert_eq!(body["ready"], true);
        assert_eq!(body["backend"], srv.backend());
        srv.stop().await;
    }
}
