//! Sending one email through a sender pool's SMTP relay, or capturing it in development.
//!
//! [`Sender`] owns a small pool of lettre [`AsyncSmtpConnection`]s instead of using lettre's
//! `AsyncSmtpTransport`: every connection runs over a `tokio::net::TcpStream` with
//! `TCP_NODELAY` set (lettre writes the body and the closing `\r\n.\r\n` separately; with
//! Nagle's algorithm on, each message stalls ~40 ms on the delayed ACK), connections are
//! reused across messages without a NOOP round trip while they are fresh, and the SMTP
//! transaction is driven here rather than by lettre's `send`: with a relay that offers
//! PIPELINING (RFC 2920; Postfix and every large provider do) MAIL, RCPT and DATA go in one
//! write and the body with its closing dot in another, two round trips where lettre takes
//! four and five writes; without it, command by command. Either way a refused recipient
//! only costs an `RSET`, not the connection. See `shared/notes/smtp-dispatch.md` and the
//! dispatch bench for the measurements.
//!
//! Every refusal carries the server's own reply code and text ([`SmtpResponse`]), which the
//! bounce classifier needs (`550 5.1.1 …` is a dead address, `550 5.7.1 … unsolicited mail`
//! is the sender's reputation).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::Address;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
#[allow(deprecated)]
use lettre::transport::smtp::client::AsyncNetworkStream;
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// A connection used within this long is reused without a NOOP check first.
const FRESH_FOR: Duration = Duration::from_secs(3);
/// A connection is closed (QUIT) and replaced after this many messages, so a long-lived
/// pool spreads over the relay's front ends and stays clear of per-session limits.
const MAX_MESSAGES_PER_CONNECTION: u32 = 1000;

/// Connection security for an SMTP relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain SMTP (local or trusted relays only).
    None,
    /// Plain connection upgraded with STARTTLS, which is then required (no fallback).
    StartTls,
    /// Implicit TLS from the first byte (`smtps://`, usually port 465).
    Tls,
}

/// Where a sender pool's mail goes. Parsed from the pool's relay URL:
/// `smtp://[user:pass@]host:port` (plain, or STARTTLS when `?tls=starttls`), `smtps://…`
/// (implicit TLS), `capture://` (development: store the message, send nothing).
///
/// User and password are percent-decoded (`%40` for `@`, `%3A` for `:`). The port defaults
/// to 25 for `smtp` and 465 for `smtps`. `Debug` output never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub enum RelayUrl {
    Smtp {
        host: String,
        port: u16,
        security: Security,
        credentials: Option<(String, String)>,
    },
    Capture,
}

/// A relay URL or sender configuration that cannot work. Messages never contain the
/// password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("invalid relay URL: {0}")]
    InvalidUrl(String),
    #[error("invalid sender configuration: {0}")]
    InvalidConfig(String),
    #[error("TLS setup failed: {0}")]
    Tls(String),
}

