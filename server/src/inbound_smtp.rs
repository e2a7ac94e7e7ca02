//! The optional built-in SMTP listener for the bounce domain: mail servers that
//! return our receipts (DSNs, ARF complaints, auto-replies to the VERP return
//! path `bounce+<token>@<bounce_domain>`) deliver straight to Rebound when the
//! domain's MX record points here.
//!
//! It speaks the part of RFC 5321 a delivering MTA uses: `EHLO`/`HELO`, `MAIL
//! FROM` (the null sender `<>` included), `RCPT TO` (only addresses at
//! `delivery.bounce_domain`, and `postmaster`; anything else is `550`: never
//! an open relay), `DATA` with dot-unstuffing and the size limit (`SIZE`
//! advertised, `552` over it), `RSET`, `NOOP`, `QUIT`, plus `HELP` and `VRFY`.
//! No TLS and no AUTH: a bounce sink needs neither, and MTAs deliver in clear
//! text when `STARTTLS` is not offered.
//!
//! Limits keep a misbehaving or hostile client from holding resources: every
//! line must arrive within the idle timeout, command lines are at most
//! [`MAX_COMMAND_LINE`] bytes and data lines [`MAX_DATA_LINE`], at most
//! [`MAX_RECIPIENTS`] recipients per message, [`MAX_ERRORS`] bad commands per
//! connection, [`MAX_SESSION`] per connection, and at most
//! `max_connections` connections at once (the next one is told `421` and closed).
//!
//! Each message goes to [`engine::bounces::ingest_message`] with the source
//! `smtp_inbound`, exactly as `POST /api/v1/inbound/bounce` does. A message
//! that is not a readable report is still accepted (`250`) and logged, so the
//! sender does not retry or double-bounce it; only a database failure answers
//! `451` (try again later).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use engine::bounce::Classifier;
use engine::delivery::policy::RetryPolicy;
use engine::{Clock, Config, Db};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

/// Longest command line, CRLF included (RFC 5321 §4.5.3.1.4 asks for 512; room for
/// parameters).
pub const MAX_COMMAND_LINE: usize = 2048;
/// Longest line of message data, CRLF included (RFC 5321 allows 1000; some MTAs quote
/// longer lines from the original message, so this is generous but bounded).
pub const MAX_DATA_LINE: usize = 64 * 1024;
/// Most recipients in one transaction (RFC 5321 §4.5.3.1.8 asks for at least 100).
pub const MAX_RECIPIENTS: usize = 100;
/// Bad commands (syntax, sequence, refused relay) before the connection is closed.
pub const MAX_ERRORS: usize = 10;
/// Longest one connection may last, whatever it does.
pub const MAX_SESSION: Duration = Duration::from_secs(60 * 60);
/// How long a reply may take to be written before the client is given up on.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);

/// How the listener behaves; [`Settings::from_config`] gives the production values.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The only domain `RCPT TO` accepts (`delivery.bounce_domain`), lower case.
    pub domain: String,
    /// The name in the greeting and `EHLO` reply.
    pub hostname: String,
    /// Largest message (after dot-unstuffing, before our trace headers).
    pub max_message_bytes: usize,
    /// Each line must arrive within this (RFC 5321 §4.5.3.2.7: at least 5 minutes).
    pub idle_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Settings {
    pub fn from_config(config: &Config) -> Self {
        let domain = config
            .delivery
            .bounce_domain
            .trim_end_matches('.')
            .to_ascii_lowercase();
        Self {
            hostname: domain.clone(),
            domain,
            max_message_bytes: config.inbound_smtp.max_message_bytes,
            idle_timeout: Duration::from_secs(5 * 60),
            max_connections: 64,
        }
    }
}

/// The listener's shared state: where messages go.
pub struct InboundSmtp {
    db: Db,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
    settings: Settings,
    /// Poked after a bounce was stored: it may have scheduled a retry.
    wake: Arc<Notify>,
}

impl InboundSmtp {
    pub fn new(db: Db, clock: Arc<dyn Clock>, config: &Config, wake: Arc<Notify>) -> Self {
        Self::with_settings(db, clock, config, Settings::from_config(config), wake)
    }

