//! Staff pages as each role meets them, through the real router on both
//! databases: a page a role may not open answers 403 with the navigation and
//! what the role can open instead; an unknown order and an unknown address
//! answer 404 with the navigation; a manager's held queue has no action
//! forms; a plain form post (JavaScript off) comes back with a notice naming
//! the order; a call is followed by the text it promises; "Regenerate" asks
//! first and never e-mails a dead address.

mod support;

use engine::accounts::Role;
use support::{PASSWORD, TestServer, intake, open_critical_case, servers, test_config};

/// A held guest order with a phone and an open critical case.
async fn held_order(srv: &TestServer, number: &str, email: &str) -> engine::orders::Order {
    let mut input = engine::testing::fixtures::order_input(number, email);
    input.customer.phone = Some("+6281234567890".into());
    let o = intake(srv, input.validate().expect("valid")).await;
    open_critical_case(srv, o.id).await;
    o
}

/// GET as a browser does: status, `Location`, body without hydration markers.
async fn page(srv: &TestServer, c: &reqwest::Client, path: &str) -> (u16, String, String) {
    let res = c
        .get(format!("{}{path}", srv.base))
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    let (status, location) = status_and_location(&res);
    let body = res.text().await.unwrap_or_default().replace("<!>", "");
    (status, location, body)
}

/// A plain form post from `from` (JavaScript off): status and `Location`.
async fn form_post(
    srv: &TestServer,
    c: &reqwest::Client,
    path: &str,
    from: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let res = c
        .post(format!("{}{path}", srv.base))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", format!("{}{from}", srv.base))
        .form(form)
        .send()
        .await
        .expect("post");
    status_and_location(&res)
}

fn status_and_location(res: &reqwest::Response) -> (u16, String) {
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (res.status().as_u16(), location)
}

async fn signed_in(srv: &TestServer, email: &str) -> reqwest::Client {
    let c = srv.client();
    assert_eq!(srv.login(&c, email, PASSWORD).await.0, 200, "{email}");
    c
}

const NAV: &str = r#"aria-label="Main""#;

