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
                role: engine::delivery::pools::PoolRole::Primary,
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
        worker.run_once().await.expect("send");
        engine::periodic::Periodic::for_worker(&worker)
            .tick()
            .await
            .expect("periodic round");
        // The pass runs beside the sends, in its own task; it records its
        // run time last, after every deletion, so that is what we wait for.
        let mut last_run = 0;
        for _ in 0..200 {
            last_run = count(db, "SELECT last_run_at FROM privacy_state").await;
            if last_run == T0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(last_run, T0, "[{b}] the worker's pass finished");
        assert_eq!(
            count(db, "SELECT COUNT(*) FROM orders").await,
            0,
            "[{b}] the old delivered order was deleted by the worker's pass"
        );
        t.cleanup().await;
    }
}

/// A staff account, created at `at`.
async fn staff(db: &Db, at: i64, email: &str, role: engine::accounts::Role) -> i64 {
    engine::accounts::create_user(
        db,
        at,
        engine::accounts::NewUser {
            email: email.into(),
            display_name: format!("Name of {email}"),
            role,
            password: "a long enough password".into(),
        },
    )
    .await
    .expect("user")
    .id
}

/// An audit entry by `actor` (a staff email) from `ip`.
async fn audit_at(
    db: &Db,
    at: i64,
    user_id: Option<i64>,
    actor: &str,
    ip: Option<&str>,
    target: &str,
) {
    engine::audit::record(
        db,
        at,
        &Actor {
            user_id,
            name: actor.into(),
            ip: ip.map(str::to_string),
        },
        "login",
        target,
        &format!("signed in as {actor}"),
    )
    .await
    .expect("audit");
}

/// A shop webhook event created at `at`, left in `state`, with one delivery try.
async fn webhook_event(db: &Db, at: i64, state: &str) -> i64 {
    let id = engine::shop_webhooks::enqueue(
        db,
        at,
        "receipt.held",
        serde_json::json!({ "order_number": "W-1", "customer_ref": "cust-4711" }),
    )
    .await
    .expect("event");
    exec(
        db,
        &format!("UPDATE webhook_events SET state = '{state}', attempts = 1 WHERE id = {id}"),
    )
    .await;
    exec(
        db,
        &format!(
        "INSERT INTO webhook_deliveries (event_id, attempt, at, status_code, error, duration_ms)
         VALUES ({id}, 1, {at}, 500, 'server error', 12)"
    ),
    )
    .await;
    id
}