impl RelayUrl {
    pub fn parse(s: &str) -> Result<Self, TransportError> {
        let bad = |why: &str| TransportError::InvalidUrl(why.to_string());
        let s = s.trim();
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| bad("expected scheme://… (smtp, smtps or capture)"))?;
        let scheme = scheme.to_ascii_lowercase();
        let implicit_tls = match scheme.as_str() {
            "capture" => {
                return if rest.is_empty() || rest == "/" {
                    Ok(RelayUrl::Capture)
                } else {
                    Err(bad("capture:// takes no host or options"))
                };
            }
            "smtp" => false,
            "smtps" => true,
            _ => return Err(bad("unknown scheme (expected smtp, smtps or capture)")),
        };
        let (authority, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        let authority = authority.strip_suffix('/').unwrap_or(authority);
        if authority.contains('/') {
            return Err(bad("a relay URL has no path"));
        }
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let credentials = match userinfo {
            None => None,
            Some(u) => {
                let (user, pass) = u
                    .split_once(':')
                    .ok_or_else(|| bad("credentials must be user:password"))?;
                let user = percent_decode(user).ok_or_else(|| bad("bad escape in user"))?;
                let pass = percent_decode(pass).ok_or_else(|| bad("bad escape in password"))?;
                // Stored relay URLs carry the password sealed (`crate::secrets`).
                let pass = if crate::secrets::is_sealed(&pass) {
                    crate::secrets::open(&pass)
                        .map_err(|e| TransportError::InvalidConfig(e.to_string()))?
                } else {
                    pass
                };
                if user.is_empty() {
                    return Err(bad("empty user name"));
                }
                Some((user, pass))
            }
        };
        let default_port = if implicit_tls { 465 } else { 25 };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("unclosed [ in IPv6 host"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => parse_port(p)?,
                None if after.is_empty() => default_port,
                None => return Err(bad("junk after IPv6 host")),
            };
            (h.to_string(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), parse_port(p)?),
                None => (hostport.to_string(), default_port),
            }
        };
        if host.is_empty()
            || host
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b"/?#@[]".contains(&b))
        {
            return Err(bad("missing or invalid host"));
        }
        let mut security = if implicit_tls {
            Security::Tls
        } else {
            Security::None
        };
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match (key, value.to_ascii_lowercase().as_str(), implicit_tls) {
                ("tls", "starttls", false) => security = Security::StartTls,
                ("tls", "none", false) => security = Security::None,
                ("tls", "implicit", true) => {}
                ("tls", _, _) => {
                    return Err(bad(
                        "tls= must be starttls or none for smtp://, implicit for smtps://",
                    ));
                }
                _ => return Err(bad("unknown option (only tls= is understood)")),
            }
        }
        Ok(RelayUrl::Smtp {
            host,
            port,
            security,
            credentials,
        })
    }

    /// The URL for logs and the UI: the password is replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            RelayUrl::Capture => "capture://".to_string(),
            RelayUrl::Smtp {
                host,
                port,
                security,
                credentials,
            } => {
                let scheme = if *security == Security::Tls {
                    "smtps"
                } else {
                    "smtp"
                };
                let user = match credentials {
                    Some((u, _)) => format!("{}:***@", percent_encode(u)),
                    None => String::new(),
                };
                let host = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host.clone()
                };
                let query = if *security == Security::StartTls {
                    "?tls=starttls"
                } else {
                    ""
                };
                format!("{scheme}://{user}{host}:{port}{query}")
            }
        }
    }
}

impl fmt::Debug for RelayUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RelayUrl({})", self.redacted())
    }
}

impl fmt::Display for RelayUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn parse_port(p: &str) -> Result<u16, TransportError> {
    match p.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(TransportError::InvalidUrl("invalid port".to_string())),
    }
}

pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~+".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The SMTP envelope of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The VERP return path, e.g. `bounce+TOKEN@bounce.example`.
    pub mail_from: String,
    pub rcpt_to: String,
}

/// A reply from the SMTP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpResponse {
    /// The basic reply code, e.g. 550.
    pub code: u16,
    /// The server's reply text, all lines joined with a space (a repeated enhanced status
    /// code is kept once), e.g. `5.1.1 <x@y>: Recipient address rejected`.
    pub text: String,
}

impl fmt::Display for SmtpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.text)
    }
}

/// What became of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The relay took the message (2xx after DATA).
    Accepted { response: SmtpResponse },
    /// The server refused (at MAIL, RCPT or DATA) — permanent for 5xx, transient for 4xx.
    /// `stage` is `"mail"`, `"rcpt"`, `"data"`, or `"connect"` (refused at the greeting,
    /// EHLO, STARTTLS or AUTH).
    Rejected {
        response: SmtpResponse,
        permanent: bool,
        stage: &'static str,
    },
    /// No SMTP answer at all: connect refused, timeout, TLS failure, connection dropped, or
    /// an envelope address that cannot be sent. Whether the relay got the message is
    /// unknown only when the timeout hit after the message data was written.
    Failed { detail: String },
    /// Capture mode: nothing was sent; the caller stores the message.
    Captured,
}

