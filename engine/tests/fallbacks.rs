//! Fallbacks end to end on both databases, against real SMTP servers on
//! loopback: held orders get an account notification, a masked secure-link
//! re-send, or a critical support case, as the README's table says.

use engine::config::Config;
use engine::delivery::attempts::AttemptOutcome;
use engine::delivery::pools::{self, NewPool};
use engine::delivery::worker::Worker;
use engine::fallback::{notifications, support};
use engine::links::{self, Lookup};
use engine::orders::{self, AccountKind, CustomerInput, ItemInput, OrderInput, TotalsInput};
use engine::periodic::Periodic;
use engine::testing::all_backends;
use engine::testing::smtp_server::{Script, ScriptedSmtpServer};
use engine::{Clock, Db, ManualClock};
use std::sync::Arc;
use std::time::Duration;

const T0: i64 = 1_800_000_000_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

fn order(
    number: &str,
    email: &str,
    kind: AccountKind,
    customer_ref: Option<&str>,
) -> orders::ValidOrder {
    OrderInput {
        order_number: number.into(),
        placed_at: "2026-11-27T21:00:00Z".into(),
        currency: "EUR".into(),
        items: vec![ItemInput {
            name: "Teapot".into(),
            quantity: 1,
            unit_price: 4200,
        }],
        totals: TotalsInput {
            subtotal: 4200,
            tax: 0,
            shipping: 0,
            discount: 0,
            total: 4200,
        },
        customer: CustomerInput {
            email: email.into(),
            name: "Jane Doe".into(),
            phone: Some("+15551234567".into()),
            account_kind: kind,
            customer_ref: customer_ref.map(Into::into),
            whatsapp_opt_in: false,
            locale: None,
        },
        client_ip: None,
        billing_address: None,
    }
    .validate()
    .expect("valid order")
}

struct Rig {
    db: Db,
    clock: ManualClock,
    worker: Worker,
    /// The worker process's timers (fallback decisions, reach, rollups, ...).
    periodic: Periodic,
    primary: ScriptedSmtpServer,
    backup: ScriptedSmtpServer,
    masked: ScriptedSmtpServer,
}

async fn rig(db: Db) -> Rig {
    let clock = ManualClock::new(T0);
    let primary = ScriptedSmtpServer::start().await.expect("smtp");
    let backup = ScriptedSmtpServer::start().await.expect("smtp");
    let masked = ScriptedSmtpServer::start().await.expect("smtp");
    for (name, role, addr, pos) in [
        ("primary", "primary", primary.addr(), 0),
        ("backup", "backup", backup.addr(), 1),
        ("masked", "masked", masked.addr(), 2),
    ] {
        pools::create(
            &db,
            T0,
            NewPool {
                name,
                role: role.parse().expect("primary, backup or masked"),
                from_name: "Shop",
                from_address: &format!("{name}@shop.example"),
                relay_url: &format!("smtp://{addr}"),
                max_per_second: 8,
                position: pos,
            },
        )
        .await
        .expect("pool");
    }
    let mut config = Config::default();
    config.delivery.smtp_timeout_seconds = 5;
    config.delivery.lease_seconds = 60;
    config.public_url = Some("https://receipts.shop.example".into());
    let worker = Worker::new(
        db.clone(),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
        &config,
    )
    .expect("worker");
    let periodic = Periodic::for_worker(&worker);
    Rig {
        db,
        clock,
        worker,
        periodic,
        primary,
        backup,
        masked,
    }
}

impl Rig {
    /// One round of what a worker process does: a batch of sends, then one
    /// pass of the timers (the fallback decisions for newly held orders, ...).
    async fn tick(&self) {
        self.worker.run_once().await.expect("send");
        self.periodic.tick().await.expect("periodic round");
    }
}

async fn get(db: &Db, number: &str) -> orders::Order {
    orders::find_by_number(db, number)
        .await
        .expect("query")
        .expect("order")
}

/// Runs worker ticks, advancing the clock by `step` between them, until the
/// order is held (or gives up).
async fn until_held(r: &Rig, number: &str, step: i64) {
    for _ in 0..12 {
        r.tick().await;
        if get(&r.db, number).await.state == "held" {
            return;
        }
        r.clock.advance_ms(step);
    }
    panic!("{number} was never held");
}