#[tokio::test]
async fn refusals_and_unknown_addresses_answer_403_and_404_with_navigation() {
    for srv in servers(test_config()).await {
        let b = srv.backend();
        srv.add_user("agent@test.local", Role::Agent).await;
        srv.add_user("manager@test.local", Role::Manager).await;
        srv.add_user("admin@test.local", Role::Admin).await;
        held_order(&srv, "SP-1", "sp-1@example.com").await;
        let agent = signed_in(&srv, "agent@test.local").await;
        let manager = signed_in(&srv, "manager@test.local").await;
        let admin = signed_in(&srv, "admin@test.local").await;

        for (who, c, path) in [
            ("agent", &agent, "/trends"),
            ("agent", &agent, "/pools"),
            ("agent", &agent, "/admin/users"),
            ("manager", &manager, "/admin/users"),
            ("manager", &manager, "/admin/rules"),
        ] {
            let (status, _, html) = page(&srv, c, path).await;
            assert_eq!(status, 403, "[{b}] {who} {path}");
            assert!(
                html.contains("This page is not for your role"),
                "[{b}] {who} {path}: {html}"
            );
            assert!(
                html.contains(NAV),
                "[{b}] {who} {path}: the navigation is there"
            );
            assert!(html.contains("What you can open instead"), "[{b}] {html}");
            assert!(
                !html.contains("Your role does not allow this action"),
                "[{b}] {who} {path}"
            );
        }
        let (status, _, html) = page(&srv, &agent, "/trends").await;
        assert_eq!(status, 403);
        assert!(
            html.contains(r#"href="/held""#),
            "[{b}] an agent is sent to the held queue"
        );
        assert!(
            !html.contains(r#"href="/pools""#),
            "[{b}] no link an agent cannot use"
        );

        // Pages a role may open answer 200; the navigation shows only them.
        for (c, path) in [
            (&admin, "/admin/users"),
            (&manager, "/trends"),
            (&agent, "/held"),
        ] {
            assert_eq!(page(&srv, c, path).await.0, 200, "[{b}] {path}");
        }
        let (_, _, home) = page(&srv, &agent, "/").await;
        for refused in ["/pools", "/trends", "/admin/users", "/admin/rules"] {
            assert!(
                !home.contains(&format!(r#"href="{refused}""#)),
                "[{b}] the agent's Overview links to {refused}"
            );
        }

        // Unknown order and unknown address: 404 with the navigation.
        let (status, _, html) = page(&srv, &agent, "/orders/NO-SUCH-9").await;
        assert_eq!(status, 404, "[{b}] unknown order");
        assert!(
            html.contains("There is no order NO-SUCH-9."),
            "[{b}] {html}"
        );
        assert!(
            html.contains(NAV),
            "[{b}] unknown order keeps the navigation"
        );
        let (status, _, html) = page(&srv, &manager, "/no/such/page").await;
        assert_eq!(status, 404, "[{b}] unknown address");
        assert!(
            html.contains(NAV) && html.contains("Not found"),
            "[{b}] {html}"
        );

        // A manager reads the held queue without action forms; an agent has them.
        let (status, _, html) = page(&srv, &manager, "/held").await;
        assert_eq!(status, 200);
        assert!(html.contains("SP-1"), "[{b}] the manager sees the case");
        assert!(html.contains("cases needing an agent"), "[{b}] {html}");
        assert!(
            !html.contains(r#"action="/fn/support/"#),
            "[{b}] a manager gets no action forms: {html}"
        );
        let (_, _, html) = page(&srv, &agent, "/held").await;
        assert!(
            html.contains(r#"action="/fn/support/take""#),
            "[{b}] {html}"
        );
        srv.stop().await;
    }
}

#[tokio::test]
async fn actions_answer_with_a_notice_and_keep_their_promises() {
    for srv in servers(test_config()).await {
        let b = srv.backend();
        srv.add_user("agent@test.local", Role::Agent).await;
        let o = held_order(&srv, "SP-2", "sp-2@example.com").await;
        let agent = signed_in(&srv, "agent@test.local").await;

        // JavaScript off: the redirect back carries the notice, and it is shown.
        let (status, location) = form_post(
            &srv,
            &agent,
            "/fn/support/take",
            "/held",
            &[("order_number", "SP-2")],
        )
        .await;
        assert_eq!(status, 302, "[{b}]");
        assert_eq!(location, "/held?done=taken&orders=SP-2", "[{b}]");
        let (_, _, html) = page(&srv, &agent, &location).await;
        assert!(html.contains("Order SP-2: you are on it."), "[{b}] {html}");
        assert!(html.contains(r#"class="notice ok""#), "[{b}] {html}");
        // A bulk action that did nothing is amber, not green.
        let (_, _, html) = page(&srv, &agent, "/held?done=bulk_email&orders=").await;
        assert!(
            html.contains("No order was sent a fresh link."),
            "[{b}] {html}"
        );
        assert!(html.contains(r#"class="notice warn""#), "[{b}] {html}");

        // A call is followed by the text with the link it promises.
        let (status, body) = srv
            .call(
                &agent,
                "/fn/support/start_call",
                &[("order_number", "SP-2")],
            )
            .await;
        assert_eq!(status, 200, "[{b}] {body}");
        assert!(body.contains("called"), "[{b}] {body}");
        let sent = engine::sms::for_order(&srv.state.db, o.id)
            .await
            .expect("messages");
        let kinds: Vec<&str> = sent.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(kinds, ["call", "sms"], "[{b}]");
        assert!(
            sent[0].body.contains("text message with a secure link"),
            "[{b}]"
        );
        assert!(
            sent[1].body.contains("/r/"),
            "[{b}] the text carries the link"
        );

        // Regenerate asks first: the order page lists the live link and whom it went to.
        let (status, body) = srv
            .call(
                &agent,
                "/fn/support/regenerate_link",
                &[("order_number", "SP-2")],
            )
            .await;
        assert_eq!(status, 422, "[{b}] {body}");
        let (_, _, html) = page(&srv, &agent, "/orders/SP-2?confirm=regenerate").await;
        assert!(html.contains("Regenerate the secure link?"), "[{b}] {html}");
        assert!(html.contains("Texted to +62"), "[{b}] {html}");
        assert!(
            html.contains("Revoke 1 link and e-mail a fresh one"),
            "[{b}] {html}"
        );
        assert!(html.contains("What happens next:"), "[{b}] {html}");
        let (status, body) = srv
            .call(
                &agent,
                "/fn/support/regenerate_link",
                &[("order_number", "SP-2"), ("confirm", "yes")],
            )
            .await;
        assert_eq!(status, 200, "[{b}] {body}");
        let live = engine::links::for_order(&srv.state.db, o.id)
            .await
            .expect("links")
            .into_iter()
            .filter(|l| l.revoked_at.is_none())
            .count();
        assert_eq!(live, 0, "[{b}] the texted link was revoked, as confirmed");

        // A dead address is never e-mailed: regenerate and e-mail are refused
        // with what to do instead; the confirmation offers the text.
        engine::suppression::suppress(
            &srv.state.db,
            srv.clock_now(),
            "sp-2@example.com",
            "hard bounce: user unknown",
            "test",
            None,
        )
        .await
        .expect("suppress");
        for path in ["/fn/support/regenerate_link", "/fn/support/email_link"] {
            let (status, body) = srv
                .call(
                    &agent,
                    path,
                    &[("order_number", "SP-2"), ("confirm", "yes")],
                )
                .await;
            assert_eq!(status, 409, "[{b}] {path}: {body}");
            assert!(
                body.contains("send the link by SMS instead"),
                "[{b}] {body}"
            );
        }
        let (_, _, html) = page(&srv, &agent, "/orders/SP-2?confirm=regenerate").await;
        assert!(
            html.contains("No link is e-mailed to this order"),
            "[{b}] {html}"
        );
        assert!(html.contains("Text a fresh link instead"), "[{b}] {html}");
        assert!(!html.contains("e-mail a fresh one"), "[{b}] {html}");

        // The timeline speaks words, not codes.
        let (_, _, html) = page(&srv, &agent, "/orders/SP-2").await;
        assert!(html.contains("Taken by"), "[{b}] {html}");
        assert!(!html.contains("support.take"), "[{b}] {html}");
        srv.stop().await;
    }
}