/// Capture mode keeps the message, except for a recipient under `.invalid`: a
/// domain reserved never to exist (RFC 2606), which every real relay bounces.
/// Refusing it here as a relay would lets a development demo show hard
/// bounces, held orders and their fallbacks without a real relay.
fn capture(envelope: &Envelope) -> SendOutcome {
    let domain = envelope
        .rcpt_to
        .rsplit_once('@')
        .map_or("", |(_, d)| d)
        .trim_end_matches('>')
        .to_ascii_lowercase();
    if domain == "invalid" || domain.ends_with(".invalid") {
        return SendOutcome::Rejected {
            response: SmtpResponse {
                code: 550,
                text: format!(
                    "5.1.2 <{}>: Recipient address rejected: Domain not found (capture: .invalid never exists)",
                    envelope.rcpt_to
                ),
            },
            permanent: true,
            stage: "rcpt",
        };
    }
    SendOutcome::Captured
}

/// Sends a sender pool's mail: one per pool, cheap to clone (the connection pool is shared),
/// at most `max_connections` connections open to the relay at once.
#[derive(Clone)]
pub struct Sender {
    inner: Arc<Inner>,
}

struct Inner {
    url: RelayUrl,
    redacted: String,
    timeout: Duration,
    max_connections: u32,
    relay: Option<SmtpRelay>,
    /// One permit per connection in use; idle connections hold none.
    permits: Semaphore,
    idle: Mutex<Vec<Pooled>>,
}

struct SmtpRelay {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
    tls: Option<TlsParameters>,
    client_id: ClientId,
}

struct Pooled {
    conn: AsyncSmtpConnection,
    /// The relay offers PIPELINING (RFC 2920): a transaction is sent in two round trips.
    pipelining: bool,
    last_used: Instant,
    messages: u32,
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("relay", &self.inner.redacted)
            .field("timeout", &self.inner.timeout)
            .field("max_connections", &self.inner.max_connections)
            .finish_non_exhaustive()
    }
}

impl Sender {
    /// A sender for `url`. `timeout` bounds each whole [`send`](Self::send), including
    /// waiting for a free connection; `max_connections` (at least 1) bounds the connections
    /// open to the relay. Nothing is connected until the first send.
    pub fn new(
        url: &RelayUrl,
        timeout: Duration,
        max_connections: u32,
    ) -> Result<Self, TransportError> {
        Self::build(url, timeout, max_connections, None)
    }

    /// The same sender with another EHLO name (default: the address literal `[127.0.0.1]`).
    /// Relays that check the EHLO name want the sending host's DNS name. The returned
    /// sender starts with an empty connection pool.
    pub fn with_helo_name(self, name: &str) -> Result<Self, TransportError> {
        let valid = !name.is_empty()
            && name.len() <= 255
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !valid {
            return Err(TransportError::InvalidConfig(format!(
                "invalid EHLO name {name:?}"
            )));
        }
        Self::build(
            &self.inner.url,
            self.inner.timeout,
            self.inner.max_connections,
            Some(ClientId::Domain(name.to_string())),
        )
    }

    fn build(
        url: &RelayUrl,
        timeout: Duration,
        max_connections: u32,
        client_id: Option<ClientId>,
    ) -> Result<Self, TransportError> {
        if max_connections == 0 {
            return Err(TransportError::InvalidConfig(
                "max_connections must be at least 1".to_string(),
            ));
        }
        if timeout.is_zero() {
            return Err(TransportError::InvalidConfig(
                "timeout must be positive".to_string(),
            ));
        }
        let relay = match url {
            RelayUrl::Capture => None,
            RelayUrl::Smtp {
                host,
                port,
                security,
                credentials,
            } => {
                let tls = match security {
                    Security::None => None,
                    Security::StartTls | Security::Tls => Some(
                        TlsParameters::new(host.clone())
                            .map_err(|e| TransportError::Tls(e.to_string()))?,
                    ),
                };
                Some(SmtpRelay {
                    host: host.clone(),
                    port: *port,
                    security: *security,
                    credentials: credentials
                        .as_ref()
                        .map(|(u, p)| Credentials::new(u.clone(), p.clone())),
                    tls,
                    client_id: client_id.unwrap_or_default(),
                })
            }
        };
        Ok(Sender {
            inner: Arc::new(Inner {
                url: url.clone(),
                redacted: url.redacted(),
                timeout,
                max_connections,
                relay,
                permits: Semaphore::new(max_connections as usize),
                idle: Mutex::new(Vec::new()),
            }),
        })
    }

    pub fn is_capture(&self) -> bool {
        self.inner.relay.is_none()
    }

