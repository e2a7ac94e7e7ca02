//! Privacy on both databases: the retention pass (raw bounces blanked, client
//! IPs cut to their network, old delivered orders deleted with everything tied
//! to them, one process at a time) and the erasure of one customer.

use engine::audit::Actor;
use engine::config::PrivacyConfig;
use engine::orders::{self, AccountKind};
use engine::testing::{all_backends, fixtures};
use engine::{Db, erasure, retention};

const T0: i64 = 1_800_000_000_000;
const DAY: i64 = 86_400_000;

/// A logged-in customer's order with a phone number: every personal field set.
fn order(number: &str, email: &str, ip: Option<&str>) -> engine::orders::ValidOrder {
    let mut o = fixtures::order_input(number, email);
    o.customer.name = "Jane Doe".into();
    o.customer.phone = Some("+4915112345678".into());
    o.customer.account_kind = AccountKind::LoggedIn;
    o.customer.customer_ref = Some("cust-4711".into());
    o.client_ip = ip.map(str::to_string);
    o.validate().expect("valid order")
}

async fn exec(db: &Db, sql: &str) {
    engine::exec_on_pool!(db, p => sqlx::query(sql).execute(p).await).expect(sql);
}

async fn count(db: &Db, sql: &str) -> i64 {
    engine::on_pool!(db, p => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await).expect(sql)
}

async fn text(db: &Db, sql: &str) -> Option<String> {
    engine::on_pool!(db, p => sqlx::query_scalar::<_, Option<String>>(sql).fetch_one(p).await)
        .expect(sql)
}

async fn ip(db: &Db, id: i64) -> Option<String> {
    text(db, &format!("SELECT client_ip FROM orders WHERE id = {id}")).await
}

async fn raw(db: &Db, id: i64) -> Option<String> {
    text(
        db,
        &format!("SELECT raw FROM bounces WHERE order_id = {id}"),
    )
    .await
}

/// An order created at `at`, with an attempt, a bounce (raw kept), an event, a link, an SMS.
async fn full_order(db: &Db, at: i64, number: &str, email: &str, ip: Option<&str>) -> i64 {
    let o = orders::intake(db, at, order(number, email, ip), None)
        .await
        .expect("intake");
    let id = o.order().id;
    let pool = count(db, "SELECT COALESCE(MAX(id), 0) FROM sender_pools").await;
    let pool = if pool == 0 {
        engine::delivery::pools::create(
            db,
            at,
            engine::delivery::pools::NewPool {
                name: "primary",
                role: "primary",
                from_name: "Shop",
                from_address: "p@shop.example",
                relay_url: "capture://",
                max_per_second: 8,
                position: 0,
            },
        )
        .await
        .expect("pool")
        .id
    } else {
        pool
    };
    exec(db, &format!(
        "INSERT INTO delivery_attempts (order_id, attempt_no, pool_id, message_id, verp_token, started_at, finished_at, outcome, smtp_text)
         VALUES ({id}, 1, {pool}, 'm{id}@x', 'v{id}', {at}, {at}, 'accepted', '250 ok queued for <{email}>')"
    )).await;
    exec(db, &format!(
        "INSERT INTO bounces (received_at, source, order_id, matched_by, recipient, reason, class, hard, rule, diagnostic, raw)
         VALUES ({at}, 'dsn', {id}, 'verp', '{email}', 'mailboxfull', 'transient', FALSE, 'r1',
                 '452 4.2.2 <{email}> mailbox full', 'To: {email}\r\n\r\nraw report')"
    )).await;
    exec(db, &format!(
        "INSERT INTO order_events (order_id, at, kind, detail) VALUES ({id}, {at}, 'note', 'bounce for {email}')"
    )).await;
    exec(db, &format!(
        "INSERT INTO outbox (pool_id, order_id, message_id, envelope_from, envelope_to, subject, raw, created_at)
         VALUES ({pool}, {id}, 'm{id}@x', 'b@x', '{email}', 's', 'To: {email}', {at})"
    )).await;
    exec(db, &format!(
        "INSERT INTO sms_messages (order_id, kind, to_phone, body, provider, status, requested_by, created_at, updated_at)
         VALUES ({id}, 'sms', '+4915112345678', 'Hi Jane Doe, your receipt', 'capture', 'sent', 'agent', {at}, {at})"
    )).await;
    let stored = orders::get(db, id).await.expect("get").expect("order");
    let link = engine::links::issue(db, at, &stored, "sms", "agent", 3_600_000)
        .await
        .expect("link");
    exec(db, &format!(
        "INSERT INTO link_uses (link_id, at, action, ip_prefix, user_agent) VALUES ({}, {at}, 'view', '203.0.113.0/24', 'Firefox')",
        link.link.id
    )).await;
    id
}

