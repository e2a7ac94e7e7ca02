//! The customer's side of fallbacks through the real HTTP server: the
//! `/r/{token}` page, the PDF download, the "fresh link" form and rate limits
//! (token guessing: `receipt_link_guessing.rs`); and the shop's inline receipt, notifications and
//! report-missing endpoints.

mod support;

use engine::links;
use engine::orders::{self, AccountKind};
use serde_json::Value;
use support::{TestServer, intake, order, servers, test_config};

const HOUR: i64 = 3_600_000;

async fn get(srv: &TestServer, path: &str) -> (u16, String) {
    let res = srv
        .client()
        .get(format!("{}{path}", srv.base))
        .send()
        .await
        .expect("get");
    let status = res.status().as_u16();
    (status, res.text().await.unwrap_or_default())
}

#[tokio::test]
async fn a_link_shows_its_own_receipt_and_the_pdf_and_counts_as_reach() {
    for srv in servers(test_config()).await {
        let a = intake(
            &srv,
            order("LA-1", "a@example.com", AccountKind::Guest, None),
        )
        .await;
        let b = intake(
            &srv,
            order("LB-2", "b@example.com", AccountKind::Guest, None),
        )
        .await;
        let la = links::issue(
            &srv.state.db,
            srv.clock_now(),
            &a,
            "agent",
            "test",
            72 * HOUR,
        )
        .await
        .expect("link");
        links::issue(
            &srv.state.db,
            srv.clock_now(),
            &b,
            "agent",
            "test",
            72 * HOUR,
        )
        .await
        .expect("link");

        let res = srv
            .client()
            .get(format!("{}/r/{}", srv.base, la.token))
            .send()
            .await
            .expect("get");
        // Security headers: a CSP naming this response's script nonce, and no referrer
        // (the token is in the URL).
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .expect("csp")
            .to_string();
        assert_eq!(res.headers()["referrer-policy"], "same-origin");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert!(
            csp.contains("frame-ancestors 'none'")
                && !csp.contains("script-src 'self' 'unsafe-inline'"),
            "{csp}"
        );
        let status = res.status().as_u16();
        let html = res.text().await.expect("body");
        // The customer's page carries no script and loads no WASM.
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains(".wasm"), "{html}");
        // Views mark dynamic text with `<!>` comments; read the text without them.
        let page = html.replace("<!>", "");
        assert_eq!(status, 200, "{}: {html}", srv.backend());
        assert!(
            page.contains("Receipt for order ") && page.contains("LA-1</h1>"),
            "{html}"
        );
        assert!(!page.contains("LB-2"), "a link never shows another order");
        assert!(
            page.contains("Lamp &lt;b") && !page.contains("<b>brass"),
            "names are escaped: {html}"
        );
        assert!(page.contains("$44.98"), "{html}");
        assert!(page.contains("Download PDF"));
        assert!(page.contains("<main"), "landmarks");
        let reached = orders::get(&srv.state.db, a.id)
            .await
            .expect("q")
            .expect("order");
        assert_eq!(reached.reached_via.as_deref(), Some("link_opened"));

        let res = srv
            .client()
            .get(format!("{}/r/{}/receipt.pdf", srv.base, la.token))
            .send()
            .await
            .expect("pdf");
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/pdf");
        assert_eq!(
            res.headers()["content-security-policy"],
            "default-src 'none'; frame-ancestors 'none'"
        );
        let bytes = res.bytes().await.expect("bytes");
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.windows(5).any(|w| w == b"LA-1)") || bytes.windows(4).any(|w| w == b"LA-1"));
        let uses = links::uses_for_order(&srv.state.db, a.id)
            .await
            .expect("uses");
        let actions: Vec<&str> = uses.iter().map(|u| u.action.as_str()).collect();
        assert_eq!(actions, vec!["open", "pdf"]);
        assert_eq!(uses[0].ip_prefix, "127.0.0.0/24");

        // Expired: the same page and status as an unknown token.
        srv.clock.advance_ms(73 * HOUR);
        let (expired_status, expired) = get(&srv, &format!("/r/{}", la.token)).await;
        let fake = "A".repeat(43);
        let (unknown_status, unknown) = get(&srv, &format!("/r/{fake}")).await;
        assert_eq!((expired_status, unknown_status), (404, 404));
        assert_eq!(
            without_nonces(&expired.replace(&la.token, "T")),
            without_nonces(&unknown.replace(&fake, "T")),
            "no oracle"
        );
        assert!(expired.contains("Send me a fresh link"));
        let (status, _) = get(&srv, &format!("/r/{}/receipt.pdf", la.token)).await;
        assert_eq!(status, 404);
        srv.stop().await;
    }
}

