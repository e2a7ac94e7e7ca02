//! The sender against scripted SMTP servers on loopback.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::conversation::DataBody;
use super::*;
use crate::delivery::message::{ReceiptEmail, build};
use crate::delivery::relay_url::RelayUrl;
use crate::delivery::smtp::Timeouts;
use crate::testing::smtp_server::{Script, ScriptedSmtpServer};
use std::collections::HashSet;

const VERP: &str = "bounce+r1.a2.x9f@bounce.shop.example";
const REPUTATION: &str = "5.7.1 Our system has detected an unusual rate of unsolicited mail originating from your IP address";

fn url_for(server: &ScriptedSmtpServer) -> RelayUrl {
    RelayUrl::parse(&format!("smtp://{}", server.addr())).expect("url")
}

fn sender(server: &ScriptedSmtpServer, max: u32) -> Sender {
    Sender::new(
        &url_for(server),
        Timeouts::uniform(Duration::from_secs(5)),
        max,
    )
    .expect("sender")
}

fn envelope(to: &str) -> Envelope {
    Envelope {
        mail_from: VERP.to_string(),
        rcpt_to: to.to_string(),
    }
}

fn message(to: &str, id: &str, text: &str) -> Vec<u8> {
    build(&ReceiptEmail {
        from_name: "Corner Shop",
        from_address: "receipts@shop.example",
        to_name: "Ada",
        to_address: to,
        subject: "Your receipt",
        html: "<p>Thanks</p>",
        text,
        message_id: id,
        feedback_id: "order:pool-primary:rebound:shop1",
        reply_to: None,
        extra_headers: &[],
    })
    .expect("message")
}

fn header_names(data: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(data);
    let head = text.split("\r\n\r\n").next().unwrap_or("").to_string();
    head.split("\r\n")
        .filter(|l| !l.starts_with([' ', '\t']))
        .filter_map(|l| l.split_once(':').map(|(n, _)| n.to_ascii_lowercase()))
        .collect()
}