fn token_in(message: &[u8]) -> String {
    let text = String::from_utf8_lossy(message);
    let start = text.find("/r/").expect("a link in the message") + 3;
    text[start..start + 43].to_string()
}

#[tokio::test]
async fn guest_after_soft_failures_gets_a_secure_link_through_the_masked_pool() {
    for t in all_backends().await {
        let r = rig(t.db.clone()).await;
        for s in [&r.primary, &r.backup] {
            s.script(
                "guest@example.com",
                Script::RejectRcpt(451, "4.3.0 Temporary local problem"),
            );
        }
        orders::intake(
            &r.db,
            T0,
            order("G-1", "guest@example.com", AccountKind::Guest, None),
            None,
        )
        .await
        .expect("intake");
        until_held(&r, "G-1", 3 * HOUR).await;
        // The next tick decides; the one after sends the masked re-send.
        r.tick().await;
        r.tick().await;
        let got = r.masked.wait_for(1, Duration::from_secs(5)).await;
        assert_eq!(got.len(), 1, "{}", t.url);
        assert_eq!(got[0].rcpt_to, vec!["guest@example.com".to_string()]);
        let body = String::from_utf8_lossy(&got[0].data).to_string();
        assert!(body.contains("https://receipts.shop.example/r/"), "{body}");
        assert!(body.contains("From: Shop <masked@shop.example>"), "{body}");
        let o = get(&r.db, "G-1").await;
        assert_eq!(o.fallback_path.as_deref(), Some("masked_link"));
        assert_eq!(
            o.fallback_why.as_deref(),
            Some("guest, 4 soft failures, masked re-send queued")
        );
        // The link opens exactly this order, and only while valid.
        let token = token_in(&got[0].data);
        match links::lookup(&r.db, r.clock.now_ms(), &token)
            .await
            .expect("lookup")
        {
            Lookup::Valid { order, link } => {
                assert_eq!(order.order_number, "G-1");
                assert_eq!(link.channel, "masked_email");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            support::for_order(&r.db, o.id)
                .await
                .expect("case")
                .is_none()
        );
        let events: Vec<String> = orders::events(&r.db, o.id)
            .await
            .expect("events")
            .into_iter()
            .map(|e| e.kind)
            .collect();
        for kind in ["held", "fallback", "link_issued", "masked_resend"] {
            assert!(
                events.iter().any(|k| k == kind),
                "{kind} missing from {events:?}"
            );
        }
        // A second tick sends nothing more.
        r.tick().await;
        assert_eq!(r.masked.received().len(), 1);
        // The masked message bounces later (DSN tied by its VERP token): critical.
        let verp = got[0].mail_from.clone();
        let dsn = format!(
            "From: MAILER-DAEMON@mx.example.com\r\nTo: {verp}\r\nSubject: failure\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
             --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n\
             Final-Recipient: rfc822; guest@example.com\r\nAction: failed\r\nStatus: 5.6.0\r\n\
             Diagnostic-Code: smtp; 554 5.6.0 Message content rejected\r\n\r\n--B--\r\n"
        );
        let policy =
            engine::delivery::policy::RetryPolicy::from_config(&Config::default().delivery);
        // Dated five minutes before the rounds above looked (a transaction
        // that was still open then): the next round's overlap still finds it.
        let got_dsn = engine::bounces::ingest_message(
            &r.db,
            r.clock.now_ms() - 5 * MIN,
            engine::bounce::Classifier::shared(),
            &policy,
            dsn.as_bytes(),
            "dsn",
        )
        .await
        .expect("dsn");
        assert_eq!(got_dsn.matched, 1);
        r.tick().await;
        let case = support::for_order(&r.db, o.id)
            .await
            .expect("q")
            .expect("critical after the masked bounce");
        assert!(
            case.reason.contains("masked re-send bounced"),
            "{}",
            case.reason
        );
        r.tick().await;
        assert_eq!(
            support::queue(&r.db, 10).await.expect("q").len(),
            1,
            "opened once"
        );
        t.cleanup().await;
    }
}

#[tokio::test]
async fn dead_guest_address_goes_straight_to_critical_support() {
    for t in all_backends().await {
        let r = rig(t.db.clone()).await;
        r.primary.script(
            "gone@example.com",
            Script::RejectRcpt(550, "5.1.1 User unknown"),
        );
        orders::intake(
            &r.db,
            T0,
            order("D-1", "gone@example.com", AccountKind::Social, None),
            None,
        )
        .await
        .expect("intake");
        until_held(&r, "D-1", MIN).await;
        r.tick().await;
        r.tick().await;
        assert!(
            r.masked.received().is_empty(),
            "a dead address is never re-sent to"
        );
        let o = get(&r.db, "D-1").await;
        assert_eq!(o.fallback_path.as_deref(), Some("critical"));
        let case = support::for_order(&r.db, o.id)
            .await
            .expect("q")
            .expect("a case");
        assert_eq!(case.priority, 1);
        assert_eq!(case.due_at, r.clock.now_ms() + 60 * MIN);
        let queue = support::queue(&r.db, 50).await.expect("queue");
        assert_eq!(queue.len(), 1);
        assert_eq!(queue[0].order_number, "D-1");
        support::start_working(&r.db, r.clock.now_ms(), o.id, "agent@e2e.test")
            .await
            .expect("work");
        assert_eq!(
            support::queue(&r.db, 50).await.expect("q")[0]
                .working_by
                .as_deref(),
            Some("agent@e2e.test")
        );
        assert!(
            support::resolve(&r.db, r.clock.now_ms(), o.id, "agent", "  ")
                .await
                .is_err()
        );
        support::resolve(
            &r.db,
            r.clock.now_ms(),
            o.id,
            "agent",
            "called, read the receipt out",
        )
        .await
        .expect("resolve");
        assert!(support::queue(&r.db, 50).await.expect("q").is_empty());
        t.cleanup().await;
    }
}

#[tokio::test]
async fn logged_in_customer_gets_an_account_notification_and_seeing_it_is_reach() {
    for t in all_backends().await {
        let r = rig(t.db.clone()).await;
        r.primary.script(
            "member@example.com",
            Script::RejectRcpt(550, "5.1.1 User unknown"),
        );
        orders::intake(
            &r.db,
            T0,
            order(
                "L-1",
                "member@example.com",
                AccountKind::LoggedIn,
                Some("cust-42"),
            ),
            None,
        )
        .await
        .expect("intake");
        until_held(&r, "L-1", MIN).await;
        r.tick().await;
        let list = notifications::for_customer(&r.db, "cust-42", 10)
            .await
            .expect("list");
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].order_number, "L-1");
        assert!(list[0].message.contains("L-1"));
        // The shop is told too: one signed `receipt.held` event queued for delivery.
        let held_events: i64 = match &r.db {
            Db::Sqlite(p) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM webhook_events WHERE event_type = 'receipt.held'",
                )
                .fetch_one(p)
                .await
            }
            Db::Postgres(p) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM webhook_events WHERE event_type = 'receipt.held'",
                )
                .fetch_one(p)
                .await
            }
        }
        .expect("count");
        assert_eq!(held_events, 1);
        // Running again posts nothing twice.
        r.tick().await;
        assert_eq!(
            notifications::for_customer(&r.db, "cust-42", 10)
                .await
                .expect("list")
                .len(),
            1
        );
        assert!(
            notifications::for_customer(&r.db, "someone-else", 10)
                .await
                .expect("list")
                .is_empty()
        );
        assert!(
            notifications::mark_seen(&r.db, T0, "someone-else", list[0].id)
                .await
                .is_err()
        );
        let seen = notifications::mark_seen(&r.db, r.clock.now_ms(), "cust-42", list[0].id)
            .await
            .expect("seen");
        assert!(seen.seen_at.is_some());
        let o = get(&r.db, "L-1").await;
        assert_eq!(o.reached_via.as_deref(), Some("notification_seen"));
        assert_eq!(o.fallback_path.as_deref(), Some("notification"));
        t.cleanup().await;
    }
}

