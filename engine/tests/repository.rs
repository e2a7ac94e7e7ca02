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
            accounts::set_disabled(db, admin.id, true)
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
        format!("{:?}", accounts::set_disabled(db, agent.id, true).await),
    );
    log(
        "enable",
        format!("{:?}", accounts::set_disabled(db, agent.id, false).await),
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
    accounts::set_disabled(db, agent.id, true)
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
