//! The built-in SMTP listener for the bounce domain, over real TCP on loopback, on
//! SQLite and PostgreSQL: a DSN delivered to the VERP address of a sent receipt lands on
//! the order and suppresses the address; other domains get 550 (no open relay); an
//! oversized message gets 552; a message that is no report is still taken; idle
//! clients, extra connections and shutdown are handled.

mod support;

use std::sync::Arc;
use std::time::Duration;

use engine::delivery::attempts::attempts;
use engine::delivery::pools::{self, NewPool};
use engine::delivery::worker::Worker;
use serde_json::json;
use server::inbound_smtp::{InboundSmtp, Settings};
use support::{TestServer, servers, test_config};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{Notify, watch};

const LIMIT: usize = 8 * 1024;

fn config() -> engine::Config {
    let mut c = test_config();
    c.inbound_smtp.max_message_bytes = LIMIT;
    c
}

/// Posts an order through the API and sends it through a capture pool; returns the
/// attempt's VERP token and Message-ID.
async fn sent_order(srv: &TestServer, number: &str, email: &str) -> (String, String) {
    let key = engine::apikeys::create(&srv.state.db, srv.clock_now(), number, "test")
        .await
        .expect("key");
    let res = srv
        .client()
        .post(format!("{}/api/v1/orders", srv.base))
        .bearer_auth(&key.secret)
        .json(&json!({
            "order_number": number, "placed_at": "2026-11-27T21:00:00Z", "currency": "EUR",
            "items": [{ "name": "Mug", "quantity": 1, "unit_price": 1250 }],
            "totals": { "subtotal": 1250, "total": 1250 },
            "customer": { "email": email, "name": "Jane", "account_kind": "guest" }
        }))
        .send()
        .await
        .expect("post order");
    assert_eq!(res.status(), 202);
    let db = &srv.state.db;
    if pools::list(db).await.expect("pools").is_empty() {
        pools::create(
            db,
            srv.clock_now(),
            NewPool {
                name: "primary",
                role: engine::delivery::pools::PoolRole::Primary,
                from_name: "Shop",
                from_address: "receipts@shop.example",
                relay_url: "capture://",
                max_per_second: 100,
                position: 0,
            },
        )
        .await
        .expect("pool");
    }
    let worker =
        Worker::new(db.clone(), srv.state.clock.clone(), &srv.state.config).expect("worker");
    assert_eq!(worker.run_once().await.expect("send"), 1);
    let order = engine::orders::find_by_number(db, number)
        .await
        .expect("q")
        .expect("order");
    assert_eq!(order.state, "accepted");
    let a = attempts(db, order.id).await.expect("attempts").remove(0);
    (a.verp_token, a.message_id)
}

/// A listener on a loopback port for `srv`'s database; stops when the sender is dropped
/// or sent `true`.
async fn listener(
    srv: &TestServer,
    settings: Settings,
) -> (
    std::net::SocketAddr,
    watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    let smtp = InboundSmtp::with_settings(
        srv.state.db.clone(),
        srv.state.clock.clone(),
        &srv.state.config,
        settings,
        Arc::new(Notify::new()),
    );
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(Arc::new(smtp).serve(l, stop_rx));
    (addr, stop, task)
}

/// A bare SMTP client: one line out, one (possibly multi-line) reply in.
struct Client {
    r: BufReader<OwnedReadHalf>,
    w: OwnedWriteHalf,
}

impl Client {
    /// Connects and returns the client with the greeting.
    async fn connect(addr: std::net::SocketAddr) -> (Self, String) {
        let (r, w) = TcpStream::connect(addr)
            .await
            .expect("connect")
            .into_split();
        let mut c = Client {
            r: BufReader::new(r),
            w,
        };
        let greeting = c.reply().await;
        (c, greeting)
    }

    async fn reply(&mut self) -> String {
        let mut full = String::new();
        loop {
            let mut line = String::new();
            let read = tokio::time::timeout(Duration::from_secs(10), self.r.read_line(&mut line))
                .await
                .expect("a reply within 10 s")
                .expect("read");
            if read == 0 {
                return full;
            }
            full.push_str(&line);
            if line.as_bytes().get(3) == Some(&b' ') {
                return full;
            }
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).await.expect("write");
    }