    /// Does the relay answer? A fresh connection (TLS and AUTH as configured)
    /// through greeting and EHLO, then QUIT, within the sender's timeout.
    /// Sends nothing; the health guard uses it to restore an unreachable pool.
    pub async fn probe(&self) -> Result<(), String> {
        let Some(relay) = &self.inner.relay else {
            return Ok(());
        };
        let failure = |o: SendOutcome| match o {
            SendOutcome::Failed { detail } => detail,
            SendOutcome::Rejected { response, .. } => {
                format!("{} {}", response.code, response.text)
            }
            other => format!("{other:?}"),
        };
        match tokio::time::timeout(self.inner.timeout, connect(relay)).await {
            Ok(Ok((mut conn, _))) => {
                let _ = conn.quit().await;
                Ok(())
            }
            Ok(Err(outcome)) => Err(failure(outcome)),
            Err(_) => Err(format!(
                "no greeting from {}:{} within {:?}",
                relay.host, relay.port, self.inner.timeout
            )),
        }
    }

    /// Sends one message. Never panics, and returns within the sender's timeout (plus
    /// scheduling slack) whatever the relay does.
    pub async fn send(&self, envelope: &Envelope, raw_message: &[u8]) -> SendOutcome {
        let Some(relay) = &self.inner.relay else {
            return capture(envelope);
        };
        let from: Address = match envelope.mail_from.trim().parse() {
            Ok(a) => a,
            Err(_) => {
                return failed(format!(
                    "invalid envelope MAIL FROM {:?}",
                    envelope.mail_from
                ));
            }
        };
        let to: Address = match envelope.rcpt_to.trim().parse() {
            Ok(a) => a,
            Err(_) => return failed(format!("invalid envelope RCPT TO {:?}", envelope.rcpt_to)),
        };
        let work = self.send_smtp(relay, &from, &to, raw_message);
        match tokio::time::timeout(self.inner.timeout, work).await {
            Ok(outcome) => outcome,
            Err(_) => failed(format!(
                "timed out after {:?} talking to {}",
                self.inner.timeout, self.inner.redacted
            )),
        }
    }

    async fn send_smtp(
        &self,
        relay: &SmtpRelay,
        from: &Address,
        to: &Address,
        raw: &[u8],
    ) -> SendOutcome {
        let Ok(_permit) = self.inner.permits.acquire().await else {
            return failed("sender is closed".to_string());
        };
        let mut retried = false;
        loop {
            let (mut pooled, reused) = match self.checkout(relay).await {
                Ok(c) => c,
                Err(outcome) => return outcome,
            };
            let tx = transaction(&mut pooled.conn, pooled.pipelining, from, to, raw).await;
            match tx {
                Tx::Done { outcome, keep } => {
                    if keep && !pooled.conn.has_broken() {
                        pooled.messages += 1;
                        pooled.last_used = Instant::now();
                        self.checkin(pooled);
                    }
                    return outcome;
                }
                // A pooled connection the relay had closed (EOF, or its `421 … timeout`
                // notice read as the MAIL reply): nothing was sent, try once more on a fresh
                // connection.
                Tx::StaleAtMail(_) if reused && !retried => {
                    retried = true;
                }
                Tx::StaleAtMail(outcome) => return outcome,
            }
        }
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Pooled>> {
        self.inner.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A connection for one transaction: the most recently used idle one (checked with NOOP
    /// when it has been idle a while), or a new one. Also says whether it was reused.
    async fn checkout(&self, relay: &SmtpRelay) -> Result<(Pooled, bool), SendOutcome> {
        loop {
            let candidate = self.idle().pop();
            let Some(mut pooled) = candidate else { break };
            if pooled.conn.has_broken() {
                continue;
            }
            if pooled.last_used.elapsed() > FRESH_FOR && !pooled.conn.test_connected().await {
                continue;
            }
            return Ok((pooled, true));
        }
        let (conn, pipelining) = connect(relay).await?;
        Ok((
            Pooled {
                conn,
                pipelining,
                last_used: Instant::now(),
                messages: 0,
            },
            false,
        ))
    }

    fn checkin(&self, mut pooled: Pooled) {
        if pooled.messages >= MAX_MESSAGES_PER_CONNECTION {
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(5), pooled.conn.quit()).await;
            });
            return;
        }
        let mut idle = self.idle();
        // More idle connections than the limit can only happen transiently; keep the newest.
        if idle.len() < self.inner.max_connections as usize {
            idle.push(pooled);
        }
    }
}