#[tokio::test]
async fn retention_cuts_staff_ips_deletes_finished_webhooks_and_anonymises_disabled_staff() {
    use engine::accounts::Role;
    for t in all_backends().await {
        let db = &t.db;
        let b = db.backend_name();
        let cfg = PrivacyConfig::default();

        // Audit entries: two old ones (IPv4, IPv6), one recent, one old without an address.
        audit_at(db, T0 - 40 * DAY, None, "cli", Some("203.0.113.7"), "x").await;
        audit_at(db, T0 - 40 * DAY, None, "cli", Some("2001:db8:1:2::7"), "y").await;
        audit_at(db, T0 - DAY, None, "cli", Some("192.0.2.55"), "z").await;
        audit_at(db, T0 - 40 * DAY, None, "system", None, "w").await;

        // Shop webhook events: old delivered and old failed go (with their tries);
        // old but still pending stays; recent delivered stays.
        let delivered_old = webhook_event(db, T0 - 40 * DAY, "delivered").await;
        let failed_old = webhook_event(db, T0 - 40 * DAY, "failed").await;
        let pending_old = webhook_event(db, T0 - 40 * DAY, "pending").await;
        let delivered_new = webhook_event(db, T0 - DAY, "delivered").await;
        // ESP webhook rejection counts: one not added to for 40 days, one recent.
        exec(
            db,
            &format!(
                "INSERT INTO webhook_rejections (provider, reason, rejected, first_at, last_at)
             VALUES ('ses', 'bad signature', 3, {}, {}), ('mailgun', 'bad signature', 1, {}, {})",
                T0 - 50 * DAY,
                T0 - 40 * DAY,
                T0 - 2 * DAY,
                T0 - DAY
            ),
        )
        .await;
        // Sign-in throttle keys: stale (goes), recent (stays), stale but still locked (stays).
        exec(
            db,
            &format!(
                "INSERT INTO login_throttle (key, failures, last_failure_at, locked_until) VALUES
             ('ip:198.51.100.1', 2, {}, 0), ('ip:198.51.100.2', 1, {}, 0),
             ('account:locked@staff.example', 9, {}, {})",
                T0 - 2 * 3_600_000,
                T0 - 60_000,
                T0 - 2 * 3_600_000,
                T0 + 600_000
            ),
        )
        .await;

        // Staff: `gone` disabled 100 days ago (anonymised), `resting` 10 days ago
        // (kept), `active` enabled, `legacy` disabled before the date was kept.
        let _admin = staff(db, T0 - 300 * DAY, "admin@staff.example", Role::Admin).await;
        let gone = staff(db, T0 - 300 * DAY, "Gone.Agent@Staff.example", Role::Agent).await;
        let resting = staff(db, T0 - 300 * DAY, "resting@staff.example", Role::Agent).await;
        let active = staff(db, T0 - 300 * DAY, "active@staff.example", Role::Manager).await;
        let legacy = staff(db, T0 - 300 * DAY, "legacy@staff.example", Role::Agent).await;
        engine::accounts::set_disabled(db, T0 - 100 * DAY, gone, true)
            .await
            .expect("disable");
        // Disabling again keeps the first date.
        engine::accounts::set_disabled(db, T0 - 50 * DAY, gone, true)
            .await
            .expect("disable");
        engine::accounts::set_disabled(db, T0 - 10 * DAY, resting, true)
            .await
            .expect("disable");
        exec(
            db,
            &format!("UPDATE users SET disabled = TRUE WHERE id = {legacy}"),
        )
        .await;
        // Where `gone`'s address was written down: the audit log (as actor, target
        // and in a detail), a link it issued (and its timeline line), an API key,
        // a support case it resolved, an SMS it asked for.
        const GONE: &str = "gone.agent@staff.example";
        audit_at(
            db,
            T0 - 200 * DAY,
            Some(gone),
            GONE,
            Some("203.0.113.9"),
            "order A-1",
        )
        .await;
        audit_at(
            db,
            T0 - 200 * DAY,
            Some(_admin),
            "admin@staff.example",
            None,
            GONE,
        )
        .await;
        let order = full_order(db, T0 - 2 * DAY, "S-1", "customer@example.com", None).await;
        let stored = orders::get(db, order).await.expect("get").expect("order");
        engine::links::issue(db, T0 - 2 * DAY, &stored, "sms", GONE, 3_600_000)
            .await
            .expect("link");
        engine::apikeys::create(db, T0 - 200 * DAY, "shop", GONE)
            .await
            .expect("key");
        exec(
            db,
            &format!("UPDATE sms_messages SET requested_by = '{GONE}' WHERE order_id = {order}"),
        )
        .await;
        exec(db, &format!(
            "INSERT INTO support_cases (order_id, priority, reason, opened_at, due_at, status, resolved_at, resolved_by)
             VALUES ({order}, 1, 'held', {T0}, {T0}, 'resolved', {T0}, 'Gone.Agent@staff.example')"
        )).await;
        exec(
            db,
            &format!(
                "INSERT INTO login_throttle (key, failures, last_failure_at, locked_until)
             VALUES ('account:{GONE}', 1, {}, 0)",
                T0 - 60_000
            ),
        )
        .await;

        let r = retention::run_now(db, T0, &cfg)
            .await
            .expect("pass")
            .expect("this process had the lease");
        assert_eq!(r.audit_ips_truncated, 3, "[{b}] {r:?}");
        assert_eq!(r.webhook_events_deleted, 2, "[{b}] {r:?}");
        assert_eq!(r.webhook_rejections_deleted, 1, "[{b}] {r:?}");
        // The stale IP key; `gone`'s account key goes with the anonymisation.
        assert_eq!(r.login_throttles_deleted, 1, "[{b}] {r:?}");
        assert_eq!(r.users_anonymised, 1, "[{b}] {r:?}");

        // Audit IPs: old ones cut to their network, the recent one kept.
        let ips = |at: i64| {
            format!(
                "SELECT COUNT(*) FROM audit_log WHERE at = {at} AND ip IS NOT NULL AND ip NOT LIKE '%/%'"
            )
        };
        assert_eq!(count(db, &ips(T0 - 40 * DAY)).await, 0, "[{b}]");
        assert_eq!(count(db, &ips(T0 - DAY)).await, 1, "[{b}] recent IPs stay");
        assert_eq!(
            text(db, "SELECT ip FROM audit_log WHERE target = 'x'")
                .await
                .as_deref(),
            Some("203.0.113.0/24"),
            "[{b}]"
        );
        assert_eq!(
            text(db, "SELECT ip FROM audit_log WHERE target = 'y'")
                .await
                .as_deref(),
            Some("2001:db8:1::/48"),
            "[{b}]"
        );

        // Webhooks: finished old events and their tries gone; pending and recent kept.
        for (id, kept) in [
            (delivered_old, false),
            (failed_old, false),
            (pending_old, true),
            (delivered_new, true),
        ] {
            let n = count(
                db,
                &format!("SELECT COUNT(*) FROM webhook_events WHERE id = {id}"),
            )
            .await;
            let tries = count(
                db,
                &format!("SELECT COUNT(*) FROM webhook_deliveries WHERE event_id = {id}"),
            )
            .await;
            assert_eq!(
                (n, tries),
                if kept { (1, 1) } else { (0, 0) },
                "[{b}] event {id}"
            );
        }
        assert_eq!(
            count(
                db,
                "SELECT COUNT(*) FROM webhook_rejections WHERE provider = 'mailgun'"
            )
            .await,
            1,
            "[{b}] the recent rejection count stays"
        );
        assert_eq!(
            count(db, "SELECT COUNT(*) FROM webhook_rejections").await,
            1,
            "[{b}]"
        );
        assert_eq!(
            count(db, "SELECT COUNT(*) FROM login_throttle WHERE key IN ('ip:198.51.100.2', 'account:locked@staff.example')").await,
            2,
            "[{b}] recent and locked keys stay"
        );
        assert_eq!(
            count(db, "SELECT COUNT(*) FROM login_throttle").await,
            2,
            "[{b}]"
        );

        // `gone`: placeholder email and name, no password, the row kept.
        let u = engine::accounts::get_user(db, gone)
            .await
            .expect("get")
            .expect("row kept");
        assert_eq!(
            u.email,
            format!("deleted-user-{gone}@deleted.invalid"),
            "[{b}]"
        );
        assert_eq!(u.display_name, format!("Deleted user {gone}"), "[{b}]");
        assert!(u.disabled, "[{b}]");
        assert_eq!(
            text(
                db,
                &format!("SELECT password_hash FROM users WHERE id = {gone}")
            )
            .await
            .as_deref(),
            Some("!"),
            "[{b}]"
        );
        // Its address is nowhere any more (any letter case).
        for (table, col) in [
            ("users", "email"),
            ("users", "display_name"),
            ("audit_log", "actor"),
            ("audit_log", "target"),
            ("audit_log", "detail"),
            ("order_events", "detail"),
            ("receipt_links", "created_by"),
            ("api_keys", "created_by"),
            ("support_cases", "resolved_by"),
            ("sms_messages", "requested_by"),
            ("login_throttle", "key"),
        ] {
            let n = count(
                db,
                &format!("SELECT COUNT(*) FROM {table} WHERE LOWER({col}) LIKE '%gone.agent%'"),
            )
            .await;
            assert_eq!(n, 0, "[{b}] {table}.{col} still holds the address");
        }
        // The audit log still points at the row, and says what happened.
        assert_eq!(
            count(db, &format!(
                "SELECT COUNT(*) FROM audit_log WHERE actor_user_id = {gone} AND actor = 'deleted-user-{gone}@deleted.invalid'"
            )).await,
            1,
            "[{b}]"
        );
        let entries = engine::audit::list(db, None, 50).await.expect("audit");
        let anonymised: Vec<_> = entries
            .iter()
            .filter(|e| e.action == "user.anonymise")
            .collect();
        assert_eq!(anonymised.len(), 1, "[{b}] {entries:?}");
        assert_eq!(
            anonymised[0].target,
            format!("deleted-user-{gone}@deleted.invalid")
        );
        assert_eq!(anonymised[0].actor, "system");
        assert_eq!(anonymised[0].at, T0);
        // An anonymised account cannot be enabled again.
        let again = engine::accounts::set_disabled(db, T0, gone, false).await;
        assert!(
            matches!(again, Err(engine::Error::Conflict(_))),
            "[{b}] {again:?}"
        );

        // The others keep their details; `legacy` now has its date.
        for (id, email) in [
            (resting, "resting@staff.example"),
            (active, "active@staff.example"),
            (legacy, "legacy@staff.example"),
        ] {
            let u = engine::accounts::get_user(db, id)
                .await
                .expect("get")
                .expect("user");
            assert_eq!(u.email, email, "[{b}]");
        }
        assert_eq!(
            count(
                db,
                &format!("SELECT disabled_at FROM users WHERE id = {legacy}")
            )
            .await,
            T0,
            "[{b}] dated by the first pass that saw it"
        );
        assert_eq!(
            count(
                db,
                &format!("SELECT COUNT(*) FROM users WHERE id = {active} AND disabled_at IS NULL")
            )
            .await,
            1,
            "[{b}]"
        );

        // 91 days on: `resting` and `legacy` are due too, `gone` is not counted twice;
        // enabling clears the date, so an enabled account is never anonymised.
        engine::accounts::set_disabled(db, T0, resting, false)
            .await
            .expect("enable");
        let later = T0 + 91 * DAY;
        let r = retention::run_now(db, later, &cfg)
            .await
            .expect("pass")
            .expect("lease");
        assert_eq!(r.users_anonymised, 1, "[{b}] {r:?}");
        assert_eq!(
            engine::accounts::get_user(db, legacy)
                .await
                .expect("get")
                .expect("user")
                .email,
            format!("deleted-user-{legacy}@deleted.invalid"),
            "[{b}]"
        );
        assert_eq!(
            engine::accounts::get_user(db, resting)
                .await
                .expect("get")
                .expect("user")
                .email,
            "resting@staff.example",
            "[{b}]"
        );
        assert_eq!(
            count(
                db,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'user.anonymise'"
            )
            .await,
            2,
            "[{b}]"
        );
        t.cleanup().await;
    }
}