fn assert_rejected(outcome: &SendOutcome, code: u16, text: &str, permanent: bool, stage: &str) {
    match outcome {
        SendOutcome::Rejected {
            response,
            permanent: p,
            stage: s,
        } => {
            assert_eq!(response.code, code, "{outcome:?}");
            assert_eq!(response.text, text, "{outcome:?}");
            assert_eq!(*p, permanent, "{outcome:?}");
            assert_eq!(*s, stage, "{outcome:?}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn message_arrives_intact_with_verp_envelope() {
    message_arrives_intact(true).await;
}

#[tokio::test]
async fn message_arrives_intact_through_a_relay_without_pipelining() {
    message_arrives_intact(false).await;
}

async fn message_arrives_intact(pipelining: bool) {
    let server = ScriptedSmtpServer::start().await.expect("server");
    server.set_pipelining(pipelining);
    let s = sender(&server, 2);
    let text = "Line one\n.\n..two dots\n.leading dot\nTotal: 12.00";
    let raw = message(
        "ada@customer.example",
        "r1.a2.x9f@bounce.shop.example",
        text,
    );
    let outcome = s.send(&envelope("ada@customer.example"), &raw).await;
    match &outcome {
        SendOutcome::Accepted { response } => {
            assert_eq!(response.code, 250);
            assert!(
                response.text.starts_with("2.0.0 Ok: queued"),
                "{response:?}"
            );
        }
        other => panic!("expected Accepted, got {other:?}"),
    }
    let got = server.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.mail_from, VERP);
    assert_eq!(m.rcpt_to, vec!["ada@customer.example".to_string()]);
    // Byte for byte what was built.
    assert!(raw.ends_with(b"\r\n"));
    assert_eq!(
        String::from_utf8_lossy(&m.data),
        String::from_utf8_lossy(&raw)
    );
    let body = String::from_utf8_lossy(&m.data);
    assert!(
        body.contains("\r\n.\r\n..two dots\r\n.leading dot\r\n"),
        "{body}"
    );
    assert!(body.contains("Message-ID: <r1.a2.x9f@bounce.shop.example>"));
    assert!(body.contains("text/plain") && body.contains("text/html"));
    let names = header_names(&m.data);
    for h in [
        "date",
        "from",
        "to",
        "subject",
        "mime-version",
        "feedback-id",
        "auto-submitted",
    ] {
        assert!(names.iter().any(|n| n == h), "missing {h} in {names:?}");
    }
    // MAIL, RCPT and DATA went in one write exactly when the relay offered it.
    assert_eq!(server.pipelined_mails(), usize::from(pipelining));
}

#[tokio::test]
async fn rejections_carry_the_servers_code_and_text() {
    rejections_carry_the_reply(true).await;
}

#[tokio::test]
async fn rejections_carry_the_servers_code_and_text_without_pipelining() {
    rejections_carry_the_reply(false).await;
}

async fn rejections_carry_the_reply(pipelining: bool) {
    let server = ScriptedSmtpServer::start().await.expect("server");
    server.set_pipelining(pipelining);
    server.script(
        "unknown@x.test",
        Script::RejectRcpt(550, "5.1.1 User unknown"),
    );
    server.script("busy@x.test", Script::RejectRcpt(450, "4.2.1 Mailbox busy"));
    server.script("rep@x.test", Script::RejectRcpt(550, REPUTATION));
    server.script(
        "multi@x.test",
        Script::RejectRcpt(
            550,
            "5.1.1 <multi@x.test>: Recipient address rejected\n5.1.1 see https://help.example/",
        ),
    );
    server.script(
        "data@x.test",
        Script::RejectData(554, "5.7.1 Message rejected as spam".to_string()),
    );
    server.script(
        "later@x.test",
        Script::RejectRcpt(421, "4.7.0 Try again later"),
    );
    // One connection only: every case below goes through the same pool slot.
    let s = sender(&server, 1);
    let raw = message("a@x.test", "m1@bounce.example", "hi");

    let o = s.send(&envelope("unknown@x.test"), &raw).await;
    assert_rejected(&o, 550, "5.1.1 User unknown", true, "rcpt");
    let o = s.send(&envelope("ok1@x.test"), &raw).await;
    assert!(matches!(o, SendOutcome::Accepted { .. }), "{o:?}");

    let o = s.send(&envelope("busy@x.test"), &raw).await;
    assert_rejected(&o, 450, "4.2.1 Mailbox busy", false, "rcpt");
    let o = s.send(&envelope("rep@x.test"), &raw).await;
    assert_rejected(&o, 550, REPUTATION, true, "rcpt");
    let o = s.send(&envelope("multi@x.test"), &raw).await;
    assert_rejected(
        &o,
        550,
        "5.1.1 <multi@x.test>: Recipient address rejected see https://help.example/",
        true,
        "rcpt",
    );
    let o = s.send(&envelope("data@x.test"), &raw).await;
    assert_rejected(&o, 554, "5.7.1 Message rejected as spam", true, "data");
    let o = s.send(&envelope("ok2@x.test"), &raw).await;
    assert!(matches!(o, SendOutcome::Accepted { .. }), "{o:?}");

    // All of that on one connection: refusals only cost an RSET.
    assert_eq!(server.connections_accepted(), 1);
    let got = server.received();
    let rcpts: Vec<_> = got.iter().map(|m| m.rcpt_to[0].as_str()).collect();
    assert_eq!(rcpts, ["ok1@x.test", "ok2@x.test"]);

    // 421 means the server is closing: reported, the connection replaced.
    let o = s.send(&envelope("later@x.test"), &raw).await;
    assert_rejected(&o, 421, "4.7.0 Try again later", false, "rcpt");
    let o = s.send(&envelope("ok3@x.test"), &raw).await;
    assert!(matches!(o, SendOutcome::Accepted { .. }), "{o:?}");
    assert_eq!(server.connections_accepted(), 2);
}

#[tokio::test]
async fn a_refused_sender_is_reported_at_mail_and_the_connection_carries_on() {
    for pipelining in [true, false] {
        let server = ScriptedSmtpServer::start().await.expect("server");
        server.set_pipelining(pipelining);
        server.reject_sender(VERP, 553, "5.7.1 Sender address rejected");
        let s = sender(&server, 1);
        let raw = message("a@x.test", "m1@bounce.example", "hi");
        let o = s.send(&envelope("a@x.test"), &raw).await;
        assert_rejected(&o, 553, "5.7.1 Sender address rejected", true, "mail");
        // The RCPT and DATA answers (503) were read and the transaction reset: the
        // same connection takes the next message.
        let ok = Envelope {
            mail_from: "bounce+ok@bounce.shop.example".to_string(),
            rcpt_to: "b@x.test".to_string(),
        };
        let o = s.send(&ok, &raw).await;
        assert!(matches!(o, SendOutcome::Accepted { .. }), "{o:?}");
        assert_eq!(server.connections_accepted(), 1, "pipelining {pipelining}");
        assert_eq!(server.received().len(), 1);
    }
}

fn dot_stuffed(message: &str) -> String {
    DataBody(message).to_string()
}

#[test]
fn dot_stuffing_doubles_leading_dots_and_ends_the_message() {
    assert_eq!(dot_stuffed("a\r\nb\r\n"), "a\r\nb\r\n.\r\n");
    assert_eq!(dot_stuffed("a\r\nb"), "a\r\nb\r\n.\r\n");
    assert_eq!(dot_stuffed(""), "\r\n.\r\n");
    assert_eq!(dot_stuffed(".x\r\n"), "..x\r\n.\r\n");
    assert_eq!(
        dot_stuffed("a\r\n.\r\n..b\r\n.c\r\nd.e\r\n"),
        "a\r\n..\r\n...b\r\n..c\r\nd.e\r\n.\r\n"
    );
    // Only CRLF starts a line (as in lettre's writer): a bare LF does not.
    assert_eq!(dot_stuffed("a\n.b\r\n"), "a\n.b\r\n.\r\n");
    assert_eq!(dot_stuffed("a\r\r\n.b"), "a\r\r\n..b\r\n.\r\n");
}

#[tokio::test]
async fn scripted_sequence_rejects_then_accepts() {
    let server = ScriptedSmtpServer::start().await.expect("server");
    server.script_sequence(
        "retry@x.test",
        vec![
            Script::RejectRcpt(450, "4.2.1 Mailbox busy"),
            Script::RejectRcpt(450, "4.2.1 Mailbox busy"),
            Script::Accept,
        ],
    );
    let s = sender(&server, 1);
    let raw = message("retry@x.test", "m2@bounce.example", "hi");
    for _ in 0..2 {
        let o = s.send(&envelope("retry@x.test"), &raw).await;
        assert_rejected(&o, 450, "4.2.1 Mailbox busy", false, "rcpt");
    }
    let o = s.send(&envelope("retry@x.test"), &raw).await;
    assert!(matches!(o, SendOutcome::Accepted { .. }), "{o:?}");
}

#[tokio::test]
async fn dropped_connection_fails_and_the_next_send_reconnects() {
    let server = ScriptedSmtpServer::start().await.expect("server");
    server.script("drop@x.test", Script::CloseAtRcpt);
    let s = sender(&server, 1);
    let raw = message("a@x.test", "m3@bounce.example", "hi");
    let o = s.send(&envelope("drop@x.test"), &raw).await;
    assert!(matches!(o, SendOutcome::Failed { .. }), "{o:?}");
    let o = s.send(&envelope("ok@x.test"), &raw).await;
    assert!(matches!(o, SendOutcome::Accepted { .. }), "{o:?}");
    assert_eq!(server.connections_accepted(), 2);
}

#[tokio::test]
async fn connection_closed_by_the_relay_while_idle_is_replaced_transparently() {
    let server = ScriptedSmtpServer::start().await.expect("server");
    let s = sender(&server, 1);
    let raw = message("a@x.test", "m6@bounce.example", "hi");
    let o = s.send(&envelope("one@x.test"), &raw).await;
    assert!(matches!(o, SendOutcome::Accepted { .. }), "{o:?}");
    server.close_connections();
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The pooled connection is fresh (no NOOP), so MAIL finds it dead; the send is
    // retried once on a new connection.
    let o = s.send(&envelope("two@x.test"), &raw).await;
    assert!(matches!(o, SendOutcome::Accepted { .. }), "{o:?}");
    assert_eq!(server.connections_accepted(), 2);
    assert_eq!(server.received().len(), 2);
}

#[tokio::test]
async fn connection_refused_fails_quickly() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let url = RelayUrl::parse(&format!("smtp://127.0.0.1:{port}")).expect("url");
    let s = Sender::new(&url, Timeouts::uniform(Duration::from_secs(5)), 2).expect("sender");
    let start = Instant::now();
    let o = s
        .send(&envelope("a@x.test"), b"Subject: x\r\n\r\nx\r\n")
        .await;
    assert!(
        matches!(&o, SendOutcome::Failed { detail, relay_fault: true } if detail.contains("connect")),
        "{o:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn slow_greeting_fails_within_the_timeout() {
    let server = ScriptedSmtpServer::start().await.expect("server");
    server.set_greeting_delay(Duration::from_secs(10));
    let s = Sender::new(
        &url_for(&server),
        Timeouts::uniform(Duration::from_millis(300)),
        1,
    )
    .expect("sender");
    let start = Instant::now();
    let o = s
        .send(&envelope("a@x.test"), b"Subject: x\r\n\r\nx\r\n")
        .await;
    let took = start.elapsed();
    assert!(
        matches!(&o, SendOutcome::Failed { detail, relay_fault: true } if detail.contains("within")),
        "{o:?}"
    );
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(1300),
        "{took:?}"
    );
}

#[tokio::test]
async fn stall_mid_transaction_fails_and_frees_the_slot() {
    let server = ScriptedSmtpServer::start().await.expect("server");
    server.script(
        "slow@x.test",
        Script::DelayGreeting(Duration::from_secs(10)),
    );
    let s = Sender::new(
        &url_for(&server),
        Timeouts::uniform(Duration::from_millis(300)),
        1,
    )
    .expect("sender");
    let raw = message("a@x.test", "m4@bounce.example", "hi");
    let o = s.send(&envelope("slow@x.test"), &raw).await;
    assert!(matches!(o, SendOutcome::Failed { .. }), "{o:?}");
    let o = s.send(&envelope("ok@x.test"), &raw).await;
    assert!(matches!(o, SendOutcome::Accepted { .. }), "{o:?}");
}

#[tokio::test]
async fn header_injection_does_not_reach_the_wire() {
    let server = ScriptedSmtpServer::start().await.expect("server");
    let s = sender(&server, 1);
    let raw = build(&ReceiptEmail {
        from_name: "Shop\r\nBcc: evil1@evil.example",
        from_address: "receipts@shop.example",
        to_name: "Eve\r\nBcc: evil2@evil.example",
        to_address: "eve@customer.example",
        subject: "Receipt\r\nBcc: evil3@evil.example",
        html: "<p>x</p>",
        text: "x",
        message_id: "m5@bounce.example",
        feedback_id: "a:b:c:d",
        reply_to: None,
        extra_headers: &[("X-Order", "1\r\nBcc: evil4@evil.example".to_string())],
    })
    .expect("message");
    let o = s.send(&envelope("eve@customer.example"), &raw).await;
    assert!(matches!(o, SendOutcome::Accepted { .. }), "{o:?}");
    let got = server.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got[0].rcpt_to, vec!["eve@customer.example".to_string()]);
    let names = header_names(&got[0].data);
    assert!(!names.iter().any(|n| n == "bcc"), "{names:?}");
    // A CR/LF in the envelope itself is refused before anything is sent.
    let o = s
        .send(
            &envelope("eve@customer.example>\r\nRCPT TO:<evil@evil.example"),
            &raw,
        )
        .await;
    assert!(matches!(o, SendOutcome::Failed { .. }), "{o:?}");
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn two_hundred_concurrent_sends_arrive_exactly_once() {
    let server = ScriptedSmtpServer::start().await.expect("server");
    let s = sender(&server, 8);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let s = s.clone();
        tasks.spawn(async move {
            let to = format!("c{i}@x.test");
            let raw = message(&to, &format!("m{i}@bounce.example"), "hi");
            s.send(&envelope(&to), &raw).await
        });
    }
    while let Some(res) = tasks.join_next().await {
        let o = res.expect("task");
        assert!(matches!(o, SendOutcome::Accepted { .. }), "{o:?}");
    }
    let got = server.wait_for(200, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 200);
    let distinct: HashSet<_> = got.iter().map(|m| m.rcpt_to[0].clone()).collect();
    assert_eq!(distinct.len(), 200);
    for m in &got {
        let i = m.rcpt_to[0]
            .trim_start_matches('c')
            .trim_end_matches("@x.test");
        let body = String::from_utf8_lossy(&m.data);
        assert!(body.contains(&format!("Message-ID: <m{i}@bounce.example>")));
    }
    let conns = server.connections_accepted();
    assert!((1..=8).contains(&conns), "{conns} connections");
}