#[tokio::test]
async fn the_fresh_link_form_only_ever_sends_to_the_order_email() {
    for srv in servers(test_config()).await {
        let a = intake(
            &srv,
            order("FR-1", "owner@example.com", AccountKind::Guest, None),
        )
        .await;
        let la = links::issue(
            &srv.state.db,
            srv.clock_now(),
            &a,
            "masked_email",
            "test",
            HOUR,
        )
        .await
        .expect("link");
        srv.clock.advance_ms(2 * HOUR);
        // The form has no address field; one added by hand is ignored.
        let res = srv
            .client()
            .post(format!("{}/r/{}/fresh", srv.base, la.token))
            .form(&[("email", "attacker@evil.example")])
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 303);
        assert_eq!(
            res.headers()["location"],
            format!("/r/{}?fresh=1", la.token)
        );
        // An unknown token answers exactly the same way (with its own path).
        let fake = "B".repeat(43);
        let res = srv
            .client()
            .post(format!("{}/r/{fake}/fresh", srv.base))
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 303);
        let (_, page) = get(&srv, &format!("/r/{}?fresh=1", la.token)).await;
        assert!(page.contains("a fresh link is on its way"), "{page}");

        // A worker sends the queued re-send through the (capturing) masked pool.
        engine::delivery::pools::ensure_dev_pools(&srv.state.db, srv.clock_now())
            .await
            .expect("pools");
        let worker = engine::delivery::worker::Worker::new(
            srv.state.db.clone(),
            srv.state.clock.clone(),
            &srv.state.config,
        )
        .expect("worker");
        worker.run_once().await.expect("send");
        engine::periodic::Periodic::for_worker(&worker)
            .tick()
            .await
            .expect("periodic round");
        // (The order's own receipt goes out too: it was still queued.)
        let outbox: Vec<_> = engine::delivery::outbox::list(&srv.state.db, None, 10)
            .await
            .expect("outbox")
            .into_iter()
            .filter(|m| m.subject.contains("is ready"))
            .collect();
        assert_eq!(outbox.len(), 1, "{}", srv.backend());
        assert_eq!(outbox[0].envelope_to, "owner@example.com");
        let links_now = links::for_order(&srv.state.db, a.id).await.expect("links");
        assert_eq!(links_now.len(), 2, "a new link was minted");
        assert!(links_now.iter().all(|l| l.email == "owner@example.com"));
        srv.stop().await;
    }
}