/// A finished send attempt; returns its id.
async fn attempt(
    db: &Db,
    order: i64,
    no: i64,
    pool: i64,
    at: i64,
    outcome: &str,
    class: Option<&str>,
) -> i64 {
    let class = class.map_or("NULL".to_string(), |c| format!("'{c}'"));
    exec(db, &format!(
        "INSERT INTO delivery_attempts (order_id, attempt_no, pool_id, message_id, verp_token, started_at, finished_at, outcome, class)
         VALUES ({order}, {no}, {pool}, 'm{order}.{no}@x', 'v{order}.{no}', {at}, {at}, '{outcome}', {class})"
    )).await;
    count(
        db,
        &format!("SELECT id FROM delivery_attempts WHERE order_id = {order} AND attempt_no = {no}"),
    )
    .await
}

/// Every number the Overview and the Trends page read from the rollups, over `from..=to`.
async fn dashboard_numbers(db: &Db, from: i64, to: i64) -> String {
    use engine::stats::{self, Group, charts};
    let mut out = String::new();
    for g in [
        Group::Day,
        Group::DayProvider,
        Group::DayPool,
        Group::DayNetwork,
    ] {
        out.push_str(&format!(
            "{g:?}: {:?}\n",
            stats::by_day(db, from, to, g).await.expect("by_day")
        ));
    }
    out.push_str(&format!(
        "totals: {:?}\n",
        stats::totals(db, from, to).await.expect("totals")
    ));
    out.push_str(&format!(
        "retries: {:?}\n",
        stats::retries(db, from, to).await.expect("retries")
    ));
    out.push_str(&format!(
        "risk history: {:?}\n",
        stats::by_pool_provider_network(db, from, to)
            .await
            .expect("history")
    ));
    for kind in charts::ChartKind::ALL {
        let c = charts::build(db, kind, from, to).await.expect("chart");
        out.push_str(&format!("{kind:?}: {:?}\n", c.series));
    }
    out
}

