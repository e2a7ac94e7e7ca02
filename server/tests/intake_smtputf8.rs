//! SMTPUTF8 (RFC 6531) at intake, through the real HTTP server on both
//! databases: an address with a non-ASCII part before @ is refused with a 422
//! that says why while no pool of the send chain offers SMTPUTF8, and taken
//! (202) once one does, whether the pool is flagged by the engine or with
//! `rebound pool add|set --smtputf8` on the command line (audited, listed).
//! The other intake refusals are in `intake_refusals.rs`.

mod support;

use engine::audit::Actor;
use engine::delivery::pools::{self, NewPool};
use serde_json::{Value, json};
use support::cli::rebound;
use support::shop_api::ShopApi;
use support::{TestServer, servers, test_config};

const ADDRESS: &str = "jörg@bücher.example";

fn order(number: &str, email: &str) -> Value {
    json!({
        "order_number": number,
        "placed_at": "2026-11-27T21:00:00Z",
        "currency": "EUR",
        "items": [{ "name": "Mug", "quantity": 1, "unit_price": 1250 }],
        "totals": { "subtotal": 1250, "tax": 0, "shipping": 0, "discount": 0, "total": 1250 },
        "customer": { "email": email, "name": "Jörg", "account_kind": "guest" }
    })
}

/// The order is refused with a 422 naming `customer.email` and saying that no
/// pool offers SMTPUTF8; nothing is stored.
async fn assert_refused(srv: &TestServer, api: &ShopApi, number: &str, when: &str) {
    let b = srv.backend();
    let (status, body) = api.post(&order(number, ADDRESS)).await;
    assert_eq!(status, 422, "[{b}] {when}: {body}");
    let fields = body["fields"].as_array().expect("fields");
    assert_eq!(fields.len(), 1, "[{b}] {when}: {body}");
    assert_eq!(fields[0]["field"], "customer.email", "[{b}] {when}: {body}");
    let message = fields[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("SMTPUTF8") && message.contains("no sender pool"),
        "[{b}] {when}: {message}"
    );
    assert!(body["error"].is_string(), "[{b}] {when}: {body}");
    let kept = engine::orders::find_by_number(&srv.state.db, number)
        .await
        .expect("read");
    assert!(kept.is_none(), "[{b}] {when}: stored");
}

/// The order is taken (202) and stored with the local part as given and the
/// domain in A-labels.
async fn assert_taken(srv: &TestServer, api: &ShopApi, number: &str, when: &str) {
    let b = srv.backend();
    let (status, body) = api.post(&order(number, ADDRESS)).await;
    assert_eq!(status, 202, "[{b}] {when}: {body}");
    let kept = engine::orders::find_by_number(&srv.state.db, number)
        .await
        .expect("read")
        .unwrap_or_else(|| panic!("[{b}] {when}: not stored"));
    assert_eq!(kept.customer_email, "jörg@xn--bcher-kva.example", "[{b}]");
}

async fn add_pool(srv: &TestServer, name: &str, role: &str, position: i64) -> i64 {
    pools::create(
        &srv.state.db,
        srv.clock_now(),
        NewPool {
            name,
            role: role.parse().expect("primary, backup or masked"),
            from_name: "Shop",
            from_address: "receipts@shop.example",
            relay_url: "capture://",
            max_per_second: 50,
            position,
        },
    )
    .await
    .expect("pool")
    .id
}