#[tokio::test]
async fn retention_blanks_truncates_and_deletes_one_process_at_a_time() {
    for t in all_backends().await {
        let db = &t.db;
        let b = db.backend_name();
        // Delivered 400 days ago: deleted with everything tied to it.
        let old = full_order(
            db,
            T0 - 400 * DAY,
            "OLD",
            "old@example.com",
            Some("203.0.113.7"),
        )
        .await;
        // Held 400 days ago: kept (email failed; support may still need it).
        let held = full_order(
            db,
            T0 - 400 * DAY,
            "HELD",
            "held@example.com",
            Some("2001:db8:1:2::7"),
        )
        .await;
        // Delivered 40 days ago: kept, but its IP truncated and its raw bounce blanked.
        let mid = full_order(
            db,
            T0 - 40 * DAY,
            "MID",
            "mid@example.com",
            Some("198.51.100.23"),
        )
        .await;
        // Yesterday: untouched.
        let new = full_order(db, T0 - DAY, "NEW", "new@example.com", Some("192.0.2.55")).await;
        exec(
            db,
            &format!("UPDATE orders SET state = 'accepted' WHERE id IN ({old}, {mid}, {new})"),
        )
        .await;
        exec(
            db,
            &format!("UPDATE orders SET state = 'held' WHERE id = {held}"),
        )
        .await;
        exec(db, "UPDATE jobs SET state = 'done'").await;

        let r = retention::run_now(db, T0, &PrivacyConfig::default())
            .await
            .expect("pass")
            .expect("this process had the lease");
        // Raw bounces older than 30 days: OLD's, HELD's, MID's (OLD's then deleted anyway).
        assert_eq!(r.bounce_raw_blanked, 3, "[{b}] {r:?}");
        assert_eq!(r.ips_truncated, 3, "[{b}] {r:?}");
        assert_eq!(r.orders_deleted, 1, "[{b}] {r:?}");

        assert_eq!(
            ip(db, held).await.as_deref(),
            Some("2001:db8:1::/48"),
            "[{b}]"
        );
        assert_eq!(
            ip(db, mid).await.as_deref(),
            Some("198.51.100.0/24"),
            "[{b}]"
        );
        assert_eq!(
            ip(db, new).await.as_deref(),
            Some("192.0.2.55"),
            "[{b}] recent IPs stay"
        );
        assert_eq!(raw(db, mid).await, None, "[{b}]");
        assert!(
            raw(db, new).await.is_some_and(|r| r.contains("raw report")),
            "[{b}]"
        );
        // The old delivered order and every row tied to it are gone; the others stay.
        for table in [
            "delivery_attempts",
            "bounces",
            "order_events",
            "outbox",
            "sms_messages",
            "receipt_links",
            "jobs",
        ] {
            let n = count(
                db,
                &format!("SELECT COUNT(*) FROM {table} WHERE order_id = {old}"),
            )
            .await;
            assert_eq!(n, 0, "[{b}] {table} of the deleted order");
            let kept = count(
                db,
                &format!("SELECT COUNT(*) FROM {table} WHERE order_id = {held}"),
            )
            .await;
            assert!(kept > 0, "[{b}] {table} of the held order kept");
        }
        assert_eq!(
            count(db, "SELECT COUNT(*) FROM link_uses").await,
            3,
            "[{b}]"
        );
        assert_eq!(count(db, "SELECT COUNT(*) FROM orders").await, 3, "[{b}]");

        // Once per interval across processes, and never while another holds the lease.
        let again = retention::run_due(
            db,
            T0 + 1_000,
            &PrivacyConfig::default(),
            retention::INTERVAL_MS,
        )
        .await
        .expect("due");
        assert_eq!(again, None, "[{b}] not due again within the interval");
        exec(
            db,
            &format!("UPDATE privacy_state SET lease_until = {}", T0 + 60_000),
        )
        .await;
        let busy = retention::run_now(db, T0 + 2_000, &PrivacyConfig::default())
            .await
            .expect("now");
        assert_eq!(busy, None, "[{b}] another process holds the lease");
        // A second pass finds nothing left to do.
        let later = T0 + retention::INTERVAL_MS + 61_000;
        let r = retention::run_due(db, later, &PrivacyConfig::default(), retention::INTERVAL_MS)
            .await
            .expect("due")
            .expect("due again after the interval and the lease");
        assert!(r.is_empty(), "[{b}] {r:?}");
        t.cleanup().await;
    }
}