    pub fn with_settings(
        db: Db,
        clock: Arc<dyn Clock>,
        config: &Config,
        settings: Settings,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            db,
            clock,
            policy: RetryPolicy::from_config(&config.delivery),
            settings,
            wake,
        }
    }

    /// Accepts connections on `listener` until `shutdown` turns true; then stops
    /// accepting, tells idle clients `421` and waits (at most 30 s) for messages in
    /// flight to be stored.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let slots = Arc::new(Semaphore::new(self.settings.max_connections.max(1)));
        let mut sessions = JoinSet::new();
        loop {
            tokio::select! {
                _ = stopped(&mut shutdown) => break,
                Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
                accepted = listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // Out of file descriptors and the like: back off briefly.
                            tracing::warn!(error = %e, "inbound SMTP: accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let Ok(permit) = slots.clone().try_acquire_owned() else {
                        // Full: say so without waiting for the client (a fresh socket's
                        // send buffer is empty), and close.
                        let _ = stream.try_write(b"421 4.3.2 Too many connections, try again later\r\n");
                        tracing::warn!(%peer, "inbound SMTP: connection refused, all slots busy");
                        continue;
                    };
                    let this = Arc::clone(&self);
                    let stop = shutdown.clone();
                    sessions.spawn(async move {
                        let _permit = permit;
                        let run = this.session(stream, peer, stop);
                        match tokio::time::timeout(MAX_SESSION, run).await {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => tracing::debug!(%peer, error = %e, "inbound SMTP: connection ended"),
                            Err(_) => tracing::info!(%peer, "inbound SMTP: connection closed after the session limit"),
                        }
                    });
                }
            }
        }
        drop(listener);
        let drain = async { while sessions.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(30), drain)
            .await
            .is_err()
        {
            sessions.abort_all();
        }
    }

    async fn session(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
        shutdown: watch::Receiver<bool>,
    ) -> std::io::Result<()> {
        let _ = stream.set_nodelay(true);
        let (r, w) = stream.into_split();
        let conn = Conn {
            reader: BufReader::new(r),
            writer: w,
            buf: Vec::with_capacity(512),
            idle: self.settings.idle_timeout,
            shutdown,
        };
        self.converse(conn, &peer.ip().to_string()).await
    }

    /// One SMTP conversation, from the greeting to `QUIT` (or a timeout, or the end).
    async fn converse<R, W>(&self, mut c: Conn<R, W>, peer: &str) -> std::io::Result<()>
    where
        R: AsyncBufRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let s = &self.settings;
        c.reply(
            220,
            &format!("{} ESMTP Rebound bounce receiver", s.hostname),
        )
        .await?;
        let mut helo: Option<String> = None;
        let mut tx = Transaction::default();
        let mut errors = 0usize;
        loop {
            if errors >= MAX_ERRORS {
                c.reply(421, "4.7.0 Too many errors, closing connection")
                    .await?;
                return Ok(());
            }
            let line = match c.read_line(MAX_COMMAND_LINE, true).await? {
                Input::Line(l) => l,
                Input::Eof => return Ok(()),
                Input::TooLong => {
                    errors += 1;
                    c.reply(500, "5.5.2 Line too long").await?;
                    continue;
                }
                Input::Timeout => {
                    c.reply(
                        421,
                        &format!("4.4.2 {} Idle timeout, closing connection", s.hostname),
                    )
                    .await?;
                    return Ok(());
                }
                Input::Shutdown => {
                    c.reply(421, &format!("4.3.2 {} Service shutting down", s.hostname))
                        .await?;
                    return Ok(());
                }
            };
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\r', '\n']);
            let (verb, args) = match line.split_once(' ') {
                Some((v, a)) => (v.to_ascii_uppercase(), a.trim()),
                None => (line.to_ascii_uppercase(), ""),
            };
            let (code, text): (u16, String) = match verb.as_str() {
                "EHLO" | "HELO" if args.is_empty() => {
                    (501, format!("5.5.4 Syntax: {verb} hostname"))
                }
                "EHLO" => {
                    helo = Some(args.to_string());
                    tx = Transaction::default();
                    (
                        250,
                        format!(
                            "{} greets {args}\nPIPELINING\nSIZE {}\n8BITMIME\nSMTPUTF8\nENHANCEDSTATUSCODES",
                            s.hostname, s.max_message_bytes
                        ),
                    )
                }
                "HELO" => {
                    helo = Some(args.to_string());
                    tx = Transaction::default();
                    (250, s.hostname.clone())
                }
                "MAIL" => match parse_mail(args, s.max_message_bytes) {
                    _ if helo.is_none() => (503, "5.5.1 Send EHLO or HELO first".into()),
                    _ if tx.mail_from.is_some() => (503, "5.5.1 Sender already given".into()),
                    Ok(from) => {
                        tx.mail_from = Some(from);
                        (250, "2.1.0 Ok".into())
                    }
                    Err(reply) => reply,
                },
                "RCPT" => match parse_rcpt(args) {
                    _ if tx.mail_from.is_none() => (503, "5.5.1 Need MAIL before RCPT".into()),
                    _ if tx.rcpt_to.len() >= MAX_RECIPIENTS => {
                        (452, "4.5.3 Too many recipients".into())
                    }
                    Ok(to) if accepts(&s.domain, &to) => {
                        tx.rcpt_to.push(to);
                        (250, "2.1.5 Ok".into())
                    }
                    Ok(_) => (550, "5.7.1 Relay access denied".into()),
                    Err(reply) => reply,
                },
                "DATA" if tx.mail_from.is_none() => (503, "5.5.1 Need MAIL before DATA".into()),
                "DATA" if tx.rcpt_to.is_empty() => (554, "5.5.1 No valid recipients".into()),
                "DATA" => {
                    c.reply(354, "End data with <CR><LF>.<CR><LF>").await?;
                    let outcome = c.read_data(s.max_message_bytes).await?;
                    let done = std::mem::take(&mut tx);
                    match outcome {
                        Data::Complete(data) => {
                            self.deliver(done, helo.as_deref().unwrap_or(""), peer, data)
                                .await
                        }
                        Data::TooBig => {
                            tracing::info!(
                                peer,
                                limit = s.max_message_bytes,
                                "inbound SMTP: message over the size limit refused"
                            );
                            (
                                552,
                                format!(
                                    "5.3.4 Message too big (at most {} bytes)",
                                    s.max_message_bytes
                                ),
                            )
                        }
                        Data::LineTooLong => (500, "5.5.2 Line too long".into()),
                        Data::Eof => return Ok(()),
                        Data::Timeout => {
                            c.reply(
                                421,
                                &format!("4.4.2 {} Idle timeout, closing connection", s.hostname),
                            )
                            .await?;
                            return Ok(());
                        }
                    }
                }
                "RSET" => {
                    tx = Transaction::default();
                    (250, "2.0.0 Ok".into())
                }
                "NOOP" => (250, "2.0.0 Ok".into()),
                "HELP" => (
                    214,
                    "2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT".into(),
                ),
                "VRFY" => (
                    252,
                    "2.5.2 Cannot VRFY user, but will accept the message".into(),
                ),
                "QUIT" => {
                    c.reply(221, "2.0.0 Bye").await?;
                    return Ok(());
                }
                "EXPN" | "STARTTLS" | "AUTH" | "BDAT" | "ETRN" | "TURN" => {
                    (502, "5.5.1 Command not implemented".into())
                }
                _ => (500, "5.5.2 Command not recognized".into()),
            };
            if matches!(code, 500..=503 | 550 | 555) {
                errors += 1;
            }
            c.reply(code, &text).await?;
        }
    }

    /// Stores one received message; the reply to its DATA.
    async fn deliver(
        &self,
        tx: Transaction,
        helo: &str,
        peer: &str,
        data: Vec<u8>,
    ) -> (u16, String) {
        let size = data.len();
        let raw = with_trace_headers(
            &tx,
            helo,
            peer,
            &self.settings.hostname,
            self.clock.now_ms(),
            data,
        );
        let got = engine::bounces::ingest_message(
            &self.db,
            self.clock.now_ms(),
            Classifier::shared(),
            &self.policy,
            &raw,
            "smtp_inbound",
        )
        .await;
        let sender = match tx.mail_from.as_deref() {
            Some("") | None => "<>".to_string(),
            Some(a) => engine::privacy::mask_email(a),
        };
        match got {
            Ok(got) if got.bounce_ids.is_empty() => {
                tracing::warn!(
                    peer,
                    sender,
                    size,
                    "inbound SMTP: accepted a message that reports no recipient (not a bounce); nothing stored"
                );
                (250, "2.0.0 Ok: accepted, no report found".into())
            }
            Ok(got) => {
                tracing::info!(
                    peer,
                    sender,
                    size,
                    bounces = got.bounce_ids.len(),
                    matched = got.matched,
                    unmatched = got.unmatched,
                    "inbound SMTP: bounce stored"
                );
                self.wake.notify_one();
                (250, "2.0.0 Ok: stored".into())
            }
            Err(engine::Error::Invalid(why)) => {
                tracing::warn!(peer, sender, size, %why, "inbound SMTP: accepted a message that is not a readable report; nothing stored");
                (250, "2.0.0 Ok: accepted, not a readable report".into())
            }
            Err(e) => {
                tracing::error!(peer, sender, size, error = %e, "inbound SMTP: could not store a message; the sender will retry");
                (451, "4.3.0 Temporary failure, try again later".into())
            }
        }
    }
}

