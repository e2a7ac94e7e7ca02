//! The dispatch ceiling, in its own process: `--conns` tasks, each with its own
//! lettre `AsyncSmtpConnection` over a `TCP_NODELAY` socket, each building its
//! receipts with lettre's message builder (multipart text + HTML, a fresh
//! recipient, subject and Message-ID each) and sending them with lettre's own
//! conversation, as a competitor without a queue or a database would.
//!
//! `raw-lettre --port 2525 --messages 30000 --conns 8` prints one line:
//! `RAW sent=… failed=… seconds=… first_error=…`, timed from before the first
//! connection opens until the last message is answered.

use std::time::Instant;

use lettre::Message;
use lettre::address::Envelope;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::ClientId;

struct Args {
    port: u16,
    messages: usize,
    conns: usize,
}

fn args() -> Result<Args, String> {
    let mut out = Args {
        port: 0,
        messages: 30_000,
        conns: 8,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: std::num::ParseIntError| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--port" => out.port = value.parse().map_err(bad)?,
            "--messages" => out.messages = value.parse().map_err(bad)?,
            "--conns" => out.conns = value.parse().map_err(bad)?,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if out.port == 0 || out.conns == 0 {
        return Err("usage: raw-lettre --port P [--messages N] [--conns C]".to_string());
    }
    Ok(out)
}

async fn open(port: u16) -> Result<AsyncSmtpConnection, String> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let id = ClientId::Domain("bench.rebound.local".to_string());
    AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &id)
        .await
        .map_err(|e| e.to_string())
}

/// One receipt, about the size of Rebound's: a text part and an HTML part
/// with the order's lines, totals and the shop's footer.
fn receipt(i: usize) -> Result<(Envelope, Vec<u8>), String> {
    let number = format!("RAW-{i}");
    let domain = ["example.com", "gmail.com", "yahoo.com", "outlook.com"][i % 4];
    let to: Mailbox = format!("Bench Customer <customer{i}@{domain}>")
        .parse()
        .map_err(|e| format!("recipient: {e}"))?;
    let from: Mailbox = "Rebound Demo Shop <receipts@shop.example>"
        .parse()
        .map_err(|e| format!("sender: {e}"))?;
    let lines = [("Enamel mug", 2, 1250), ("Loose-leaf tea, 100 g", 1, 500)];
    let mut text = format!("Thank you for your order {number}.\n\n");
    let mut rows = String::new();
    for (name, qty, price) in lines {
        text.push_str(&format!(
            "{qty} x {name}  EUR {}.{:02}\n",
            price / 100,
            price % 100
        ));
        rows.push_str(&format!(
            "<tr><td style=\"padding:8px 0;border-bottom:1px solid #eee\">{name}</td>\
             <td style=\"padding:8px 0;text-align:center;border-bottom:1px solid #eee\">{qty}</td>\
             <td style=\"padding:8px 0;text-align:right;border-bottom:1px solid #eee\">EUR {}.{:02}</td></tr>",
            price / 100,
            price % 100
        ));
    }
    text.push_str("\nSubtotal EUR 30.00\nShipping EUR 4.90\nTotal EUR 34.90\n\n");
    text.push_str("Questions? Write to support@shop.example.\nThank you for your order.\n");
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Receipt {number}</title></head>\
         <body style=\"margin:0;padding:0;background:#f5f5f5;font-family:Arial,Helvetica,sans-serif\">\
         <table role=\"presentation\" width=\"100%\" style=\"background:#f5f5f5\"><tr><td align=\"center\">\
         <table role=\"presentation\" width=\"600\" style=\"background:#ffffff;margin:24px 0;padding:24px\">\
         <tr><td><h1 style=\"font-size:22px;color:#222\">Rebound Demo Shop</h1>\
         <p style=\"font-size:15px;color:#444\">Thank you for your order <strong>{number}</strong>, \
         placed on 27 November 2026 at 21:00 UTC. This is your receipt; keep it for your records.</p>\
         <table role=\"presentation\" width=\"100%\" style=\"font-size:14px;color:#333;border-collapse:collapse\">\
         <tr><th align=\"left\">Item</th><th>Qty</th><th align=\"right\">Price</th></tr>{rows}\
         <tr><td colspan=\"2\" style=\"padding:8px 0\">Subtotal</td><td align=\"right\">EUR 30.00</td></tr>\
         <tr><td colspan=\"2\" style=\"padding:8px 0\">Shipping</td><td align=\"right\">EUR 4.90</td></tr>\
         <tr><td colspan=\"2\" style=\"padding:8px 0\"><strong>Total</strong></td>\
         <td align=\"right\"><strong>EUR 34.90</strong></td></tr></table>\
         <p style=\"font-size:13px;color:#666\">Questions about your order? Reply to this message or \
         write to <a href=\"mailto:support@shop.example\">support@shop.example</a>.</p>\
         <p style=\"font-size:12px;color:#999\">Thank you for your order.</p>\
         </td></tr></table></td></tr></table></body></html>"
    );
    let message = Message::builder()
        .from(from)
        .reply_to(
            "support@shop.example"
                .parse()
                .map_err(|e| format!("reply-to: {e}"))?,
        )
        .to(to)
        .subject(format!("Your receipt for order {number}"))
        .message_id(Some(format!("<raw.{i}@bounce.rebound.local>")))
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|e| format!("build: {e}"))?;
    Ok((message.envelope().clone(), message.formatted()))
}

/// Sends messages `w, w + conns, …` below `n` over one connection (replaced if it fails).
async fn send_share(port: u16, w: usize, conns: usize, n: usize) -> (usize, usize, Option<String>) {
    let (mut ok, mut failed, mut first) = (0usize, 0usize, None);
    let mut conn: Option<AsyncSmtpConnection> = None;
    for i in (w..n).step_by(conns) {
        let (envelope, body) = match receipt(i) {
            Ok(m) => m,
            Err(e) => {
                failed += 1;
                first.get_or_insert(e);
                continue;
            }
        };
        if conn.is_none() {
            match open(port).await {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    failed += 1;
                    first.get_or_insert(e);
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        match c.send(&envelope, &body).await {
            Ok(_) => ok += 1,
            Err(e) => {
                failed += 1;
                first.get_or_insert_with(|| e.to_string());
                conn = None;
            }
        }
    }
    if let Some(mut c) = conn {
        let _ = c.quit().await;
    }
    (ok, failed, first)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("raw-lettre: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for w in 0..args.conns {
        set.spawn(send_share(args.port, w, args.conns, args.messages));
    }
    let (mut ok, mut failed, mut first) = (0usize, 0usize, None::<String>);
    while let Some(r) = set.join_next().await {
        match r {
            Ok((o, f, e)) => {
                ok += o;
                failed += f;
                if first.is_none() {
                    first = e;
                }
            }
            Err(e) => {
                failed += 1;
                first.get_or_insert_with(|| format!("task: {e}"));
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "RAW sent={ok} failed={failed} seconds={seconds:.4} first_error={}",
        first.unwrap_or_default().replace(char::is_whitespace, "_")
    );
    std::process::ExitCode::SUCCESS
}