#[tokio::test]
async fn capture_sends_nothing() {
    let s = Sender::new(
        &RelayUrl::Capture,
        Timeouts::uniform(Duration::from_secs(1)),
        1,
    )
    .expect("sender");
    assert!(s.is_capture());
    let o = s.send(&envelope("a@x.test"), b"x").await;
    assert_eq!(o, SendOutcome::Captured);
    for dead in ["a@nowhere.invalid", "B@Shop.INVALID", "c@invalid"] {
        match s.send(&envelope(dead), b"x").await {
            SendOutcome::Rejected {
                response,
                permanent: true,
                stage: "rcpt",
            } => assert!(response.code == 550 && response.text.starts_with("5.1.2")),
            other => panic!("{dead}: {other:?}"),
        }
    }
    let o = s.send(&envelope("a@invalid.example"), b"x").await;
    assert_eq!(o, SendOutcome::Captured, "only the .invalid TLD is refused");
}

#[tokio::test]
async fn required_tls_is_never_skipped() {
    let server = ScriptedSmtpServer::start().await.expect("server");
    // The scripted server offers no STARTTLS: refuse to send in clear.
    let url = RelayUrl::parse(&format!("smtp://{}?tls=starttls", server.addr())).expect("url");
    let s = Sender::new(&url, Timeouts::uniform(Duration::from_secs(2)), 1).expect("sender");
    let o = s
        .send(&envelope("a@x.test"), b"Subject: x\r\n\r\nx\r\n")
        .await;
    assert!(
        matches!(&o, SendOutcome::Failed { detail, .. } if detail.contains("STARTTLS")),
        "{o:?}"
    );
    // Implicit TLS against a plain server: the handshake fails, nothing is sent.
    let url = RelayUrl::parse(&format!("smtps://{}", server.addr())).expect("url");
    let s = Sender::new(&url, Timeouts::uniform(Duration::from_secs(2)), 1).expect("sender");
    let o = s
        .send(&envelope("a@x.test"), b"Subject: x\r\n\r\nx\r\n")
        .await;
    assert!(matches!(o, SendOutcome::Failed { .. }), "{o:?}");
    assert!(server.received().is_empty());
}

