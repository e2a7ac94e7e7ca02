//! Receipt delivery end to end against real SMTP servers on loopback, on both
//! databases, with the injected clock driving 5 min / 30 min / 2 h retries.

use engine::config::Config;
use engine::delivery::attempts::{AttemptOutcome, attempts};
use engine::delivery::pools::{self, NewPool};
use engine::delivery::worker::Worker;
use engine::orders::{self, AccountKind, CustomerInput, ItemInput, OrderInput, TotalsInput};
use engine::testing::all_backends;
use engine::testing::smtp_server::{Script, ScriptedSmtpServer};
use engine::{Clock, Db, ManualClock};
use std::sync::Arc;

const T0: i64 = 1_800_000_000_000;
const MIN: i64 = 60_000;

fn order(number: &str, email: &str) -> engine::orders::ValidOrder {
    OrderInput {
        order_number: number.into(),
        placed_at: "2026-11-27T21:00:00Z".into(),
        currency: "EUR".into(),
        items: vec![ItemInput {
            name: "Mug <b>blue</b>".into(),
            quantity: 2,
            unit_price: 1250,
        }],
        totals: TotalsInput {
            subtotal: 2500,
            tax: 0,
            shipping: 0,
            discount: 0,
            total: 2500,
        },
        customer: CustomerInput {
            email: email.into(),
            name: "Jane <script>".into(),
            phone: None,
            account_kind: AccountKind::Guest,
            customer_ref: None,
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
    primary: ScriptedSmtpServer,
    backup: ScriptedSmtpServer,
    primary_id: i64,
    backup_id: i64,
}

async fn rig(db: Db) -> Rig {
    let clock = ManualClock::new(T0);
    let primary = ScriptedSmtpServer::start().await.expect("smtp");
    let backup = ScriptedSmtpServer::start().await.expect("smtp");
    let mk = |name: &'static str, role: &'static str, addr: std::net::SocketAddr, pos: i64| {
        let url = format!("smtp://{addr}");
        let db = db.clone();
        async move {
            pools::create(
                &db,
                T0,
                NewPool {
                    name,
                    role: role.parse().expect("primary, backup or masked"),
                    from_name: "Shop",
                    from_address: &format!("{name}@shop.example"),
                    relay_url: &url,
                    max_per_second: 8,
                    position: pos,
                },
            )
            .await
            .expect("pool")
            .id
        }
    };
    let primary_id = mk("primary", "primary", primary.addr(), 0).await;
    let backup_id = mk("backup", "backup", backup.addr(), 1).await;
    let mut config = Config::default();
    config.delivery.smtp_timeout_seconds = 5;
    config.delivery.lease_seconds = 60;
    let worker = Worker::new(
        db.clone(),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
        &config,
    )
    .expect("worker");
    Rig {
        db,
        clock,
        worker,
        primary,
        backup,
        primary_id,
        backup_id,
    }
}

async fn state_of(db: &Db, number: &str) -> String {
    orders::find_by_number(db, number)
        .await
        .expect("query")
        .expect("order")
        .state
}

#[tokio::test]
async fn accepted_receipt_reaches_the_smtp_server_with_verp_and_ids() {
    for t in all_backends().await {
        let r = rig(t.db.clone()).await;
        let o = orders::intake(&r.db, T0, order("A-1", "jane@example.com"), None)
            .await
            .expect("intake");
        assert_eq!(r.worker.run_once().await.expect("run"), 1);
        assert_eq!(state_of(&r.db, "A-1").await, "accepted");
        let got = r
            .primary
            .wait_for(1, std::time::Duration::from_secs(5))
            .await;
        assert_eq!(got.len(), 1);
        assert!(r.backup.received().is_empty());
        let m = &got[0];
        assert!(
            m.mail_from.starts_with("bounce+") && m.mail_from.ends_with("@bounce.rebound.local"),
            "{}",
            m.mail_from
        );
        assert_eq!(m.rcpt_to, vec!["jane@example.com".to_string()]);
        let data = String::from_utf8_lossy(&m.data);
        let a = attempts(&r.db, o.order().id).await.expect("attempts");
        assert_eq!(a.len(), 1);
        assert!(
            data.contains(&format!("Message-ID: <{}>", a[0].message_id))
                || data.contains(&format!("Message-Id: <{}>", a[0].message_id)),
            "{data}"
        );
        assert!(data.contains("Feedback-ID:"), "{data}");
        assert!(data.contains("A-1"), "order number in the receipt");
        let parsed = mail_parser::MessageParser::default()
            .parse(&m.data[..])
            .expect("parse");
        let html = parsed.body_html(0).expect("html part");
        let text = parsed.body_text(0).expect("text part");
        assert!(
            !html.contains("<script>") && html.contains("&lt;script&gt;"),
            "customer name must be escaped in HTML: {html}"
        );
        assert!(
            text.contains("Jane <script>"),
            "the text part shows the name as typed"
        );
        assert_eq!(a[0].pool_id, r.primary_id);
        assert_eq!(
            m.mail_from,
            format!("bounce+{}@bounce.rebound.local", a[0].verp_token)
        );
        // Nothing left to do, and intake of the same order again changes nothing.
        assert_eq!(r.worker.run_once().await.expect("run"), 0);
        let again = orders::intake(&r.db, T0, order("A-1", "jane@example.com"), None)
            .await
            .expect("intake");
        assert!(matches!(again, orders::Intake::Existing(_)));
        assert_eq!(r.worker.run_once().await.expect("run"), 0);
        assert_eq!(r.primary.received().len(), 1, "never a second receipt");
        t.cleanup().await;
    }
}

#[tokio::test]
async fn soft_failures_retry_at_5m_30m_2h_alternating_pools_then_hold() {
    for t in all_backends().await {
        let r = rig(t.db.clone()).await;
        for s in [&r.primary, &r.backup] {
            s.script(
                "soft@example.com",
                Script::RejectRcpt(421, "4.7.0 Try again later, closing connection"),
            );
        }
        let o = orders::intake(&r.db, T0, order("S-1", "soft@example.com"), None)
            .await
            .expect("intake");
        let id = o.order().id;
        assert_eq!(r.worker.run_once().await.expect("run"), 1);
        assert_eq!(state_of(&r.db, "S-1").await, "retry_scheduled");
        for (wait, expected_attempts) in [(5 * MIN, 2), (30 * MIN, 3), (120 * MIN, 4)] {
            // One millisecond early: nothing is due.
            r.clock.advance_ms(wait - 1);
            assert_eq!(r.worker.run_once().await.expect("run"), 0, "due too early");
            r.clock.advance_ms(1);
            assert_eq!(r.worker.run_once().await.expect("run"), 1);
            assert_eq!(
                attempts(&r.db, id).await.expect("a").len(),
                expected_attempts
            );
        }
        assert_eq!(state_of(&r.db, "S-1").await, "held");
        let a = attempts(&r.db, id).await.expect("attempts");
        let pools: Vec<i64> = a.iter().map(|x| x.pool_id).collect();
        assert_eq!(
            pools,
            vec![r.primary_id, r.backup_id, r.primary_id, r.backup_id]
        );
        assert!(
            a.iter()
                .all(|x| x.smtp_code == Some(421) && x.outcome == Some(AttemptOutcome::Deferred))
        );
        assert!(
            a[0].smtp_text
                .as_deref()
                .unwrap_or("")
                .contains("4.7.0 Try again later"),
            "{:?}",
            a[0].smtp_text
        );
        let events = orders::events(&r.db, id).await.expect("events");
        assert_eq!(events.last().map(|e| e.kind.as_str()), Some("held"));
        r.clock.advance_ms(24 * 60 * MIN);
        assert_eq!(
            r.worker.run_once().await.expect("run"),
            0,
            "a held order is not retried"
        );
        t.cleanup().await;
    }
}

#[tokio::test]
async fn a_dead_address_is_held_at_once_and_a_reputation_block_switches_pool() {
    for t in all_backends().await {
        let r = rig(t.db.clone()).await;
        r.primary.script(
            "ghost@example.com",
            Script::RejectRcpt(
                550,
                "5.1.1 <ghost@example.com>: Recipient address rejected: User unknown",
            ),
        );
        r.primary.script("vpn@gmail.com", Script::RejectRcpt(550, "5.7.1 Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been blocked."));
        r.primary.script(
            "busy@example.com",
            Script::RejectRcpt(450, "4.2.1 Mailbox busy, try again in 900 seconds"),
        );
        let dead = orders::intake(&r.db, T0, order("H-1", "ghost@example.com"), None)
            .await
            .expect("intake");
        let rep = orders::intake(&r.db, T0, order("R-1", "vpn@gmail.com"), None)
            .await
            .expect("intake");
        let busy = orders::intake(&r.db, T0, order("B-1", "busy@example.com"), None)
            .await
            .expect("intake");
        assert_eq!(r.worker.run_once().await.expect("run"), 3);

        assert_eq!(state_of(&r.db, "H-1").await, "held");
        let a = attempts(&r.db, dead.order().id).await.expect("a");
        assert_eq!(
            (a.len(), a[0].class.as_deref(), a[0].reason.as_deref()),
            (1, Some("recipient_permanent"), Some("userunknown"))
        );

        assert_eq!(state_of(&r.db, "R-1").await, "retry_scheduled");
        let a = attempts(&r.db, rep.order().id).await.expect("a");
        assert_eq!(a[0].class.as_deref(), Some("sender_reputation"));

        // The server asked for 15 minutes: longer than 5, so honoured.
        assert_eq!(state_of(&r.db, "B-1").await, "retry_scheduled");
        r.clock.advance_ms(5 * MIN);
        assert_eq!(
            r.worker.run_once().await.expect("run"),
            1,
            "only the reputation retry is due at +5 min"
        );
        assert_eq!(state_of(&r.db, "R-1").await, "accepted");
        let a = attempts(&r.db, rep.order().id).await.expect("a");
        assert_eq!(a[1].pool_id, r.backup_id, "retried through the other pool");
        assert_eq!(r.backup.received().len(), 1);
        r.clock.advance_ms(10 * MIN);
        assert_eq!(r.worker.run_once().await.expect("run"), 1);
        assert_eq!(attempts(&r.db, busy.order().id).await.expect("a").len(), 2);
        t.cleanup().await;
    }
}

fn dsn(to_token: Option<&str>, rcpt: &str, status: &str, diag: &str, message_id: &str) -> Vec<u8> {
    let to = to_token
        .map(|t| format!("bounce+{t}@bounce.rebound.local"))
        .unwrap_or_else(|| "postmaster@shop.example".into());
    format!(
        "From: MAILER-DAEMON@mx.example.net\r\nTo: {to}\r\nSubject: Undelivered Mail Returned to Sender\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"BND\"\r\n\r\n\
--BND\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at host mx.example.net.\r\n\r\n\
--BND\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n\
Final-Recipient: rfc822; {rcpt}\r\nAction: failed\r\nStatus: {status}\r\nDiagnostic-Code: smtp; {diag}\r\n\r\n\
--BND\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{message_id}>\r\nSubject: Your receipt\r\n\r\n--BND--\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn late_bounces_are_tied_to_the_attempt_and_suppress_dead_addresses() {
    use engine::bounce::Classifier;
    use engine::delivery::policy::RetryPolicy;
    for t in all_backends().await {
        let r = rig(t.db.clone()).await;
        let policy = RetryPolicy::default();
        let dead = orders::intake(&r.db, T0, order("L-1", "gone@example.com"), None)
            .await
            .expect("intake");
        let soft = orders::intake(&r.db, T0, order("L-2", "full@example.com"), None)
            .await
            .expect("intake");
        assert_eq!(r.worker.run_once().await.expect("run"), 2);
        assert_eq!(state_of(&r.db, "L-1").await, "accepted");
        let a1 = attempts(&r.db, dead.order().id).await.expect("a").remove(0);
        let a2 = attempts(&r.db, soft.order().id).await.expect("a").remove(0);

        // A hard DSN tied by VERP token: held, suppressed.
        let raw = dsn(
            Some(&a1.verp_token),
            "gone@example.com",
            "5.1.1",
            "550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown in local recipient table",
            "x@y",
        );
        let got = engine::bounces::ingest_message(
            &r.db,
            T0 + 1000,
            Classifier::shared(),
            &policy,
            &raw,
            "dsn",
        )
        .await
        .expect("ingest");
        assert_eq!((got.matched, got.unmatched), (1, 0));
        assert_eq!(state_of(&r.db, "L-1").await, "held");
        let b = engine::bounces::for_order(&r.db, dead.order().id)
            .await
            .expect("bounces");
        assert_eq!(
            (
                b[0].matched_by.as_str(),
                b[0].class.as_str(),
                b[0].reason.as_str(),
                b[0].hard
            ),
            ("verp", "recipient_permanent", "userunknown", true)
        );
        assert!(
            b[0].raw.as_deref().unwrap_or("").contains("Reporting-MTA"),
            "the raw message is kept"
        );
        assert!(
            engine::suppression::active(&r.db, T0 + 1000, "GONE@example.com")
                .await
                .expect("q")
                .is_some()
        );

        // A soft DSN tied by the original Message-ID: a retry is scheduled.
        let raw = dsn(
            None,
            "full@example.com",
            "4.2.2",
            "452 4.2.2 Mailbox full",
            &a2.message_id,
        );
        let got = engine::bounces::ingest_message(
            &r.db,
            T0 + 1000,
            Classifier::shared(),
            &policy,
            &raw,
            "dsn",
        )
        .await
        .expect("ingest");
        assert_eq!(got.matched, 1);
        assert_eq!(
            engine::bounces::for_order(&r.db, soft.order().id)
                .await
                .expect("b")[0]
                .matched_by,
            "message_id"
        );
        assert_eq!(state_of(&r.db, "L-2").await, "retry_scheduled");
        r.clock.advance_ms(5 * MIN + 1000);
        assert_eq!(r.worker.run_once().await.expect("run"), 1);
        assert_eq!(state_of(&r.db, "L-2").await, "accepted");

        // A bounce for nobody we know is kept, unmatched.
        let raw = dsn(
            None,
            "stranger@example.org",
            "5.1.1",
            "550 5.1.1 User unknown",
            "nope@nowhere",
        );
        let got = engine::bounces::ingest_message(
            &r.db,
            T0 + 2000,
            Classifier::shared(),
            &policy,
            &raw,
            "dsn",
        )
        .await
        .expect("ingest");
        assert_eq!((got.matched, got.unmatched), (0, 1));
        assert_eq!(
            engine::bounces::unmatched(&r.db, 10)
                .await
                .expect("u")
                .len(),
            1
        );
        assert!(
            engine::bounces::ingest_message(&r.db, T0, Classifier::shared(), &policy, b"", "dsn")
                .await
                .is_err()
        );

        // The suppressed address is never mailed again: held before SMTP.
        let before = r.primary.received().len() + r.backup.received().len();
        orders::intake(&r.db, T0 + 3000, order("L-3", "gone@example.com"), None)
            .await
            .expect("intake");
        assert_eq!(r.worker.run_once().await.expect("run"), 1);
        assert_eq!(state_of(&r.db, "L-3").await, "held");
        assert_eq!(
            r.primary.received().len() + r.backup.received().len(),
            before
        );
        // Released, it is mailed again.
        engine::suppression::release(&r.db, T0 + 4000, "gone@example.com", "admin@example.com")
            .await
            .expect("release");
        orders::intake(&r.db, T0 + 4000, order("L-4", "gone@example.com"), None)
            .await
            .expect("intake");
        assert_eq!(r.worker.run_once().await.expect("run"), 1);
        assert_eq!(state_of(&r.db, "L-4").await, "accepted");
        t.cleanup().await;
    }
}

#[tokio::test]
async fn a_synchronous_hard_bounce_suppresses_the_address() {
    for t in all_backends().await {
        let r = rig(t.db.clone()).await;
        r.primary.script(
            "nobody@example.com",
            Script::RejectRcpt(550, "5.1.1 User unknown"),
        );
        orders::intake(&r.db, T0, order("Y-1", "nobody@example.com"), None)
            .await
            .expect("intake");
        r.worker.run_once().await.expect("run");
        let s = engine::suppression::active(&r.db, T0, "nobody@example.com")
            .await
            .expect("q")
            .expect("suppressed");
        assert_eq!(
            (s.reason.as_str(), s.source.as_str()),
            ("userunknown", "smtp")
        );
        t.cleanup().await;
    }
}

#[tokio::test]
async fn an_order_reads_as_sending_while_a_worker_holds_its_job() {
    for t in all_backends().await {
        let r = rig(t.db.clone()).await;
        orders::intake(&r.db, T0, order("S-1", "sam@example.com"), None)
            .await
            .expect("intake");
        assert_eq!(state_of(&r.db, "S-1").await, "queued");
        // Another worker takes the job: the order is seen as sending.
        let jobs = engine::delivery::queue::claim(&r.db, T0, "elsewhere", 60_000, 10)
            .await
            .expect("claim");
        assert_eq!(jobs.len(), 1);
        assert_eq!(state_of(&r.db, "S-1").await, "sending");
        // The stored state is not written for it (see `orders::repo::STATE_AS_SEEN`).
        let stored: String = engine::on_pool!(&r.db, p => sqlx::query_scalar(
            "SELECT state FROM orders WHERE order_number = 'S-1'"
        ).fetch_one(p).await)
        .expect("stored state");
        assert_eq!(stored, "queued");
        // Put back, it is queued again; sent, it is accepted.
        engine::delivery::queue::release(&r.db, jobs[0].id, "elsewhere")
            .await
            .expect("release");
        assert_eq!(state_of(&r.db, "S-1").await, "queued");
        assert_eq!(r.worker.run_once().await.expect("run"), 1);
        assert_eq!(state_of(&r.db, "S-1").await, "accepted");
        t.cleanup().await;
    }
}

#[tokio::test]
async fn a_rerun_after_a_crash_sends_with_the_first_claims_message_id() {
    for t in all_backends().await {
        let r = rig(t.db.clone()).await;
        let o = orders::intake(&r.db, T0, order("C-1", "cy@example.com"), None)
            .await
            .expect("intake");
        // A worker claims the job and dies before anything of its send is written
        // (the attempt is written only with its outcome).
        let jobs = engine::delivery::queue::claim(&r.db, T0, "crashed", 1_000, 10)
            .await
            .expect("claim");
        let token = jobs[0]
            .send_token
            .clone()
            .expect("a token drawn at the claim");
        assert_eq!(token.len(), 24, "{token}");
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
        assert!(
            attempts(&r.db, o.order().id)
                .await
                .expect("attempts")
                .is_empty()
        );
        // Its lease runs out; the next worker sends with the same VERP token and
        // Message-ID the crashed one used.
        r.clock.set_ms(T0 + 2_000);
        assert_eq!(r.worker.run_once().await.expect("run"), 1);
        assert_eq!(state_of(&r.db, "C-1").await, "accepted");
        let got = r
            .primary
            .wait_for(1, std::time::Duration::from_secs(5))
            .await;
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].mail_from,
            format!("bounce+{token}@bounce.rebound.local")
        );
        let a = attempts(&r.db, o.order().id).await.expect("attempts");
        assert_eq!(a.len(), 1, "one attempt row, written with its outcome");
        assert_eq!(a[0].verp_token, token);
        assert_eq!(a[0].outcome, Some(AttemptOutcome::Accepted));
        assert!(a[0].message_id.contains(&token[..8]), "{}", a[0].message_id);
        let data = String::from_utf8_lossy(&got[0].data);
        assert!(data.contains(&a[0].message_id), "{data}");
        t.cleanup().await;
    }
}

/// A relay that takes the message and closes without answering the final dot:
/// the attempt is recorded `unknown`, the order does not move, and the same
/// job re-sends after the first retry delay with the same Message-ID; past
/// the schedule the order is held, never re-sent as a new attempt.
#[tokio::test]
async fn an_unknown_outcome_is_re_sent_with_the_same_message_id() {
    for t in all_backends().await {
        let b = t.db.backend_name();
        let r = rig(t.db.clone()).await;
        r.primary.script_sequence(
            "unsure@example.com",
            vec![Script::CloseAfterData, Script::Accept],
        );
        let o = orders::intake(&r.db, T0, order("U-1", "unsure@example.com"), None)
            .await
            .expect("intake");
        let id = o.order().id;
        assert_eq!(r.worker.run_once().await.expect("run"), 1);
        let a = attempts(&r.db, id).await.expect("attempts");
        assert_eq!(a.len(), 1, "[{b}]");
        assert_eq!(a[0].outcome, Some(AttemptOutcome::Unknown), "[{b}]");
        assert_eq!((a[0].attempt_no, a[0].unknowns), (1, 1), "[{b}]");
        let first_id = a[0].message_id.clone();
        assert_ne!(state_of(&r.db, "U-1").await, "retry_scheduled", "[{b}]");
        let events = orders::events(&r.db, id).await.expect("events");
        assert!(
            events.iter().any(|e| e.kind == "outcome_unknown"),
            "[{b}] {events:?}"
        );
        // Not due before the first retry delay.
        r.clock.advance_ms(4 * MIN);
        assert_eq!(r.worker.run_once().await.expect("run"), 0, "[{b}]");
        r.clock.advance_ms(MIN + 1000);
        assert_eq!(r.worker.run_once().await.expect("run"), 1, "[{b}]");
        assert_eq!(state_of(&r.db, "U-1").await, "accepted", "[{b}]");
        let got = r.primary.received();
        assert_eq!(got.len(), 2, "[{b}] the relay got it twice");
        for m in &got {
            let data = String::from_utf8_lossy(&m.data);
            assert!(
                data.contains(&format!("<{first_id}>")),
                "[{b}] same Message-ID"
            );
        }
        let a = attempts(&r.db, id).await.expect("attempts");
        assert_eq!(a.len(), 1, "[{b}] one attempt identity");
        assert_eq!(a[0].outcome, Some(AttemptOutcome::Accepted), "[{b}]");
        assert_eq!(
            (a[0].message_id.as_str(), a[0].unknowns),
            (first_id.as_str(), 1)
        );

        // Always unknown: 3 re-sends (5 min, 30 min, 2 h) with one Message-ID, then held.
        r.primary
            .script("never@example.com", Script::CloseAfterData);
        let o = orders::intake(
            &r.db,
            r.clock.now_ms(),
            order("U-2", "never@example.com"),
            None,
        )
        .await
        .expect("intake");
        r.worker.run_once().await.expect("run");
        for wait in [5 * MIN, 30 * MIN, 120 * MIN] {
            r.clock.advance_ms(wait + 1000);
            assert_eq!(r.worker.run_once().await.expect("run"), 1, "[{b}]");
        }
        assert_eq!(state_of(&r.db, "U-2").await, "held", "[{b}]");
        let a = attempts(&r.db, o.order().id).await.expect("attempts");
        assert_eq!((a.len(), a[0].unknowns), (1, 4), "[{b}] {a:?}");
        let ids: std::collections::HashSet<String> = r
            .primary
            .received()
            .iter()
            .filter(|m| m.rcpt_to[0] == "never@example.com")
            .map(|m| {
                let data = String::from_utf8_lossy(&m.data).into_owned();
                data.lines()
                    .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        assert_eq!(ids.len(), 1, "[{b}] one Message-ID for 4 sends: {ids:?}");
        t.cleanup().await;
    }
}