#[tokio::test]
async fn a_failed_masked_resend_becomes_critical() {
    for t in all_backends().await {
        let r = rig(t.db.clone()).await;
        for s in [&r.primary, &r.backup] {
            s.script(
                "odd@example.com",
                Script::RejectRcpt(421, "4.7.0 Try again later"),
            );
        }
        r.masked.script(
            "odd@example.com",
            Script::RejectRcpt(554, "5.7.1 Service unavailable; client host blocked"),
        );
        orders::intake(
            &r.db,
            T0,
            order("M-1", "odd@example.com", AccountKind::Guest, None),
            None,
        )
        .await
        .expect("intake");
        until_held(&r, "M-1", 3 * HOUR).await;
        for _ in 0..3 {
            r.tick().await;
        }
        let o = get(&r.db, "M-1").await;
        let case = support::for_order(&r.db, o.id)
            .await
            .expect("q")
            .expect("critical case");
        assert_eq!(case.priority, 1);
        assert!(
            case.reason.contains("masked re-send also failed"),
            "{}",
            case.reason
        );
        assert_eq!(o.fallback_path.as_deref(), Some("critical"));
        t.cleanup().await;
    }
}

#[tokio::test]
async fn links_expire_are_revoked_on_regenerate_and_never_cross_orders() {
    for t in all_backends().await {
        let r = rig(t.db.clone()).await;
        let a = orders::intake(
            &r.db,
            T0,
            order("A-1", "a@example.com", AccountKind::Guest, None),
            None,
        )
        .await
        .expect("intake");
        let b = orders::intake(
            &r.db,
            T0,
            order("B-1", "b@example.com", AccountKind::Guest, None),
            None,
        )
        .await
        .expect("intake");
        let ttl = 72 * HOUR;
        let la = links::issue(&r.db, T0, a.order(), "agent", "agent@x", ttl)
            .await
            .expect("issue");
        let lb = links::issue(&r.db, T0, b.order(), "agent", "agent@x", ttl)
            .await
            .expect("issue");
        for (l, number) in [(&la, "A-1"), (&lb, "B-1")] {
            match links::lookup(&r.db, T0 + MIN, &l.token)
                .await
                .expect("lookup")
            {
                Lookup::Valid { order, .. } => assert_eq!(order.order_number, number),
                other => panic!("{other:?}"),
            }
        }
        // Only the hash is stored.
        assert_ne!(la.token, links::hash_token(&la.token));
        // Expiry.
        assert!(matches!(
            links::lookup(&r.db, T0 + ttl, &la.token)
                .await
                .expect("lookup"),
            Lookup::Stale { .. }
        ));
        // Regenerate revokes every earlier link of that order, not other orders'.
        let la2 = links::regenerate(&r.db, T0 + MIN, a.order(), "agent", "agent@x", ttl)
            .await
            .expect("regen");
        assert!(matches!(
            links::lookup(&r.db, T0 + 2 * MIN, &la.token)
                .await
                .expect("l"),
            Lookup::Stale { .. }
        ));
        assert!(matches!(
            links::lookup(&r.db, T0 + 2 * MIN, &la2.token)
                .await
                .expect("l"),
            Lookup::Valid { .. }
        ));
        assert!(matches!(
            links::lookup(&r.db, T0 + 2 * MIN, &lb.token)
                .await
                .expect("l"),
            Lookup::Valid { .. }
        ));
        // Unknown and malformed tokens.
        let mut flipped = la2.token.clone().into_bytes();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).expect("ascii");
        assert!(matches!(
            links::lookup(&r.db, T0, &flipped).await.expect("l"),
            Lookup::Unknown
        ));
        assert!(matches!(
            links::lookup(&r.db, T0, "../../etc/passwd")
                .await
                .expect("l"),
            Lookup::Unknown
        ));
        links::record_use(&r.db, T0, la2.link.id, "open", "203.0.113.9", "Mozilla/5.0")
            .await
            .expect("use");
        let uses = links::uses_for_order(&r.db, a.order().id)
            .await
            .expect("uses");
        assert_eq!(uses.len(), 1);
        assert_eq!(uses[0].ip_prefix, "203.0.113.0/24");
        t.cleanup().await;
    }
}

