//! `rebound privacy erase` and `rebound privacy retention`, run as real
//! processes against both backends.

use engine::testing::all_backends;
use engine::{Clock, Db, SystemClock};
use std::process::Command;

const DAY: i64 = 86_400_000;

fn rebound(db: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rebound"))
        .args(args)
        .env("DATABASE_URL", db)
        .env("REBOUND_LOG__LEVEL", "info")
        .output()
        .expect("run");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn order(number: &str, email: &str) -> engine::orders::ValidOrder {
    engine::orders::OrderInput {
        order_number: number.into(),
        placed_at: "2026-11-27T21:00:00Z".into(),
        currency: "EUR".into(),
        items: vec![engine::orders::ItemInput {
            name: "Mug".into(),
            quantity: 1,
            unit_price: 1000,
        }],
        totals: engine::orders::TotalsInput {
            subtotal: 1000,
            tax: 0,
            shipping: 0,
            discount: 0,
            total: 1000,
        },
        customer: engine::orders::CustomerInput {
            email: email.into(),
            name: "Jane Doe".into(),
            phone: Some("+4915112345678".into()),
            account_kind: engine::orders::AccountKind::Guest,
            customer_ref: None,
            whatsapp_opt_in: false,
            locale: None,
        },
        client_ip: Some("203.0.113.7".into()),
        billing_address: None,
    }
    .validate()
    .expect("valid order")
}

async fn count(db: &Db, sql: &str) -> i64 {
    engine::on_pool!(db, p => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await).expect(sql)
}

#[tokio::test]
async fn erase_and_retention_from_the_command_line() {
    for t in all_backends().await {
        let db = &t.db;
        let b = db.backend_name();
        let now = SystemClock::new().now_ms();
        let jane = engine::orders::intake(db, now, order("J-1", "jane@example.com"), None)
            .await
            .expect("intake")
            .order()
            .id;
        engine::suppression::suppress(db, now, "jane@example.com", "userunknown", "dsn", None)
            .await
            .expect("suppress");
        // Delivered 400 days ago: due for deletion.
        let old =
            engine::orders::intake(db, now - 400 * DAY, order("OLD-1", "old@example.com"), None)
                .await
                .expect("intake")
                .order()
                .id;
        engine::exec_on_pool!(db, p => sqlx::query(
            "UPDATE orders SET state = 'accepted' WHERE id = $1"
        ).bind(old).execute(p).await)
        .expect("accepted");
        engine::exec_on_pool!(db, p => sqlx::query(
            "UPDATE jobs SET state = 'done' WHERE order_id = $1"
        ).bind(old).execute(p).await)
        .expect("done");

        let (ok, out, err) = rebound(&t.url, &["privacy", "erase", "--email", "Jane@Example.com"]);
        assert!(ok, "[{b}] {err}");
        assert!(
            out.contains("erased j***@example.com: 1 orders anonymised"),
            "[{b}] {out}"
        );
        assert!(
            out.contains(&engine::erasure::suppression_key("jane@example.com")),
            "[{b}] {out}"
        );
        let all = format!("{out}{err}").to_lowercase();
        assert!(
            !all.contains("jane@example.com"),
            "[{b}] the full address never reaches the output or the logs: {all}"
        );
        let o = engine::orders::get(db, jane)
            .await
            .expect("get")
            .expect("order");
        assert_eq!(o.customer_email, format!("erased-{jane}@erased.invalid"));
        assert_eq!(o.customer_phone, None);
        assert_eq!(o.client_ip, None);
        assert!(
            engine::suppression::active(db, now, "jane@example.com")
                .await
                .expect("active")
                .is_some(),
            "[{b}] still suppressed"
        );
        assert_eq!(
            count(
                db,
                "SELECT COUNT(*) FROM suppressions WHERE email = 'jane@example.com'"
            )
            .await,
            0,
            "[{b}] only the hash is stored"
        );
        assert_eq!(
            count(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'privacy.erase' AND actor = 'cli' AND target = 'j***@example.com'").await,
            1,
            "[{b}]"
        );
        // A bad address is refused, with a message.
        let (ok, _, err) = rebound(&t.url, &["privacy", "erase", "--email", "not-an-email"]);
        assert!(!ok && err.contains("valid email"), "[{b}] {err}");

        // Staff data: an audit entry from an old sign-in, an account disabled 100 days ago.
        engine::audit::record(
            db,
            now - 40 * DAY,
            &engine::audit::Actor {
                user_id: None,
                name: "gone@staff.example".into(),
                ip: Some("198.51.100.23".into()),
            },
            "login",
            "gone@staff.example",
            "signed in",
        )
        .await
        .expect("audit");
        let gone = engine::accounts::create_user(
            db,
            now - 200 * DAY,
            engine::accounts::NewUser {
                email: "gone@staff.example".into(),
                display_name: "Gone Agent".into(),
                role: engine::accounts::Role::Agent,
                password: "a long enough password".into(),
            },
        )
        .await
        .expect("user")
        .id;
        engine::accounts::set_disabled(db, now - 100 * DAY, gone, true)
            .await
            .expect("disable");

        let (ok, out, err) = rebound(&t.url, &["privacy", "retention"]);
        assert!(ok, "[{b}] {err}");
        assert!(out.contains("1 delivered orders deleted"), "[{b}] {out}");
        assert!(out.contains("1 client IPs truncated"), "[{b}] {out}");
        assert!(out.contains("1 audit-log IPs truncated"), "[{b}] {out}");
        assert!(
            out.contains("1 disabled staff accounts anonymised"),
            "[{b}] {out}"
        );
        assert!(
            !format!("{out}{err}").contains("gone@staff.example"),
            "[{b}] the staff address never reaches the output or the logs"
        );
        assert_eq!(
            count(db, &format!("SELECT COUNT(*) FROM orders WHERE id = {old}")).await,
            0,
            "[{b}]"
        );
        assert_eq!(
            count(
                db,
                &format!("SELECT COUNT(*) FROM jobs WHERE order_id = {old}")
            )
            .await,
            0,
            "[{b}]"
        );
        assert_eq!(
            count(db, "SELECT COUNT(*) FROM orders").await,
            1,
            "[{b}] the erased order stays"
        );
        t.cleanup().await;
    }
}