fn failed(detail: String) -> SendOutcome {
    SendOutcome::Failed { detail }
}

/// The server's reply inside a lettre error: its code and its own text (lettre keeps the
/// reply lines, joined, as the error's source).
fn server_reply(err: &SmtpError) -> Option<SmtpResponse> {
    let code = u16::from(err.status()?);
    let text = std::error::Error::source(err)
        .map(|s| s.to_string())
        .unwrap_or_default();
    Some(SmtpResponse { code, text })
}

fn response_of(resp: &Response) -> SmtpResponse {
    SmtpResponse {
        code: u16::from(resp.code()),
        text: resp.message().collect::<Vec<_>>().join(" "),
    }
}

fn rejected(response: SmtpResponse, stage: &'static str) -> SendOutcome {
    SendOutcome::Rejected {
        permanent: response.code >= 500,
        response,
        stage,
    }
}

/// A connection-level failure: the server's refusal if it answered, else `Failed`.
fn connect_failure(err: &SmtpError, what: &str) -> SendOutcome {
    match server_reply(err) {
        Some(reply) => rejected(reply, "connect"),
        None => failed(format!("{what}: {err}")),
    }
}

enum Tx {
    Done {
        outcome: SendOutcome,
        keep: bool,
    },
    /// Failed at MAIL without a usable answer (no reply, or 421): the connection was dead.
    StaleAtMail(SendOutcome),
}