#[tokio::test]
async fn rate_limits_are_shared_and_reset_per_window() {
    for t in all_backends().await {
        for i in 0..3 {
            assert!(
                engine::ratelimit::allow(&t.db, T0 + i, "ip:198.51.100.0", 3, MIN)
                    .await
                    .expect("hit")
            );
        }
        assert!(
            !engine::ratelimit::allow(&t.db, T0 + 10, "ip:198.51.100.0", 3, MIN)
                .await
                .expect("hit")
        );
        assert!(
            engine::ratelimit::allow(&t.db, T0 + 10, "ip:other", 3, MIN)
                .await
                .expect("hit")
        );
        assert!(
            engine::ratelimit::allow(&t.db, T0 + MIN, "ip:198.51.100.0", 3, MIN)
                .await
                .expect("hit")
        );
        t.cleanup().await;
    }
}

#[tokio::test]
async fn an_accepted_receipt_without_bounce_counts_as_reached_by_email() {
    for t in all_backends().await {
        let r = rig(t.db.clone()).await;
        orders::intake(
            &r.db,
            T0,
            order("E-1", "fine@example.com", AccountKind::Guest, None),
            None,
        )
        .await
        .expect("intake");
        r.tick().await;
        assert_eq!(get(&r.db, "E-1").await.state, "accepted");
        assert!(
            get(&r.db, "E-1").await.reached_at.is_none(),
            "not before the window"
        );
        r.clock.advance_ms(2 * HOUR);
        r.tick().await;
        let o = get(&r.db, "E-1").await;
        assert_eq!(o.reached_via.as_deref(), Some("email"));
        assert_eq!(o.reached_at, Some(T0));
        t.cleanup().await;
    }
}

