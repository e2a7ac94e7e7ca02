//! Every repository function, run on SQLite and on PostgreSQL: the answers
//! must be the same. (PostgreSQL: `REBOUND_TEST_POSTGRES_URL`, or a server on
//! 127.0.0.1:5432; otherwise that half is skipped loudly.)

use engine::Db;
use engine::accounts::{self, LoginError, NewUser, Role};
use engine::audit::{self, Actor};
use engine::config::LoginConfig;
use engine::testing::all_backends;

const T0: i64 = 1_800_000_000_000;

async fn scenario(db: &Db) -> Vec<String> {
    let mut out = Vec::new();
    let mut log = |label: &str, v: String| out.push(format!("{label}: {v}"));
    let new = |email: &str, role| NewUser {
        email: email.into(),
        display_name: format!("Name of {email}"),
        role,
        password: "a long enough password".into(),
    };

    let admin = accounts::create_user(db, T0, new("Admin@Example.com", Role::Admin))
        .await
        .expect("admin");
    log("admin", format!("{admin:?}"));
    let agent = accounts::create_user(db, T0 + 1, new("b.agent@example.com", Role::Agent))
        .await
        .expect("agent");
    let manager = accounts::create_user(db, T0 + 2, new("b-manager@example.com", Role::Manager))
        .await
        .expect("mgr");
    log(
        "dup",
        format!(
            "{:?}",
            accounts::create_user(db, T0, new("admin@example.com", Role::Agent))
                .await
                .map(|u| u.id)
                .map_err(|e| e.to_string())
        ),
    );
    log(
        "bad email",
        format!(
            "{:?}",
            accounts::create_user(db, T0, new("nope", Role::Agent))
                .await
                .map(|u| u.id)
                .map_err(|e| e.to_string())
        ),
    );
    log(
        "count",
        format!("{:?}", accounts::count_users(db).await.expect("count")),
    );
    log(
        "list",
        format!("{:?}", accounts::list_users(db).await.expect("list")),
    );
    log(
        "get",
        format!("{:?}", accounts::get_user(db, agent.id).await.expect("get")),
    );
    log(
        "get missing",
        format!("{:?}", accounts::get_user(db, 9_999).await.expect("get")),
    );

    // The last admin cannot be demoted or disabled.
    log(
        "demote last admin",
        format!(
            "{:?}",
            accounts::set_role(db, admin.id, Role::Agent)
                .await
                .map_err(|e| e.to_string())
        ),
    );
    log(
        "disable last admin",
        format!(
            "{:?}",
            accounts::set_disabled(db, T0, admin.id, true)
                .await
                .map_err(|e| e.to_string())
        ),
    );
    log(
        "promote",
        format!(
            "{:?}",
            accounts::set_role(db, manager.id, Role::Admin).await
        ),
    );
    log(
        "admins",
        format!("{:?}", accounts::count_active_admins(db).await),
    );
    log(
        "now demote",
        format!(
            "{:?}",
            accounts::set_role(db, admin.id, Role::Manager).await
        ),
    );
    log(
        "disable",
        format!("{:?}", accounts::set_disabled(db, T0, agent.id, true).await),
    );
    log(
        "enable",
        format!(
            "{:?}",
            accounts::set_disabled(db, T0, agent.id, false).await
        ),
    );
    log(
        "set_role missing",
        format!(
            "{:?}",
            accounts::set_role(db, 9_999, Role::Agent)
                .await
                .map_err(|e| e.to_string())
        ),
    );

    // Login, throttling and lockout expiry.
    let cfg = LoginConfig {
        max_failures_per_account: 3,
        max_failures_per_ip: 5,
        base_lockout_seconds: 30,
        max_lockout_seconds: 120,
    };
    let login = |now: i64, email: &'static str, pw: &'static str, ip: &'static str| {
        let cfg = cfg.clone();
        async move {
            accounts::authenticate(db, now, &cfg, email, pw, ip)
                .await
                .map(|u| u.email)
        }
    };
    log(
        "login ok",
        format!(
            "{:?}",
            login(
                T0,
                "B.Agent@example.com",
                "a long enough password",
                "10.0.0.1"
            )
            .await
        ),
    );
    log(
        "last login",
        format!(
            "{:?}",
            accounts::get_user(db, agent.id)
                .await
                .expect("get")
                .map(|u| u.last_login_at)
        ),
    );
    for i in 0..3 {
        log(
            "wrong pw",
            format!(
                "{:?}",
                login(T0 + i, "b.agent@example.com", "wrong password!", "10.0.0.1").await
            ),
        );
    }
    log(
        "locked",
        format!(
            "{:?}",
            login(
                T0 + 10,
                "b.agent@example.com",
                "a long enough password",
                "10.0.0.2"
            )
            .await
        ),
    );
    log(
        "locked_for",
        format!(
            "{:?}",
            accounts::locked_for(db, T0 + 10, "account:b.agent@example.com").await
        ),
    );
    log(
        "unknown user",
        format!(
            "{:?}",
            login(T0 + 11, "ghost@example.com", "whatever at all", "10.0.0.1").await
        ),
    );
    log(
        "ip locked",
        format!(
            "{:?}",
            login(T0 + 12, "b-manager@example.com", "wrong", "10.0.0.1").await
        ),
    );
    log(
        "after expiry",
        format!(
            "{:?}",
            login(
                T0 + 31_000,
                "b.agent@example.com",
                "a long enough password",
                "10.0.0.2"
            )
            .await
        ),
    );
    accounts::set_disabled(db, T0, agent.id, true)
        .await
        .expect("disable");
    log(
        "disabled login",
        format!(
            "{:?}",
            login(
                T0 + 40_000,
                "b.agent@example.com",
                "a long enough password",
                "10.0.0.3"
            )
            .await
        ),
    );
    accounts::clear_failures(db, "ip:10.0.0.1")
        .await
        .expect("clear");
    log(
        "ip cleared",
        format!(
            "{:?}",
            accounts::locked_for(db, T0 + 12, "ip:10.0.0.1").await
        ),
    );

    // Audit log with keyset pagination.
    for i in 0..5 {
        audit::record(
            db,
            T0 + i,
            &Actor {
                user_id: Some(admin.id),
                name: admin.email.clone(),
                ip: Some("10.0.0.9".into()),
            },
            "test.action",
            &format!("target-{i}"),
            "detail",
        )
        .await
        .expect("audit");
    }
    audit::record(db, T0 + 9, &Actor::cli(), "cli.action", "x", "")
        .await
        .expect("audit");
    let first = audit::list(db, None, 4).await.expect("list");
    log("audit page 1", format!("{first:?}"));
    let next = first.last().map(|e| e.id);
    log(
        "audit page 2",
        format!("{:?}", audit::list(db, next, 4).await.expect("list")),
    );

    // API keys (secrets are random: compare what is deterministic).
    let key = engine::apikeys::create(db, T0, "shop", "admin@example.com")
        .await
        .expect("key");
    log(
        "key",
        format!(
            "{} {} {} {:?}",
            key.key.id,
            key.key.name,
            key.key.prefix.starts_with("rbk_"),
            key.key.last_used_at
        ),
    );
    log(
        "key bad name",
        format!(
            "{:?}",
            engine::apikeys::create(db, T0, " ", "x")
                .await
                .map(|k| k.key.id)
                .map_err(|e| e.to_string())
        ),
    );
    log(
        "auth ok",
        format!(
            "{:?}",
            engine::apikeys::authenticate(db, T0 + 5, &key.secret)
                .await
                .map(|k| k.map(|k| k.id))
        ),
    );
    log(
        "auth bad",
        format!(
            "{:?}",
            engine::apikeys::authenticate(db, T0 + 5, "rbk_nope")
                .await
                .map(|k| k.map(|k| k.id))
        ),
    );
    log(
        "keys",
        format!(
            "{:?}",
            engine::apikeys::list(db).await.map(|v| v
                .iter()
                .map(|k| (k.id, k.last_used_at, k.revoked_at))
                .collect::<Vec<_>>())
        ),
    );
    log(
        "revoke",
        format!(
            "{:?}",
            engine::apikeys::revoke(db, key.key.id, T0 + 9)
                .await
                .map(|k| k.revoked_at)
        ),
    );
    log(
        "auth revoked",
        format!(
            "{:?}",
            engine::apikeys::authenticate(db, T0 + 10, &key.secret)
                .await
                .map(|k| k.is_some())
        ),
    );
    log(
        "revoke missing",
        format!(
            "{:?}",
            engine::apikeys::revoke(db, 999, T0)
                .await
                .map(|k| k.id)
                .map_err(|e| e.to_string())
        ),
    );

    // Sender pools.
    use engine::delivery::pools::{self, NewPool};
    for (name, role, pos) in [("b", "backup", 0), ("a", "primary", 0), ("m", "masked", 0)] {
        let p = pools::create(
            db,
            T0,
            NewPool {
                name,
                role: role.parse().expect("primary, backup or masked"),
                from_name: "Shop",
                from_address: "r@shop.example",
                relay_url: "capture://",
                max_per_second: 5,
                position: pos,
            },
        )
        .await;
        log("pool", format!("{:?}", p.map(|p| (p.id, p.name, p.role))));
    }
    log(
        "pool pause",
        format!(
            "{:?}",
            pools::set_enabled(db, 0, 1, false)
                .await
                .map_err(|e| e.to_string())
        ),
    );
    let listed = pools::list(db).await.expect("pools");
    log(
        "pools",
        format!(
            "{:?}",
            listed.iter().map(|p| (p.id, p.enabled)).collect::<Vec<_>>()
        ),
    );
    log(
        "chain",
        format!(
            "{:?}",
            pools::send_chain(&listed)
                .iter()
                .map(|p| p.id)
                .collect::<Vec<_>>()
        ),
    );

    // Orders, idempotency, the queue with leases.
    use engine::orders::{self, AccountKind, CustomerInput, ItemInput, OrderInput, TotalsInput};
    let input = |n: &str| {
        OrderInput {
            order_number: n.into(),
            placed_at: "2026-11-27T21:00:00Z".into(),
            currency: "usd".into(),
            items: vec![ItemInput {
                name: "Mug".into(),
                quantity: 3,
                unit_price: 333,
            }],
            totals: TotalsInput {
                subtotal: 999,
                tax: 1,
                shipping: 0,
                discount: 0,
                total: 1000,
            },
            customer: CustomerInput {
                email: "C@Example.com".into(),
                name: "C".into(),
                phone: None,
                account_kind: AccountKind::LoggedIn,
                customer_ref: Some("cust-1".into()),
                whatsapp_opt_in: false,
                locale: None,
            },
            client_ip: Some("2001:db8::1".into()),
            billing_address: None,
        }
        .validate()
        .expect("valid")
    };
    for (n, key) in [
        ("O-1", None),
        ("O-1", None),
        ("O-2", Some("idem")),
        ("O-3", Some("idem")),
    ] {
        let r = orders::intake(db, T0 + 100, input(n), key)
            .await
            .expect("intake");
        log(
            "intake",
            format!(
                "{} {:?}",
                matches!(r, orders::Intake::Created(_)),
                r.order()
            ),
        );
    }
    log(
        "find",
        format!(
            "{:?}",
            orders::find_by_number(db, "O-2")
                .await
                .map(|o| o.map(|o| o.id))
        ),
    );
    log(
        "recent",
        format!(
            "{:?}",
            orders::list_recent(db, None, 10)
                .await
                .map(|v| v.iter().map(|o| o.id).collect::<Vec<_>>())
        ),
    );
    log("events", format!("{:?}", orders::events(db, 1).await));
    use engine::delivery::queue;
    // Send tokens are random: each is shown by when it was first seen, so a
    // re-claim that keeps its job's token reads the same on both backends.
    let mut tokens: Vec<String> = Vec::new();
    log("depth", format!("{:?}", queue::depth(db).await));
    log("next due", format!("{:?}", queue::next_due(db).await));
    log(
        "claim early",
        claims(&mut tokens, queue::claim(db, T0 + 99, "w1", 1000, 10).await),
    );
    let claimed = queue::claim(db, T0 + 100, "w1", 1000, 1)
        .await
        .expect("claim");
    log("claim 1", claims(&mut tokens, Ok(claimed.clone())));
    log(
        "claim rest",
        claims(
            &mut tokens,
            queue::claim(db, T0 + 100, "w2", 1000, 10).await,
        ),
    );
    log(
        "claim none",
        claims(
            &mut tokens,
            queue::claim(db, T0 + 500, "w2", 1000, 10).await,
        ),
    );
    log(
        "lease expired",
        claims(
            &mut tokens,
            queue::claim(db, T0 + 1_101, "w3", 1000, 10).await,
        ),
    );
    if let Some(j) = claimed.first() {
        log(
            "release wrong owner",
            format!("{:?}", queue::release(db, j.id, "w1").await),
        );
        log(
            "release",
            format!("{:?}", queue::release(db, j.id, "w3").await),
        );
    }
    log("depth after", format!("{:?}", queue::depth(db).await));

    log("ping", format!("{:?}", db.ping().await.is_ok()));
    log(
        "migrations",
        format!("{:?}", db.migrations_current().await.ok()),
    );
    out
}