/// The transaction in progress on one connection.
#[derive(Debug, Default)]
struct Transaction {
    /// Without angle brackets; empty for the null sender `<>`.
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

/// Prepends what a final-delivery SMTP server adds (RFC 5321 §4.4): `Return-Path`, and a
/// `Received` line; plus `Delivered-To` when there is one recipient, so the VERP token of
/// the envelope ties the bounce to its send even if the report's own `To:` was rewritten.
fn with_trace_headers(
    tx: &Transaction,
    helo: &str,
    peer: &str,
    hostname: &str,
    now: engine::clock::Millis,
    data: Vec<u8>,
) -> Vec<u8> {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect::<String>()
    };
    let date = time::OffsetDateTime::from_unix_timestamp(now.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc2822)
                .ok()
        })
        .unwrap_or_default();
    let mut head = format!(
        "Return-Path: <{}>\r\n",
        clean(tx.mail_from.as_deref().unwrap_or(""))
    );
    if let [rcpt] = tx.rcpt_to.as_slice() {
        head.push_str(&format!("Delivered-To: {}\r\n", clean(rcpt)));
    }
    head.push_str(&format!(
        "Received: from {} ([{}])\r\n\tby {} (Rebound) with ESMTP; {date}\r\n",
        clean(helo),
        clean(peer),
        clean(hostname)
    ));
    let mut raw = head.into_bytes();
    raw.extend_from_slice(&data);
    raw
}