fn message_id_of(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    text.lines()
        .find_map(|l| {
            l.get(..11)
                .filter(|h| h.eq_ignore_ascii_case("message-id:"))
                .map(|_| l[11..].trim().to_string())
        })
        .expect("a Message-ID header")
}

/// Issue 31: a masked re-send whose connection broke after the final dot is
/// not counted as sent, and goes again later with the same Message-ID.
#[tokio::test]
async fn an_unknown_masked_resend_goes_again_with_the_same_message_id() {
    for t in all_backends().await {
        let r = rig(t.db.clone()).await;
        for s in [&r.primary, &r.backup] {
            s.script(
                "unsure@example.com",
                Script::RejectRcpt(451, "4.3.0 Temporary local problem"),
            );
        }
        r.masked.script_sequence(
            "unsure@example.com",
            vec![Script::CloseAfterData, Script::Accept],
        );
        orders::intake(
            &r.db,
            T0,
            order("U-1", "unsure@example.com", AccountKind::Guest, None),
            None,
        )
        .await
        .expect("intake");
        until_held(&r, "U-1", 3 * HOUR).await;
        r.tick().await;
        r.tick().await;
        let first = r.masked.wait_for(1, Duration::from_secs(5)).await;
        assert_eq!(first.len(), 1, "{}", t.url);
        let o = get(&r.db, "U-1").await;
        let kinds = |events: Vec<orders::OrderEvent>| -> Vec<String> {
            events.into_iter().map(|e| e.kind).collect()
        };
        let events = kinds(orders::events(&r.db, o.id).await.expect("events"));
        assert!(
            !events.iter().any(|k| k == "masked_resend"),
            "an unknown outcome counted as sent: {events:?}"
        );
        assert!(
            events.iter().any(|k| k == "masked_resend_unknown"),
            "{events:?}"
        );
        assert!(
            support::for_order(&r.db, o.id)
                .await
                .expect("case")
                .is_none(),
            "an unknown outcome is no failure"
        );
        // Not before its time; then once more, with the same Message-ID.
        r.tick().await;
        assert_eq!(r.masked.received().len(), 1);
        r.clock.advance_ms(6 * MIN);
        r.tick().await;
        let both = r.masked.wait_for(2, Duration::from_secs(5)).await;
        assert_eq!(both.len(), 2, "{}", t.url);
        assert_eq!(message_id_of(&both[0].data), message_id_of(&both[1].data));
        let events = kinds(orders::events(&r.db, o.id).await.expect("events"));
        assert_eq!(
            events.iter().filter(|k| *k == "masked_resend").count(),
            1,
            "{events:?}"
        );
        let masked: Vec<_> = engine::delivery::attempts::attempts(&r.db, o.id)
            .await
            .expect("attempts")
            .into_iter()
            .filter(|a| a.attempt_no > engine::delivery::attempts::MASKED_ATTEMPT_BASE)
            .collect();
        assert_eq!(masked.len(), 1, "one attempt, sent twice: {masked:?}");
        assert_eq!(masked[0].outcome, Some(AttemptOutcome::Accepted));
        assert_eq!(masked[0].unknowns, 1);
        // Done: nothing more goes out.
        r.clock.advance_ms(HOUR);
        r.tick().await;
        assert_eq!(r.masked.received().len(), 2);
        t.cleanup().await;
    }
}