/// Stage timeouts for the fault tests below: `stage` for every stage, the
/// final reply and the queue as given.
fn staged(stage: Duration, final_reply: Duration, queue: Duration) -> Timeouts {
    Timeouts {
        final_reply,
        queue,
        ..Timeouts::uniform(stage)
    }
}

#[tokio::test]
async fn a_slow_final_reply_within_its_timeout_is_accepted_and_queueing_is_not_counted() {
    for pipelining in [true, false] {
        let server = ScriptedSmtpServer::start().await.expect("server");
        server.set_pipelining(pipelining);
        server.set_final_reply_delay(Duration::from_millis(150));
        // One connection, 8 sends at once: the last waits ~1 s for the connection,
        // far past every stage timeout (400 ms), and still goes through.
        let url = url_for(&server);
        let t = staged(
            Duration::from_millis(400),
            Duration::from_secs(2),
            Duration::from_secs(10),
        );
        let s = Sender::new(&url, t, 1).expect("sender");
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..8 {
            let s = s.clone();
            tasks.spawn(async move {
                let to = format!("slow{i}@x.test");
                let raw = message(&to, &format!("s{i}@bounce.example"), "hi");
                s.send(&envelope(&to), &raw).await
            });
        }
        while let Some(r) = tasks.join_next().await {
            let o = r.expect("task");
            assert!(matches!(o, SendOutcome::Accepted { .. }), "{o:?}");
        }
        assert_eq!(server.received().len(), 8);
    }
}