/// `MAIL FROM:<path> [params]`: the address (empty for `<>`), or the error reply.
fn parse_mail(args: &str, max_size: usize) -> Result<String, (u16, String)> {
    let Some(rest) = strip_prefix_ci(args, "FROM:") else {
        return Err((501, "5.5.4 Syntax: MAIL FROM:<address>".into()));
    };
    let (addr, params) =
        parse_path(rest).ok_or((501, "5.1.7 Bad sender address syntax".to_string()))?;
    for p in params.split_whitespace() {
        let (key, value) = p.split_once('=').unwrap_or((p, ""));
        match key.to_ascii_uppercase().as_str() {
            "SIZE" => match value.parse::<u64>() {
                Ok(n) if n > max_size as u64 => {
                    return Err((
                        552,
                        format!("5.3.4 Message too big (at most {max_size} bytes)"),
                    ));
                }
                Ok(_) => {}
                Err(_) => return Err((501, "5.5.4 Bad SIZE parameter".into())),
            },
            "BODY"
                if value.eq_ignore_ascii_case("7BIT") || value.eq_ignore_ascii_case("8BITMIME") => {
            }
            "SMTPUTF8" if value.is_empty() => {}
            _ => return Err((555, "5.5.4 Unsupported parameter".into())),
        }
    }
    Ok(addr)
}