async fn transaction(
    conn: &mut AsyncSmtpConnection,
    pipelining: bool,
    from: &Address,
    to: &Address,
    raw: &[u8],
) -> Tx {
    let info = conn.server_info();
    let mut params = Vec::new();
    let utf8_envelope =
        !AsRef::<str>::as_ref(from).is_ascii() || !AsRef::<str>::as_ref(to).is_ascii();
    if utf8_envelope {
        if !info.supports_feature(Extension::SmtpUtfEight) {
            return Tx::Done {
                outcome: failed(
                    "envelope has non-ASCII addresses but the relay lacks SMTPUTF8".to_string(),
                ),
                keep: true,
            };
        }
        params.push(MailParameter::SmtpUtfEight);
    }
    if !raw.is_ascii() && info.supports_feature(Extension::EightBitMime) {
        params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    let mail = Mail::new(Some(from.clone()), params);
    let rcpt = Rcpt::new(to.clone(), Vec::new());
    // The body as it goes on the wire; a body that is not UTF-8 (never one
    // `message::build` makes) goes through lettre's own DATA writer instead.
    if pipelining && let Ok(text) = std::str::from_utf8(raw) {
        return pipelined_transaction(conn, mail, rcpt, text).await;
    }

    if let Err(e) = conn.command(mail).await {
        return match server_reply(&e) {
            Some(reply) if reply.code == 421 => Tx::StaleAtMail(rejected(reply, "mail")),
            Some(reply) => refused_and_reset(conn, reply, "mail").await,
            None => Tx::StaleAtMail(failed(format!("connection lost at MAIL: {e}"))),
        };
    }
    if let Err(e) = conn.command(rcpt).await {
        return match server_reply(&e) {
            Some(reply) => refused_and_reset(conn, reply, "rcpt").await,
            None => lost(&e, "RCPT"),
        };
    }
    if let Err(e) = conn.command(Data).await {
        return match server_reply(&e) {
            Some(reply) => refused_and_reset(conn, reply, "data").await,
            None => lost(&e, "DATA"),
        };
    }
    // lettre always appends `\r\n.\r\n`; that CRLF ends the message's last line, so a
    // message that already ends with one would otherwise grow an empty line.
    let body = raw.strip_suffix(b"\r\n").unwrap_or(raw);
    end_of_data(conn.message(body).await)
}

/// What the reply to the end of DATA means. The transaction is over either way; the
/// connection stays usable unless the server said it is closing.
fn end_of_data(reply: Result<Response, SmtpError>) -> Tx {
    match reply {
        Ok(resp) => Tx::Done {
            outcome: SendOutcome::Accepted {
                response: response_of(&resp),
            },
            keep: true,
        },
        Err(e) => match server_reply(&e) {
            Some(reply) => Tx::Done {
                keep: reply.code != 421,
                outcome: rejected(reply, "data"),
            },
            None => lost(&e, "end of DATA"),
        },
    }
}

/// One transaction in two round trips (RFC 2920): MAIL, RCPT and DATA in one write and
/// their three replies read in order, then the whole body with its closing dot in one
/// write. Lettre's `send` takes four round trips and writes the body and the dot
/// separately: per message that is twice the system calls, wake-ups and packets on both
/// ends of the connection, and over a real network twice the waiting. The outcomes are
/// the same as [`transaction`]'s, stage by stage.
async fn pipelined_transaction(
    conn: &mut AsyncSmtpConnection,
    mail: Mail,
    rcpt: Rcpt,
    message: &str,
) -> Tx {
    let mut refusal = match conn.command(Pipelined(&mail, &rcpt)).await {
        Ok(_) => None,
        Err(e) => match server_reply(&e) {
            // The relay is closing (or had closed) the connection: nothing was accepted.
            Some(reply) if reply.code == 421 => return Tx::StaleAtMail(rejected(reply, "mail")),
            Some(reply) => Some((reply, "mail")),
            None => return Tx::StaleAtMail(failed(format!("connection lost at MAIL: {e}"))),
        },
    };
    // RCPT and DATA are answered whatever became of MAIL (503 after a refused MAIL); the
    // first refusal is the one that counts.
    let mut data_open = false;
    for stage in ["rcpt", "data"] {
        match conn.read_response().await {
            Ok(_) => data_open = stage == "data",
            Err(e) => match (server_reply(&e), refusal.take()) {
                (Some(reply), None) => refusal = Some((reply, stage)),
                (Some(_), first @ Some(_)) => refusal = first,
                // The connection went after a refusal: report the refusal, drop it.
                (None, Some((reply, stage))) => {
                    return Tx::Done {
                        outcome: rejected(reply, stage),
                        keep: false,
                    };
                }
                (None, None) => return lost(&e, &stage.to_ascii_uppercase()),
            },
        }
    }
    if let Some((reply, stage)) = refusal {
        // A relay that took DATA after a refusal (RFC 2920 says it must not): end the
        // empty message first, so the connection is back in step for the reset.
        if data_open
            && let Err(e) = conn.command(Raw(".\r\n")).await
            && server_reply(&e).is_none()
        {
            return Tx::Done {
                outcome: rejected(reply, stage),
                keep: false,
            };
        }
        return refused_and_reset(conn, reply, stage).await;
    }
    end_of_data(conn.command(DataBody(message)).await)
}

fn lost(err: &SmtpError, stage: &str) -> Tx {
    Tx::Done {
        outcome: failed(format!("connection lost at {stage}: {err}")),
        keep: false,
    }
}

/// MAIL, RCPT and DATA as one write (each command's `Display` ends in CRLF).
struct Pipelined<'a>(&'a Mail, &'a Rcpt);

impl fmt::Display for Pipelined<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.0, self.1, Data)
    }
}

/// Bytes written as they are: lettre's `command` writes its argument's `Display` in one
/// write and reads one reply, which is what sending the DATA body needs too.
struct Raw<'a>(&'a str);

impl fmt::Display for Raw<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A message as DATA sends it (RFC 5321 4.5.2): a `.` that starts a line is doubled, and
/// the message ends with CRLF and the closing `.` line. The same bytes lettre's DATA writer
/// puts on the wire (it doubles a `.` at the start and after each CRLF), written straight
/// into the one string `command` sends, found by substring search rather than copied byte
/// by byte.
struct DataBody<'a>(&'a str);

impl fmt::Display for DataBody<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.0;
        if message.starts_with('.') {
            f.write_str(".")?;
        }
        let mut rest = message;
        while let Some(i) = rest.find("\r\n.") {
            f.write_str(&rest[..i + 2])?;
            f.write_str(".")?;
            rest = &rest[i + 2..];
        }
        f.write_str(rest)?;
        if !message.ends_with("\r\n") {
            f.write_str("\r\n")?;
        }
        f.write_str(".\r\n")
    }
}