#[tokio::test]
async fn rollups_keep_the_orders_retention_deletes_whatever_rebuilds_their_days() {
    use engine::stats;
    const LOOKBACK: i64 = 70 * 60_000;
    for t in all_backends().await {
        let db = &t.db;
        let b = db.backend_name();
        let old = T0 - 400 * DAY;
        let (d_old, today) = (stats::day_of(old), stats::day_of(T0));
        // Four orders placed on one day 400 days ago (pool from `full_order`'s helper).
        let pool = {
            let o = full_order(db, old, "P-0", "first@example.com", None).await;
            exec(
                db,
                &format!(
                    "UPDATE orders SET state = 'accepted', reached_at = {} WHERE id = {o}",
                    old + 60_000
                ),
            )
            .await;
            count(db, "SELECT MAX(id) FROM sender_pools").await
        };
        let mk = move |n: &'static str, e: &'static str| async move {
            orders::intake(db, old + 1_000, order(n, e, Some("203.0.113.7")), None)
                .await
                .expect("intake")
                .order()
                .id
        };
        // Deferred, then accepted on the retry; reached 2 h after intake.
        let retried = mk("P-1", "retried@gmail.com").await;
        attempt(
            db,
            retried,
            1,
            pool,
            old + 3_600_000,
            "deferred",
            Some("transient"),
        )
        .await;
        attempt(db, retried, 2, pool, old + 7_200_000, "accepted", None).await;
        exec(
            db,
            &format!(
                "UPDATE orders SET state = 'accepted', reached_at = {} WHERE id = {retried}",
                old + 7_200_000
            ),
        )
        .await;
        // Accepted, then a complaint the next day, tied to the attempt.
        let complained = mk("P-2", "complained@yahoo.com").await;
        let a = attempt(db, complained, 1, pool, old + 60_000, "accepted", None).await;
        exec(
            db,
            &format!(
                "UPDATE orders SET state = 'accepted', reached_at = {} WHERE id = {complained}",
                old + 60_000
            ),
        )
        .await;
        exec(db, &format!(
            "INSERT INTO bounces (received_at, source, order_id, attempt_id, matched_by, recipient, reason, class, hard, rule, diagnostic)
             VALUES ({}, 'arf', {complained}, {a}, 'verp', 'complained@yahoo.com', 'feedback', 'complaint', FALSE, 'arf', 'abuse')",
            old + DAY + 5_000
        )).await;
        // Accepted only on a masked re-send two days later (a later day's send counters).
        let late = mk("P-3", "late@outlook.com").await;
        attempt(db, late, 1, pool, old + 2 * DAY, "accepted", None).await;
        exec(
            db,
            &format!(
                "UPDATE orders SET state = 'accepted', reached_at = {} WHERE id = {late}",
                old + 2 * DAY
            ),
        )
        .await;
        // Refused for good and held: retention keeps it.
        let held = mk("P-4", "held@example.com").await;
        attempt(
            db,
            held,
            1,
            pool,
            old + 60_000,
            "rejected",
            Some("recipient_permanent"),
        )
        .await;
        exec(db, &format!("UPDATE orders SET state = 'held', fallback_at = {0}, updated_at = {0} WHERE id = {held}", old + 120_000)).await;
        exec(db, "UPDATE jobs SET state = 'done'").await;
        // Scored at intake (the risk-decile chart): spread over the deciles.
        exec(db, "UPDATE orders SET risk_score = 5 + 23 * (id % 5)").await;

        assert_eq!(
            stats::refresh(db, T0, LOOKBACK)
                .await
                .expect("refresh")
                .map(|n| n > 0),
            Some(true)
        );
        let before = dashboard_numbers(db, d_old - 1, today).await;
        let day = stats::totals(db, d_old, d_old).await.expect("totals");
        assert_eq!(
            (day.orders, day.sent, day.accepted, day.held, day.reached),
            (5, 5, 3, 1, 4),
            "[{b}] {day:?}"
        );
        let deciles =
            engine::risk::calibration::deciles_between(db, d_old * DAY, (today + 1) * DAY)
                .await
                .expect("deciles");
        assert_eq!(
            deciles.iter().map(|d| d.orders).sum::<i64>(),
            5,
            "[{b}] {deciles:?}"
        );

        let r = retention::run_now(db, T0, &PrivacyConfig::default())
            .await
            .expect("pass")
            .expect("lease");
        assert_eq!(r.orders_deleted, 4, "[{b}] {r:?}");
        assert_eq!(
            count(db, "SELECT COUNT(*) FROM orders").await,
            1,
            "[{b}] the held order stays"
        );
        assert_eq!(
            dashboard_numbers(db, d_old - 1, today).await,
            before,
            "[{b}] right after the deletion"
        );

        // The old days rebuilt on purpose (`rebound demo` does this for a range).
        stats::rebuild(db, d_old - 1, today).await.expect("rebuild");
        assert_eq!(
            dashboard_numbers(db, d_old - 1, today).await,
            before,
            "[{b}] after rebuilding the range"
        );

        // The held order of that day changes: its day is recomputed by the next refresh.
        exec(
            db,
            &format!(
                "UPDATE orders SET updated_at = {} WHERE id = {held}",
                T0 + 1_000
            ),
        )
        .await;
        stats::refresh(db, T0 + 120_000, LOOKBACK)
            .await
            .expect("refresh")
            .expect("lease");
        assert_eq!(
            dashboard_numbers(db, d_old - 1, today).await,
            before,
            "[{b}] after a late change to that day"
        );

        // Rollups dropped and rebuilt from scratch (as a migration may do).
        exec(db, "DELETE FROM stats_daily").await;
        exec(db, "DELETE FROM stats_attempts_daily").await;
        exec(db, "UPDATE stats_state SET watermark = 0").await;
        stats::refresh(db, T0 + 240_000, LOOKBACK)
            .await
            .expect("refresh")
            .expect("lease");
        assert_eq!(
            dashboard_numbers(db, d_old - 1, today).await,
            before,
            "[{b}] after a full rebuild"
        );

        // A second pass deletes nothing more and counts nothing twice.
        let r = retention::run_now(db, T0 + 300_000, &PrivacyConfig::default())
            .await
            .expect("pass")
            .expect("lease");
        assert_eq!(r.orders_deleted, 0, "[{b}]");
        stats::rebuild(db, d_old - 1, today).await.expect("rebuild");
        assert_eq!(
            dashboard_numbers(db, d_old - 1, today).await,
            before,
            "[{b}] after a second pass"
        );
        t.cleanup().await;
    }
}