#[tokio::test]
async fn no_free_connection_within_the_queue_bound_is_not_sent_not_a_relay_failure() {
    let server = ScriptedSmtpServer::start().await.expect("server");
    server.set_final_reply_delay(Duration::from_millis(800));
    let t = staged(
        Duration::from_secs(2),
        Duration::from_secs(2),
        Duration::from_millis(200),
    );
    let s = Sender::new(&url_for(&server), t, 1).expect("sender");
    let raw = message("a@x.test", "q@bounce.example", "hi");
    let (e1, e2) = (envelope("q1@x.test"), envelope("q2@x.test"));
    let (first, second) = tokio::join!(s.send(&e1, &raw), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        s.send(&e2, &raw).await
    });
    assert!(matches!(first, SendOutcome::Accepted { .. }), "{first:?}");
    assert!(
        matches!(&second, SendOutcome::NotSent { detail } if detail.contains("no free connection")),
        "{second:?}"
    );
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn a_relay_closing_after_the_final_dot_leaves_the_outcome_unknown() {
    for pipelining in [true, false] {
        let server = ScriptedSmtpServer::start().await.expect("server");
        server.set_pipelining(pipelining);
        server.script("gone@x.test", Script::CloseAfterData);
        let s = sender(&server, 1);
        let raw = message("gone@x.test", "u@bounce.example", "hi");
        let o = s.send(&envelope("gone@x.test"), &raw).await;
        assert!(matches!(o, SendOutcome::Unknown { .. }), "{o:?}");
        // The relay did take it; the connection is replaced for the next send.
        assert_eq!(server.received().len(), 1);
        let o = s.send(&envelope("next@x.test"), &raw).await;
        assert!(matches!(o, SendOutcome::Accepted { .. }), "{o:?}");
        assert_eq!(server.connections_accepted(), 2);
    }
}