#[tokio::test]
async fn a_non_ascii_local_part_waits_for_a_pool_of_the_chain_with_smtputf8() {
    for srv in servers(test_config()).await {
        let b = srv.backend();
        let api = ShopApi::new(&srv, "utf8").await;
        let db = &srv.state.db;
        let now = srv.clock_now();
        let admin = Actor::cli();

        assert_refused(&srv, &api, "U-0", "no pool at all").await;
        let primary = add_pool(&srv, "plain", "primary", 0).await;
        assert_refused(&srv, &api, "U-1", "a pool without SMTPUTF8").await;

        // Only the send chain counts: not the masked pool, not a paused one.
        let masked = add_pool(&srv, "masked", "masked", 1).await;
        pools::set_smtputf8_by(db, now, &admin, masked, true)
            .await
            .expect("flag");
        assert_refused(&srv, &api, "U-2", "only the masked pool offers it").await;
        let backup = add_pool(&srv, "intl", "backup", 2).await;
        pools::set_smtputf8_by(db, now, &admin, backup, true)
            .await
            .expect("flag");
        pools::set_enabled(db, now, backup, false)
            .await
            .expect("pause");
        assert_refused(&srv, &api, "U-3", "only a paused pool offers it").await;

        // A backup pool of the chain offers it: taken.
        pools::set_enabled(db, now, backup, true)
            .await
            .expect("resume");
        assert_taken(&srv, &api, "U-4", "a backup pool offers it").await;
        // The same address stays refused once no pool offers it again.
        pools::set_smtputf8_by(db, now, &admin, backup, false)
            .await
            .expect("flag");
        assert_refused(&srv, &api, "U-5", "the flag taken back").await;
        pools::set_smtputf8_by(db, now, &admin, primary, true)
            .await
            .expect("flag");
        assert_taken(&srv, &api, "U-6", "the primary pool offers it").await;

        // The Sender pools page says which pools offer it.
        srv.add_user("admin@example.com", engine::accounts::Role::Admin)
            .await;
        let staff = srv.client();
        let (status, _) = srv
            .login(&staff, "admin@example.com", support::PASSWORD)
            .await;
        assert_eq!(status, 200, "[{b}]");
        let (status, rows) = srv.call(&staff, "/fn/pools/list", &[]).await;
        assert_eq!(status, 200, "[{b}] {rows}");
        let rows: Vec<Value> = serde_json::from_str(&rows).expect("rows");
        let flags: Vec<(&str, bool)> = rows
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap_or_default(),
                    r["smtputf8"] == true,
                )
            })
            .collect();
        assert_eq!(
            flags,
            vec![("plain", true), ("masked", true), ("intl", false)],
            "[{b}]"
        );
        let res = staff
            .get(format!("{}/pools", srv.base))
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 200, "[{b}]");
        let html = res.text().await.unwrap_or_default();
        assert!(
            html.contains(r#"<abbr title="International">"#) && html.contains(" addresses: "),
            "[{b}] {html}"
        );
        assert_eq!(html.matches("yes (SMTPUTF8)").count(), 2, "[{b}] {html}");

        // An ASCII address never needed it.
        let (status, body) = api.post(&order("A-1", "jane@bücher.example")).await;
        assert_eq!(status, 202, "[{b}] {body}");
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_switches_smtputf8_audited_and_listed() {
    for db in engine::testing::all_backends().await {
        let url = db.url.clone();
        let srv = TestServer::start(db, test_config()).await;
        let b = srv.backend();
        let api = ShopApi::new(&srv, "utf8").await;
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("rebound.toml");
        std::fs::write(&config, "").expect("toml");
        let run = |args: &[&str]| {
            let (ok, text) = rebound(&url, &config, args);
            assert!(ok, "[{b}] rebound {args:?}: {text}");
            text
        };
        let add = |name: &str, role: &str, utf8: bool| {
            let mut args = vec![
                "pool",
                "add",
                "--name",
                name,
                "--role",
                role,
                "--from",
                "receipts@shop.example",
                "--relay-url",
                "capture://",
            ];
            if utf8 {
                args.push("--smtputf8");
            }
            run(&args)
        };
        let listed = |name: &str| {
            let list = run(&["pool", "list"]);
            assert!(
                list.lines()
                    .any(|l| l.starts_with("name ") && l.contains(" smtputf8 ")),
                "{list}"
            );
            let line = list
                .lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_else(|| panic!("[{b}] {name} not listed: {list}"));
            line.split_whitespace()
                .nth(5)
                .unwrap_or_default()
                .to_string()
        };

        add("plain", "primary", false);
        assert_eq!(listed("plain"), "no", "[{b}]");
        assert_refused(&srv, &api, "C-1", "a pool added without --smtputf8").await;

        let text = add("intl", "backup", true);
        assert!(text.contains("SMTPUTF8"), "[{b}] {text}");
        assert_eq!(listed("intl"), "yes", "[{b}]");
        assert_taken(&srv, &api, "C-2", "pool add --smtputf8").await;

        run(&["pool", "set", "intl", "--smtputf8", "false"]);
        assert_eq!(listed("intl"), "no", "[{b}]");
        assert_refused(&srv, &api, "C-3", "pool set --smtputf8 false").await;
        run(&["pool", "set", "plain", "--smtputf8", "true"]);
        assert_eq!(listed("plain"), "yes", "[{b}]");
        assert_taken(&srv, &api, "C-4", "pool set --smtputf8 true").await;

        // Only true or false.
        let (ok, text) = rebound(
            &url,
            &config,
            &["pool", "set", "plain", "--smtputf8", "maybe"],
        );
        assert!(!ok, "[{b}] {text}");
        assert_eq!(listed("plain"), "yes", "[{b}]");

        // Each switch is audited as the CLI's, naming the pool and the value.
        let entries = engine::audit::list(&srv.state.db, None, 100)
            .await
            .expect("audit");
        let switches: Vec<(&str, &str, &str)> = entries
            .iter()
            .filter(|e| e.detail.starts_with("smtputf8"))
            .map(|e| (e.actor.as_str(), e.target.as_str(), e.detail.as_str()))
            .rev()
            .collect();
        assert_eq!(
            switches,
            vec![
                ("cli", "intl", "smtputf8 = true"),
                ("cli", "intl", "smtputf8 = false"),
                ("cli", "plain", "smtputf8 = true"),
            ],
            "[{b}] {entries:?}"
        );
        assert!(
            entries
                .iter()
                .filter(|e| e.detail.starts_with("smtputf8"))
                .all(|e| e.action == "pool.update"),
            "[{b}] {entries:?}"
        );
        srv.stop().await;
    }
}