/// `RCPT TO:<path>`: the address, or the error reply. No parameters are advertised, so
/// none are taken.
fn parse_rcpt(args: &str) -> Result<String, (u16, String)> {
    let Some(rest) = strip_prefix_ci(args, "TO:") else {
        return Err((501, "5.5.4 Syntax: RCPT TO:<address>".into()));
    };
    match parse_path(rest) {
        Some((addr, params)) if !addr.is_empty() => {
            if params.trim().is_empty() {
                Ok(addr)
            } else {
                Err((555, "5.5.4 Unsupported parameter".into()))
            }
        }
        _ => Err((501, "5.1.3 Bad recipient address syntax".into())),
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// `<addr> params` (spaces before `<` tolerated): the address without brackets and
/// without a source route (`<@a,@b:user@d>` → `user@d`), and the rest.
fn parse_path(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start();
    let inner_start = s.strip_prefix('<')?;
    let end = inner_start.find('>')?;
    let mut addr = &inner_start[..end];
    if addr.starts_with('@') {
        addr = addr.split_once(':')?.1;
    }
    if addr.chars().any(|c| c.is_control() || c == ' ' || c == '<') || addr.len() > 320 {
        return None;
    }
    Some((addr.to_string(), &inner_start[end + 1..]))
}

/// Whether a recipient is ours: any address at the bounce domain, and `postmaster`
/// (RFC 5321 §4.5.1 asks every server to take mail for it).
fn accepts(domain: &str, rcpt: &str) -> bool {
    if rcpt.eq_ignore_ascii_case("postmaster") {
        return true;
    }
    match rcpt.rsplit_once('@') {
        Some((local, d)) => {
            !local.is_empty() && d.trim_end_matches('.').eq_ignore_ascii_case(domain)
        }
        None => false,
    }
}

/// Resolves once `shutdown` is true; never if its sender is gone.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    if shutdown.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

enum Input {
    Line(Vec<u8>),
    TooLong,
    Eof,
    Timeout,
    Shutdown,
}

enum Data {
    Complete(Vec<u8>),
    TooBig,
    LineTooLong,
    Eof,
    Timeout,
}

enum Limited {
    Line,
    TooLong,
    Eof,
}

/// One connection's two halves and its limits.
struct Conn<R, W> {
    reader: R,
    writer: W,
    buf: Vec<u8>,
    idle: Duration,
    shutdown: watch::Receiver<bool>,
}

impl<R, W> Conn<R, W>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    /// Writes a reply; `\n` in `text` makes a multi-line reply (`250-…` lines).
    async fn reply(&mut self, code: u16, text: &str) -> std::io::Result<()> {
        let lines: Vec<&str> = text.split('\n').collect();
        let mut out = String::new();
        for (i, line) in lines.iter().enumerate() {
            let sep = if i + 1 == lines.len() { ' ' } else { '-' };
            out.push_str(&format!("{code}{sep}{line}\r\n"));
        }
        match tokio::time::timeout(WRITE_TIMEOUT, self.writer.write_all(out.as_bytes())).await {
            Ok(r) => r,
            Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
        }
    }

    /// The next line (at most `max` bytes, CRLF included) within the idle timeout; while
    /// waiting for a command (`interruptible`) a shutdown ends the wait.
    async fn read_line(&mut self, max: usize, interruptible: bool) -> std::io::Result<Input> {
        self.buf.clear();
        let read = tokio::time::timeout(
            self.idle,
            read_limited(&mut self.reader, &mut self.buf, max),
        );
        let res = if interruptible {
            tokio::select! {
                r = read => r,
                _ = stopped(&mut self.shutdown) => return Ok(Input::Shutdown),
            }
        } else {
            read.await
        };
        Ok(match res {
            Err(_) => Input::Timeout,
            Ok(Err(e)) => return Err(e),
            Ok(Ok(Limited::Eof)) => Input::Eof,
            Ok(Ok(Limited::TooLong)) => Input::TooLong,
            Ok(Ok(Limited::Line)) => Input::Line(std::mem::take(&mut self.buf)),
        })
    }

    /// Message data up to the lone `.` line, dot-unstuffed. An oversized message (or
    /// line) is read to its end and dropped, so the connection stays usable.
    async fn read_data(&mut self, max_bytes: usize) -> std::io::Result<Data> {
        let mut data = Vec::new();
        let mut failure: Option<Data> = None;
        loop {
            let line = match self.read_line(MAX_DATA_LINE, false).await? {
                Input::Line(l) => l,
                Input::Eof | Input::Shutdown => return Ok(Data::Eof),
                Input::Timeout => return Ok(Data::Timeout),
                Input::TooLong => {
                    failure.get_or_insert(Data::LineTooLong);
                    data = Vec::new();
                    continue;
                }
            };
            if line == b".\r\n" || line == b".\n" {
                return Ok(failure.unwrap_or(Data::Complete(data)));
            }
            if failure.is_some() {
                continue;
            }
            let content = line.strip_prefix(b".").unwrap_or(&line);
            if data.len() + content.len() > max_bytes {
                failure = Some(Data::TooBig);
                data = Vec::new();
                continue;
            }
            data.extend_from_slice(content);
        }
    }
}

/// Reads one line into `buf`, keeping at most `max` bytes; a longer line is read to its
/// end and dropped (`TooLong`). A partial line at the end of the stream is `Eof`.
async fn read_limited<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Limited> {
    let mut too_long = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(Limited::Eof);
        }
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if !too_long && buf.len() + chunk <= max {
            buf.extend_from_slice(&available[..chunk]);
        } else {
            too_long = true;
            buf.clear();
        }
        reader.consume(chunk);
        if done {
            return Ok(if too_long {
                Limited::TooLong
            } else {
                Limited::Line
            });
        }
    }
}