#[tokio::test]
async fn erasure_removes_a_customer_everywhere_and_keeps_the_address_suppressed() {
    const JANE: &str = "jane.doe@example.com";
    for t in all_backends().await {
        let db = &t.db;
        let b = db.backend_name();
        let a = full_order(db, T0, "J-1", "Jane.Doe@Example.com", Some("203.0.113.7")).await;
        let a2 = full_order(db, T0, "J-2", JANE, None).await;
        let other = full_order(db, T0, "O-1", "other@example.com", Some("198.51.100.1")).await;
        exec(
            db,
            &format!(
                "UPDATE orders SET billing_json = '{{\"line1\":\"1 Main St\"}}' WHERE id = {a}"
            ),
        )
        .await;
        engine::suppression::suppress(db, T0, JANE, "userunknown", "dsn", None)
            .await
            .expect("suppress");
        engine::soft_bounces::record(db, T0, JANE)
            .await
            .expect("soft");
        engine::audit::record(
            db,
            T0,
            &Actor::system(),
            "suppression.add",
            JANE,
            &format!("manual for {JANE}"),
        )
        .await
        .expect("audit");
        let case = engine::fallback::support::open(
            db,
            T0,
            a,
            1,
            &format!("held: {JANE} is dead"),
            &Default::default(),
        )
        .await
        .expect("case");
        exec(db, &format!("UPDATE support_cases SET resolution_note = 'called Jane on her mobile' WHERE id = {}", case.id)).await;
        engine::shop_webhooks::enqueue(
            db,
            T0,
            "receipt.held",
            serde_json::json!({ "order_number": "J-1", "customer_ref": "cust-4711", "message": "m" }),
        )
        .await
        .expect("event");
        exec(
            db,
            &format!("UPDATE jobs SET state = 'queued' WHERE order_id = {a2}"),
        )
        .await;

        let r = erasure::erase(db, T0 + 5, "  JANE.DOE@example.com ", &Actor::cli())
            .await
            .expect("erase");
        assert_eq!(r.orders, 2, "[{b}] {r:?}");
        assert_eq!(r.bounces, 2, "[{b}] {r:?}");
        // Jane's two, and one on another order sent to her phone number.
        assert_eq!(r.sms, 3, "[{b}] {r:?}");
        assert_eq!(r.webhook_events, 1, "[{b}] {r:?}");
        assert_eq!(r.suppressed_as, erasure::suppression_key(JANE));

        // Not one text column anywhere still holds the address, the phone or the name.
        let columns: &[(&str, &[&str])] = &[
            (
                "orders",
                &[
                    "customer_email",
                    "customer_name",
                    "customer_phone",
                    "customer_ref",
                    "client_ip",
                    "billing_json",
                    "state_detail",
                ],
            ),
            ("delivery_attempts", &["smtp_text"]),
            ("bounces", &["recipient", "diagnostic", "raw"]),
            ("order_events", &["detail"]),
            ("outbox", &["envelope_to", "raw"]),
            ("receipt_links", &["email"]),
            ("sms_messages", &["to_phone", "body"]),
            ("support_cases", &["reason", "resolution_note"]),
            ("suppressions", &["email"]),
            ("soft_bounces", &["email"]),
            ("audit_log", &["target", "detail"]),
            ("webhook_events", &["payload"]),
        ];
        for (table, cols) in columns {
            for col in *cols {
                for needle in [
                    JANE,
                    "+4915112345678",
                    "jane doe",
                    "cust-4711",
                    "203.0.113.7",
                    "1 main st",
                    "called jane",
                ] {
                    let scope = if *table == "orders"
                        || *table == "sms_messages"
                        || *table == "receipt_links"
                    {
                        format!(
                            " AND {} <> {other}",
                            if *table == "orders" { "id" } else { "order_id" }
                        )
                    } else if *table == "delivery_attempts"
                        || *table == "bounces"
                        || *table == "order_events"
                        || *table == "outbox"
                    {
                        format!(" AND order_id <> {other}")
                    } else {
                        String::new()
                    };
                    let n = count(db, &format!(
                        "SELECT COUNT(*) FROM {table} WHERE LOWER({col}) LIKE '%{needle}%'{scope}"
                    )).await;
                    assert_eq!(n, 0, "[{b}] {table}.{col} still holds {needle}");
                }
            }
        }
        // Links revoked and their use log gone; nothing more is sent to the order.
        assert_eq!(
            count(
                db,
                &format!(
                    "SELECT COUNT(*) FROM receipt_links WHERE order_id = {a} AND revoked_at IS NULL"
                )
            )
            .await,
            0
        );
        assert_eq!(count(db, &format!("SELECT COUNT(*) FROM link_uses WHERE link_id IN (SELECT id FROM receipt_links WHERE order_id IN ({a}, {a2}))")).await, 0);
        assert_eq!(
            count(
                db,
                &format!("SELECT COUNT(*) FROM jobs WHERE order_id = {a2} AND state = 'queued'")
            )
            .await,
            0
        );
        assert_eq!(
            count(
                db,
                &format!(
                    "SELECT COUNT(*) FROM orders WHERE id IN ({a}, {a2}) AND erased_at IS NOT NULL"
                )
            )
            .await,
            2
        );
        // The books stay: the orders exist with their totals.
        assert_eq!(
            count(
                db,
                &format!("SELECT total_minor FROM orders WHERE id = {a}")
            )
            .await,
            1500
        );
        // Still suppressed, by hash only.
        let s = engine::suppression::active(db, T0 + 10, "Jane.Doe@example.com")
            .await
            .expect("active")
            .expect("the address stays suppressed");
        assert!(
            s.email.starts_with("sha256:") && s.email.len() == 71,
            "{}",
            s.email
        );
        assert_eq!(s.reason, "userunknown", "[{b}] the reason carries over");
        // The erasure is audited, with the address masked.
        let audit = engine::audit::list(db, None, 10).await.expect("audit");
        let entry = audit
            .iter()
            .find(|e| e.action == "privacy.erase")
            .expect("audit entry");
        assert_eq!(entry.target, "j***@example.com");
        assert!(!entry.detail.contains(JANE));
        // The other customer is untouched.
        let o = orders::get(db, other).await.expect("get").expect("other");
        assert_eq!(o.customer_email, "other@example.com");
        assert_eq!(o.client_ip.as_deref(), Some("198.51.100.1"));
        assert_eq!(
            count(
                db,
                &format!(
                    "SELECT COUNT(*) FROM bounces WHERE order_id = {other} AND raw IS NOT NULL"
                )
            )
            .await,
            1
        );
        assert_eq!(
            count(
                db,
                &format!(
                    "SELECT COUNT(*) FROM sms_messages WHERE order_id = {other} AND to_phone <> ''"
                )
            )
            .await,
            0,
            "the same phone number on another order is erased too"
        );
        t.cleanup().await;
    }
}

#[tokio::test]
async fn the_send_worker_runs_the_retention_pass() {
    use engine::Clock;
    use std::sync::Arc;
    for t in all_backends().await {
        let db = &t.db;
        let b = db.backend_name();
        let old = full_order(db, T0 - 400 * DAY, "OLD", "old@example.com", None).await;
        exec(
            db,
            &format!("UPDATE orders SET state = 'accepted' WHERE id = {old}"),
        )
        .await;
        exec(db, "UPDATE jobs SET state = 'done'").await;
        let clock = engine::ManualClock::new(T0);
        let worker = engine::delivery::worker::Worker::new(
            db.clone(),
            Arc::new(clock) as Arc<dyn Clock>,
            &engine::Config::default(),
        )
        .expect("worker");
        worker.tick().await.expect("tick");
        // The pass runs beside the sends, in its own task.
        let mut left = 1;
        for _ in 0..100 {
            left = count(db, "SELECT COUNT(*) FROM orders").await;
            if left == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(
            left, 0,
            "[{b}] the old delivered order was deleted by the worker's pass"
        );
        assert_eq!(
            count(db, "SELECT last_run_at FROM privacy_state").await,
            T0,
            "[{b}]"
        );
        t.cleanup().await;
    }
}