#[tokio::test]
async fn no_reply_to_the_final_dot_within_its_timeout_is_unknown() {
    let server = ScriptedSmtpServer::start().await.expect("server");
    server.set_final_reply_delay(Duration::from_secs(5));
    let t = staged(
        Duration::from_secs(2),
        Duration::from_millis(300),
        Duration::from_secs(2),
    );
    let s = Sender::new(&url_for(&server), t, 1).expect("sender");
    let raw = message("a@x.test", "f@bounce.example", "hi");
    let start = Instant::now();
    let o = s.send(&envelope("late@x.test"), &raw).await;
    let took = start.elapsed();
    assert!(
        matches!(&o, SendOutcome::Unknown { detail } if detail.contains("within")),
        "{o:?}"
    );
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(1500),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_drop_mid_transaction_is_not_the_relays_fault() {
    let server = ScriptedSmtpServer::start().await.expect("server");
    server.script("drop@x.test", Script::CloseAtRcpt);
    let s = sender(&server, 1);
    let raw = message("a@x.test", "d@bounce.example", "hi");
    let o = s.send(&envelope("drop@x.test"), &raw).await;
    assert!(
        matches!(
            o,
            SendOutcome::Failed {
                relay_fault: false,
                ..
            }
        ),
        "{o:?}"
    );
}

#[test]
fn default_timeouts_are_rfc_5321s() {
    let t = Timeouts::default();
    let min = |m: u64| Duration::from_secs(60 * m);
    assert_eq!((t.greeting, t.mail, t.rcpt), (min(5), min(5), min(5)));
    assert_eq!(
        (t.data_init, t.data_block, t.final_reply),
        (min(2), min(3), min(10))
    );
}

/// Throughput over loopback: `cargo test --release -- --ignored --nocapture throughput`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement, run by hand in release mode"]
async fn throughput() {
    let server = ScriptedSmtpServer::start().await.expect("server");
    let s = sender(&server, 8);
    let n = 4000;
    let raw = Arc::new(message(
        "t@x.test",
        "t@bounce.example",
        "Thanks for your order.",
    ));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..8 {
        let s = s.clone();
        let raw = Arc::clone(&raw);
        tasks.spawn(async move {
            for i in (w..n).step_by(8) {
                let o = s.send(&envelope(&format!("t{i}@x.test")), &raw).await;
                assert!(matches!(o, SendOutcome::Accepted { .. }), "{o:?}");
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("worker");
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(server.received().len(), n);
    println!("{n} messages in {secs:.2}s: {:.0} msg/s", n as f64 / secs);
}