    async fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    /// MAIL, RCPT, DATA and the message (dot-stuffed here); the reply to the data.
    async fn message(&mut self, from: &str, to: &str, message: &str) -> String {
        assert!(
            self.cmd(&format!("MAIL FROM:<{from}>"))
                .await
                .starts_with("250 ")
        );
        assert!(
            self.cmd(&format!("RCPT TO:<{to}>"))
                .await
                .starts_with("250 ")
        );
        assert!(self.cmd("DATA").await.starts_with("354 "));
        let mut wire = String::new();
        for line in message.split_inclusive("\r\n") {
            if line.starts_with('.') {
                wire.push('.');
            }
            wire.push_str(line);
        }
        if !wire.ends_with("\r\n") {
            wire.push_str("\r\n");
        }
        wire.push_str(".\r\n");
        self.send(wire.as_bytes()).await;
        self.reply().await
    }
}

fn dsn(rcpt: &str, message_id: &str) -> String {
    // To: is not the VERP address here: the envelope recipient (Delivered-To, added by
    // the listener) is what ties this report to its send.
    format!(
        "From: MAILER-DAEMON@mx.example.net\r\nTo: postmaster@shop.example\r\nSubject: Undelivered Mail Returned to Sender\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"BND\"\r\n\r\n\
--BND\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at host mx.example.net.\r\n\
.a line that starts with a dot\r\n\r\n\
--BND\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n\
Final-Recipient: rfc822; {rcpt}\r\nAction: failed\r\nStatus: 5.1.1\r\n\
Diagnostic-Code: smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown\r\n\r\n\
--BND\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{message_id}>\r\nSubject: Your receipt\r\n\r\n--BND--\r\n"
    )
}