#[tokio::test]
async fn the_shop_api_serves_inline_receipts_notifications_and_reports() {
    for srv in servers(test_config()).await {
        let key = engine::apikeys::create(&srv.state.db, srv.clock_now(), "shop", "test")
            .await
            .expect("key");
        let c = srv.client();
        let o = intake(
            &srv,
            order(
                "API-1",
                "member@example.com",
                AccountKind::LoggedIn,
                Some("cust-7"),
            ),
        )
        .await;

        let res = c
            .get(format!("{}/api/v1/orders/API-1/receipt", srv.base))
            .bearer_auth(&key.secret)
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["order_number"], "API-1");
        assert_eq!(body["receipt"]["total"], "$44.98");
        let html = body["html"].as_str().expect("html");
        assert!(
            !html.contains("<body") && html.contains("Lamp &lt;b&gt;brass"),
            "{html}"
        );
        let res = c
            .get(format!(
                "{}/api/v1/orders/API-1/receipt?format=html",
                srv.base
            ))
            .bearer_auth(&key.secret)
            .send()
            .await
            .expect("get");
        assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
        let res = c
            .get(format!(
                "{}/api/v1/orders/API-1/receipt?format=xml",
                srv.base
            ))
            .bearer_auth(&key.secret)
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 400);
        assert!(
            res.text()
                .await
                .unwrap_or_default()
                .contains("format must be")
        );
        let res = c
            .get(format!("{}/api/v1/orders/NOPE/receipt", srv.base))
            .bearer_auth(&key.secret)
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 404);
        let res = c
            .get(format!("{}/api/v1/orders/API-1/receipt", srv.base))
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 401);
        let res = c
            .get(format!("{}/api/v1/orders/API-1/receipt.pdf", srv.base))
            .bearer_auth(&key.secret)
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 200);
        assert!(res.bytes().await.expect("pdf").starts_with(b"%PDF-"));

        // Held → the fallback posts a notification the shop can read and mark seen.
        orders::add_event(&srv.state.db, o.id, srv.clock_now(), "test", "forced hold")
            .await
            .expect("event");
        held(&srv, o.id).await;
        engine::fallback::run_due(&srv.state.db, srv.clock_now(), &srv.state.config)
            .await
            .expect("fallback");
        let res = c
            .get(format!(
                "{}/api/v1/customers/cust-7/notifications",
                srv.base
            ))
            .bearer_auth(&key.secret)
            .send()
            .await
            .expect("get");
        let list: Value = res.json().await.expect("json");
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
        assert_eq!(list[0]["order_number"], "API-1");
        let id = list[0]["id"].as_i64().expect("id");
        let res = c
            .post(format!(
                "{}/api/v1/customers/someone-else/notifications/{id}/seen",
                srv.base
            ))
            .bearer_auth(&key.secret)
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 404, "only the customer's own");
        let res = c
            .post(format!(
                "{}/api/v1/customers/cust-7/notifications/{id}/seen",
                srv.base
            ))
            .bearer_auth(&key.secret)
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 200);
        let o2 = orders::get(&srv.state.db, o.id)
            .await
            .expect("q")
            .expect("order");
        assert_eq!(o2.reached_via.as_deref(), Some("notification_seen"));

        // The customer reports a missing receipt: critical support case.
        let other = intake(
            &srv,
            order("API-2", "x@example.com", AccountKind::Guest, None),
        )
        .await;
        let res = c
            .post(format!("{}/api/v1/orders/API-2/report-missing", srv.base))
            .bearer_auth(&key.secret)
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 202);
        let case = engine::fallback::support::for_order(&srv.state.db, other.id)
            .await
            .expect("q")
            .expect("case");
        assert_eq!(case.priority, 1);
        assert!(case.reason.contains("reported"), "{}", case.reason);
        srv.stop().await;
    }
}

/// Puts an order in `held` the way the worker would after its last retry.
async fn held(srv: &TestServer, order_id: i64) {
    let sql = "UPDATE orders SET state = 'held', state_detail = 'retries exhausted' WHERE id = $1";
    match &srv.state.db {
        engine::Db::Sqlite(p) => sqlx::query(sql).bind(order_id).execute(p).await.map(|_| ()),
        engine::Db::Postgres(p) => sqlx::query(sql).bind(order_id).execute(p).await.map(|_| ()),
    }
    .expect("hold");
}

/// The page with its per-response CSP nonces blanked out.
fn without_nonces(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    loop {
        let next = ["nonce=\"", "crossorigin=\""]
            .iter()
            .filter_map(|m| rest.find(m).map(|i| (i, m.len())))
            .min();
        let Some((i, len)) = next else { break };
        out.push_str(&rest[..i + len]);
        rest = &rest[i + len..];
        rest = rest.find('"').map(|j| &rest[j..]).unwrap_or("");
    }
    out.push_str(rest);
    out
}