/// Whether an EHLO reply lists PIPELINING (a keyword line after the greeting line).
fn offers_pipelining(ehlo: &Response) -> bool {
    ehlo.message().skip(1).any(|line| {
        line.split_whitespace()
            .next()
            .is_some_and(|keyword| keyword.eq_ignore_ascii_case("PIPELINING"))
    })
}

/// A refusal mid-transaction: report it, and reset the transaction so the connection can
/// carry the next message (unless the server is closing it with 421).
async fn refused_and_reset(
    conn: &mut AsyncSmtpConnection,
    reply: SmtpResponse,
    stage: &'static str,
) -> Tx {
    let keep = reply.code != 421 && conn.command(Rset).await.is_ok();
    Tx::Done {
        outcome: rejected(reply, stage),
        keep,
    }
}

/// Opens a connection: TCP with `TCP_NODELAY`, implicit TLS or STARTTLS as configured,
/// greeting, EHLO, AUTH when credentials are set. Also says whether the relay offers
/// PIPELINING.
async fn connect(relay: &SmtpRelay) -> Result<(AsyncSmtpConnection, bool), SendOutcome> {
    let target = format!("{}:{}", relay.host, relay.port);
    let tcp = TcpStream::connect((relay.host.as_str(), relay.port))
        .await
        .map_err(|e| failed(format!("connect to {target}: {e}")))?;
    // Without it each message waits for the server's delayed ACK (see module docs).
    tcp.set_nodelay(true)
        .map_err(|e| failed(format!("set TCP_NODELAY on {target}: {e}")))?;

    let stream: Box<dyn AsyncTokioStream> = match (&relay.tls, relay.security) {
        (Some(tls), Security::Tls) => {
            #[allow(deprecated)]
            let mut stream = AsyncNetworkStream::use_existing_tokio1(Box::new(tcp));
            stream
                .upgrade_tls(tls.clone())
                .await
                .map_err(|e| failed(format!("TLS handshake with {target}: {e}")))?;
            Box::new(ImplicitTls(stream))
        }
        _ => Box::new(tcp),
    };
    let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &relay.client_id)
        .await
        .map_err(|e| connect_failure(&e, &format!("SMTP greeting/EHLO from {target}")))?;

    if relay.security == Security::StartTls
        && let Some(tls) = &relay.tls
    {
        if !conn.can_starttls() {
            conn.abort().await;
            return Err(failed(format!(
                "{target} does not offer STARTTLS, which the relay URL requires"
            )));
        }
        conn.starttls(tls.clone(), &relay.client_id)
            .await
            .map_err(|e| connect_failure(&e, &format!("STARTTLS with {target}")))?;
    }
    // lettre reads the EHLO keywords it knows and drops the rest, PIPELINING among them:
    // ask again (before AUTH, after which a client does not repeat EHLO).
    let ehlo = conn
        .command(Ehlo::new(relay.client_id.clone()))
        .await
        .map_err(|e| connect_failure(&e, &format!("EHLO to {target}")))?;
    let pipelining = offers_pipelining(&ehlo);
    if let Some(credentials) = &relay.credentials {
        conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
            .await
            .map_err(|e| connect_failure(&e, &format!("AUTH with {target}")))?;
    }
    Ok((conn, pipelining))
}

/// An implicitly encrypted stream (TLS from the first byte) for
/// [`AsyncSmtpConnection::connect_with_transport`], which wants a tokio stream: lettre's own
/// TLS stream (so STARTTLS and implicit TLS share lettre's rustls set-up) seen through
/// tokio's I/O traits.
#[allow(deprecated)]
#[derive(Debug)]
struct ImplicitTls(AsyncNetworkStream);