#[tokio::test]
async fn both_backends_give_the_same_answers() {
    let backends = all_backends().await;
    let mut transcripts = Vec::new();
    for t in backends {
        let name = t.db.backend_name();
        let lines = scenario(&t.db).await;
        t.cleanup().await;
        transcripts.push((name, lines));
    }
    let (base_name, base) = &transcripts[0];
    // Sanity: the scenario saw what it should.
    let text = base.join("\n");
    assert!(
        text.contains("dup: Err(\"conflict: a user with that email already exists\")"),
        "{text}"
    );
    assert!(
        text.contains("locked: Err(Locked { retry_after_secs: 30 })"),
        "{text}"
    );
    assert!(
        text.contains("after expiry: Ok(\"b.agent@example.com\")"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "disabled login: {:?}",
            Err::<String, _>(LoginError::Invalid)
        )),
        "{text}"
    );
    assert!(
        text.contains("demote last admin: Err(\"conflict: this is the last enabled admin"),
        "{text}"
    );
    for (name, lines) in &transcripts[1..] {
        for (a, b) in base.iter().zip(lines) {
            assert_eq!(a, b, "{base_name} and {name} disagree");
        }
        assert_eq!(base.len(), lines.len());
    }
    println!(
        "repository scenario: {} answers compared across {} backend(s)",
        base.len(),
        transcripts.len()
    );
}

/// Claimed jobs as the transcript shows them: each send token (24 hex digits,
/// random) replaced by its number in order of first appearance.
fn claims(
    tokens: &mut Vec<String>,
    jobs: engine::Result<Vec<engine::delivery::queue::Job>>,
) -> String {
    let jobs = jobs.map(|jobs| {
        jobs.into_iter()
            .map(|mut j| {
                j.send_token = j.send_token.map(|t| {
                    assert!(
                        t.len() == 24 && t.bytes().all(|b| b.is_ascii_hexdigit()),
                        "{t}"
                    );
                    let n = match tokens.iter().position(|seen| *seen == t) {
                        Some(n) => n,
                        None => {
                            tokens.push(t);
                            tokens.len() - 1
                        }
                    };
                    format!("token#{n}")
                });
                j
            })
            .collect::<Vec<_>>()
    });
    format!("{jobs:?}")
}