#[tokio::test]
async fn bounces_arrive_over_smtp_and_nothing_else_gets_through() {
    for srv in servers(config()).await {
        let db = srv.state.db.clone();
        let (token, message_id) = sent_order(&srv, "SMTP-1", "dead@example.com").await;
        let settings = Settings::from_config(&srv.state.config);
        assert_eq!(settings.domain, "bounce.rebound.local");
        let (addr, stop, task) = listener(&srv, settings).await;
        let verp = format!("bounce+{token}@bounce.rebound.local");

        let (mut c, greeting) = Client::connect(addr).await;
        assert!(
            greeting.starts_with("220 bounce.rebound.local "),
            "{greeting}"
        );
        assert!(
            c.cmd("MAIL FROM:<>").await.starts_with("503 "),
            "EHLO first"
        );
        let ehlo = c.cmd("EHLO mx.example.net").await;
        assert!(ehlo.starts_with("250-bounce.rebound.local"), "{ehlo}");
        assert!(ehlo.contains(&format!("250-SIZE {LIMIT}\r\n")), "{ehlo}");
        assert!(
            !ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"),
            "{ehlo}"
        );
        assert!(c.cmd("NOOP").await.starts_with("250 "));

        // No open relay: other domains (and look-alikes) are refused at RCPT.
        assert!(
            c.cmd("RCPT TO:<x@example.com>").await.starts_with("503 "),
            "MAIL first"
        );
        assert!(
            c.cmd("MAIL FROM:<spammer@example.org>")
                .await
                .starts_with("250 ")
        );
        for other in [
            "victim@example.com",
            "x@evil.bounce.rebound.local",
            "x@bounce.rebound.local.evil.example",
        ] {
            let r = c.cmd(&format!("RCPT TO:<{other}>")).await;
            assert!(r.starts_with("550 5.7.1"), "{other}: {r}");
        }
        assert!(
            c.cmd("DATA").await.starts_with("554 "),
            "no valid recipient"
        );
        assert!(c.cmd("RSET").await.starts_with("250 "));

        // A real DSN from the null sender, to the VERP address: stored and applied.
        let r = c
            .message("", &verp, &dsn("dead@example.com", &message_id))
            .await;
        assert!(r.starts_with("250 2.0.0"), "{r}");
        let order = engine::orders::find_by_number(&db, "SMTP-1")
            .await
            .expect("q")
            .expect("order");
        let b = engine::bounces::for_order(&db, order.id)
            .await
            .expect("bounces");
        assert_eq!(b.len(), 1, "{b:?}");
        assert_eq!(
            (
                b[0].source.as_str(),
                b[0].matched_by.as_str(),
                b[0].class.as_str(),
                b[0].hard
            ),
            ("smtp_inbound", "verp", "recipient_permanent", true)
        );
        let raw = b[0].raw.clone().unwrap_or_default();
        assert!(raw.starts_with("Return-Path: <>\r\n"), "{raw}");
        assert!(raw.contains(&format!("Delivered-To: {verp}\r\n")), "{raw}");
        assert!(
            raw.contains("\r\n.a line that starts with a dot\r\n"),
            "dot-unstuffed"
        );
        assert!(!raw.contains("..a line"), "dot-unstuffed");
        assert_eq!(order.state, "held");
        assert!(
            engine::suppression::active(&db, srv.clock_now(), "dead@example.com")
                .await
                .expect("q")
                .is_some()
        );

        // Over the size limit: announced (SIZE=) or not, 552, and nothing stored.
        let r = c.cmd(&format!("MAIL FROM:<> SIZE={}", LIMIT + 1)).await;
        assert!(r.starts_with("552 5.3.4"), "{r}");
        let big = format!(
            "Subject: big\r\n\r\n{}",
            format!("{}\r\n", "x".repeat(70)).repeat(LIMIT / 70 + 10)
        );
        let r = c.message("", &verp, &big).await;
        assert!(r.starts_with("552 5.3.4"), "{r}");
        // The connection is still usable; a message that is no report is taken and dropped.
        let r = c
            .message(
                "someone@example.org",
                "postmaster@bounce.rebound.local",
                "Subject: hello\r\n\r\nJust saying hi.\r\n",
            )
            .await;
        assert!(r.starts_with("250 "), "{r}");
        let r = c.message("", "Postmaster", "not a message at all").await;
        assert!(r.starts_with("250 "), "{r}");
        assert_eq!(
            engine::bounces::for_order(&db, order.id)
                .await
                .expect("b")
                .len(),
            1
        );
        assert!(
            engine::bounces::unmatched(&db, 10)
                .await
                .expect("u")
                .is_empty()
        );

        // Bad input: long lines, unknown commands, bad parameters.
        let r = c.cmd(&format!("NOOP {}", "y".repeat(5000))).await;
        assert!(r.starts_with("500 5.5.2"), "{r}");
        assert!(c.cmd("STARTTLS").await.starts_with("502 "));
        assert!(c.cmd("MAIL FROM:<> RET=FULL").await.starts_with("555 "));
        assert!(c.cmd("MAIL FROM:nobody").await.starts_with("501 "));
        assert!(c.cmd("QUIT").await.starts_with("221 "));

        // Ten bad commands end the conversation.
        let (mut c, _) = Client::connect(addr).await;
        for _ in 0..10 {
            assert!(c.cmd("GET / HTTP/1.1").await.starts_with("500 "));
        }
        let r = c.reply().await;
        assert!(r.starts_with("421 4.7.0"), "{r}");
        assert_eq!(c.reply().await, "", "closed");

        // Shutdown: idle clients are told 421 and the listener stops.
        let (mut c, _) = Client::connect(addr).await;
        assert!(c.cmd("HELO mx.example.net").await.starts_with("250 "));
        stop.send(true).expect("stop");
        let r = c.reply().await;
        assert!(r.starts_with("421 4.3.2"), "{r}");
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("stops")
            .expect("task");
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "no longer listening"
        );
        srv.stop().await;
    }
}

#[tokio::test]
async fn idle_clients_and_extra_connections_are_turned_away() {
    let srv = TestServer::start(
        engine::testing::TestDb::sqlite().await.expect("db"),
        config(),
    )
    .await;
    let mut settings = Settings::from_config(&srv.state.config);
    settings.idle_timeout = Duration::from_millis(300);
    settings.max_connections = 1;
    let (addr, _stop, _task) = listener(&srv, settings).await;

    let (mut first, greeting) = Client::connect(addr).await;
    assert!(greeting.starts_with("220 "), "{greeting}");
    // The only slot is taken: the next client is told so and closed.
    let (mut second, busy) = Client::connect(addr).await;
    assert!(busy.starts_with("421 4.3.2"), "{busy}");
    assert_eq!(second.reply().await, "", "closed");
    // The first one says nothing: it is timed out, and its slot is free again.
    let r = first.reply().await;
    assert!(r.starts_with("421 4.4.2"), "{r}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (mut third, greeting) = Client::connect(addr).await;
    assert!(greeting.starts_with("220 "), "{greeting}");
    assert!(third.cmd("QUIT").await.starts_with("221 "));
    srv.stop().await;
}