impl AsyncRead for ImplicitTls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let dst = buf.initialize_unfilled();
        match futures_io::AsyncRead::poll_read(Pin::new(&mut self.0), cx, dst) {
            Poll::Ready(Ok(n)) => {
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for ImplicitTls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_close(Pin::new(&mut self.0), cx)
    }
}

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::message::{ReceiptEmail, build};
    use crate::testing::smtp_server::{Script, ScriptedSmtpServer};
    use std::collections::HashSet;

    const VERP: &str = "bounce+r1.a2.x9f@bounce.shop.example";
    const REPUTATION: &str = "5.7.1 Our system has detected an unusual rate of unsolicited mail originating from your IP address";

    fn url_for(server: &ScriptedSmtpServer) -> RelayUrl {
        RelayUrl::parse(&format!("smtp://{}", server.addr())).expect("url")
    }

    fn sender(server: &ScriptedSmtpServer, max: u32) -> Sender {
        Sender::new(&url_for(server), Duration::from_secs(5), max).expect("sender")
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
        let s = Sender::new(&url, Duration::from_secs(5), 2).expect("sender");
        let start = Instant::now();
        let o = s
            .send(&envelope("a@x.test"), b"Subject: x\r\n\r\nx\r\n")
            .await;
        assert!(
            matches!(&o, SendOutcome::Failed { detail } if detail.contains("connect")),
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
        let s = Sender::new(&url_for(&server), Duration::from_millis(300), 1).expect("sender");
        let start = Instant::now();
        let o = s
            .send(&envelope("a@x.test"), b"Subject: x\r\n\r\nx\r\n")
            .await;
        let took = start.elapsed();
        assert!(
            matches!(&o, SendOutcome::Failed { detail } if detail.contains("timed out")),
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
        let s = Sender::new(&url_for(&server), Duration::from_millis(300), 1).expect("sender");
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
        let s = Sender::new(&RelayUrl::Capture, Duration::from_secs(1), 1).expect("sender");
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
        let s = Sender::new(&url, Duration::from_secs(2), 1).expect("sender");
        let o = s
            .send(&envelope("a@x.test"), b"Subject: x\r\n\r\nx\r\n")
            .await;
        assert!(
            matches!(&o, SendOutcome::Failed { detail } if detail.contains("STARTTLS")),
            "{o:?}"
        );
        // Implicit TLS against a plain server: the handshake fails, nothing is sent.
        let url = RelayUrl::parse(&format!("smtps://{}", server.addr())).expect("url");
        let s = Sender::new(&url, Duration::from_secs(2), 1).expect("sender");
        let o = s
            .send(&envelope("a@x.test"), b"Subject: x\r\n\r\nx\r\n")
            .await;
        assert!(matches!(o, SendOutcome::Failed { .. }), "{o:?}");
        assert!(server.received().is_empty());
    }

    #[test]
    fn relay_urls_parse_and_redact() {
        let u = RelayUrl::parse("smtp://mailer:s%40cret%3Ax@relay.example:587?tls=starttls")
            .expect("parse");
        assert_eq!(
            u,
            RelayUrl::Smtp {
                host: "relay.example".to_string(),
                port: 587,
                security: Security::StartTls,
                credentials: Some(("mailer".to_string(), "s@cret:x".to_string())),
            }
        );
        assert_eq!(
            u.redacted(),
            "smtp://mailer:***@relay.example:587?tls=starttls"
        );
        assert!(!format!("{u:?}").contains("cret"));
        assert_eq!(
            RelayUrl::parse("smtps://relay.example").expect("parse"),
            RelayUrl::Smtp {
                host: "relay.example".to_string(),
                port: 465,
                security: Security::Tls,
                credentials: None,
            }
        );
        assert_eq!(
            RelayUrl::parse("smtp://[::1]:2525")
                .expect("parse")
                .redacted(),
            "smtp://[::1]:2525"
        );
        assert_eq!(
            RelayUrl::parse("capture://").expect("parse"),
            RelayUrl::Capture
        );
        for bad in [
            "relay.example:25",
            "http://relay.example",
            "smtp://",
            "smtp://relay.example:0",
            "smtp://relay.example:99999",
            "smtp://relay.example/path",
            "smtp://relay.example?tls=maybe",
            "smtps://relay.example?tls=starttls",
            "smtp://relay.example?foo=1",
            "smtp://user@relay.example",
            "capture://somewhere",
        ] {
            let err = RelayUrl::parse(bad).expect_err(bad);
            assert!(matches!(err, TransportError::InvalidUrl(_)), "{bad}");
        }
        let err = RelayUrl::parse("smtp://u:hunter2@relay.example:x").expect_err("bad port");
        assert!(!err.to_string().contains("hunter2"));
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
}