/// Binds the configured address, when there is one.
pub async fn bind(config: &Config) -> Result<Option<TcpListener>, String> {
    let Some(addr) = config.inbound_smtp.bind else {
        return Ok(None);
    };
    TcpListener::bind(addr)
        .await
        .map(Some)
        .map_err(|e| format!("inbound SMTP: cannot listen on {addr}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_parameters() {
        assert_eq!(parse_mail("FROM:<>", 100), Ok(String::new()));
        assert_eq!(
            parse_mail("from: <a@b.example> BODY=8BITMIME SIZE=100", 100),
            Ok("a@b.example".into())
        );
        assert_eq!(
            parse_mail("FROM:<a@b> SIZE=101", 100).map_err(|e| e.0),
            Err(552)
        );
        assert_eq!(
            parse_mail("FROM:<a@b> RET=HDRS", 100).map_err(|e| e.0),
            Err(555)
        );
        assert_eq!(parse_mail("FROM:a@b", 100).map_err(|e| e.0), Err(501));
        assert_eq!(parse_mail("TO:<a@b>", 100).map_err(|e| e.0), Err(501));
        assert_eq!(
            parse_rcpt("TO:<@relay.example:bounce+x@bounce.example>"),
            Ok("bounce+x@bounce.example".into())
        );
        assert_eq!(parse_rcpt("TO:<>").map_err(|e| e.0), Err(501));
        assert_eq!(parse_rcpt("TO:<a b@c>").map_err(|e| e.0), Err(501));
        assert_eq!(
            parse_rcpt("TO:<a@b> NOTIFY=NEVER").map_err(|e| e.0),
            Err(555)
        );
    }

    #[test]
    fn only_the_bounce_domain_and_postmaster() {
        let d = "bounce.shop.example";
        assert!(accepts(d, "bounce+t1@bounce.shop.example"));
        assert!(accepts(d, "anything@BOUNCE.shop.example."));
        assert!(accepts(d, "Postmaster"));
        assert!(!accepts(d, "victim@gmail.com"));
        assert!(!accepts(d, "x@evil.bounce.shop.example"));
        assert!(!accepts(d, "x@bounce.shop.example.evil.com"));
        assert!(!accepts(d, "@bounce.shop.example"));
        assert!(!accepts(d, "bounce.shop.example"));
    }

    #[tokio::test]
    async fn lines_are_bounded() {
        let input: &[u8] = b"short\r\nthis line is far too long\r\nnext\r\npartial";
        let mut r = BufReader::with_capacity(4, input);
        let mut buf = Vec::new();
        assert!(matches!(
            read_limited(&mut r, &mut buf, 10).await,
            Ok(Limited::Line)
        ));
        assert_eq!(buf, b"short\r\n");
        buf.clear();
        assert!(matches!(
            read_limited(&mut r, &mut buf, 10).await,
            Ok(Limited::TooLong)
        ));
        buf.clear();
        assert!(matches!(
            read_limited(&mut r, &mut buf, 10).await,
            Ok(Limited::Line)
        ));
        assert_eq!(buf, b"next\r\n");
        buf.clear();
        assert!(matches!(
            read_limited(&mut r, &mut buf, 10).await,
            Ok(Limited::Eof)
        ));
    }

    #[test]
    fn trace_headers_come_first() {
        let tx = Transaction {
            mail_from: Some(String::new()),
            rcpt_to: vec!["bounce+tok@bounce.example".into()],
        };
        let raw = with_trace_headers(
            &tx,
            "mx.example\r\nX: y",
            "192.0.2.1",
            "bounce.example",
            1_800_000_000_000,
            b"From: a\r\n\r\nbody\r\n".to_vec(),
        );
        let text = String::from_utf8(raw).expect("utf8");
        assert!(
            text.starts_with("Return-Path: <>\r\nDelivered-To: bounce+tok@bounce.example\r\nReceived: from mx.exampleX: y ([192.0.2.1])\r\n\tby bounce.example (Rebound) with ESMTP; "),
            "{text}"
        );
        assert!(
            text.contains("2027 ") && text.ends_with("+0000\r\nFrom: a\r\n\r\nbody\r\n"),
            "{text}"
        );
    }
}
