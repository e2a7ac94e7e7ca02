//! One SMTP conversation with a relay: opening the connection (TCP with
//! `TCP_NODELAY`, TLS, greeting, EHLO, AUTH) and one mail transaction on it,
//! pipelined (RFC 2920) when the relay offers it, command by command
//! otherwise. Every outcome keeps the server's own reply.

use std::fmt;
use std::sync::Arc;

use lettre::Address;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
#[allow(deprecated)]
use lettre::transport::smtp::client::AsyncNetworkStream;
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use tokio::net::TcpStream;

use super::deadline::{Clocked, Limits, Timeouts};
use super::tls::ImplicitTls;
use super::{SendOutcome, SmtpResponse};
use crate::delivery::relay_url::Security;

/// Where and how to connect: a relay URL made ready to use.
pub(super) struct SmtpRelay {
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) security: Security,
    pub(super) credentials: Option<Credentials>,
    pub(super) tls: Option<TlsParameters>,
    pub(super) client_id: ClientId,
}

/// A failure before anything was sent that is not the relay's fault (an
/// envelope we cannot send, a stall or drop mid-transaction).
pub(super) fn failed(detail: String) -> SendOutcome {
    SendOutcome::Failed {
        detail,
        relay_fault: false,
    }
}

/// The relay failed: at connect, greeting, TLS, EHLO or AUTH, or a reply that
/// is not SMTP. What the relay health guard counts.
pub(super) fn relay_failed(detail: String) -> SendOutcome {
    SendOutcome::Failed {
        detail,
        relay_fault: true,
    }
}

/// A connection's stage limits and the timeouts they come from.
pub(super) struct Clock<'a> {
    pub(super) limits: &'a Limits,
    pub(super) timeouts: &'a Timeouts,
}

impl Clock<'_> {
    /// Waiting for the reply to a command (writes are commands too).
    fn reply(&self, read: std::time::Duration) {
        self.limits.stage(read, self.timeouts.command);
    }
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
        None => relay_failed(format!("{what}: {err}")),
    }
}

pub(super) enum Tx {
    Done {
        outcome: SendOutcome,
        keep: bool,
    },
    /// Failed at MAIL without a usable answer (no reply, or 421): the connection was dead.
    StaleAtMail(SendOutcome),
}

pub(super) async fn transaction(
    conn: &mut AsyncSmtpConnection,
    clock: &Clock<'_>,
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
        return pipelined_transaction(conn, clock, mail, rcpt, text).await;
    }

    clock.reply(clock.timeouts.mail);
    if let Err(e) = conn.command(mail).await {
        return match server_reply(&e) {
            Some(reply) if reply.code == 421 => Tx::StaleAtMail(rejected(reply, "mail")),
            Some(reply) => refused_and_reset(conn, reply, "mail").await,
            None => Tx::StaleAtMail(lost_before_data(&e, "MAIL")),
        };
    }
    clock.reply(clock.timeouts.rcpt);
    if let Err(e) = conn.command(rcpt).await {
        return match server_reply(&e) {
            Some(reply) => refused_and_reset(conn, reply, "rcpt").await,
            None => lost(&e, "RCPT"),
        };
    }
    clock.reply(clock.timeouts.data_init);
    if let Err(e) = conn.command(Data).await {
        return match server_reply(&e) {
            Some(reply) => refused_and_reset(conn, reply, "data").await,
            None => lost(&e, "DATA"),
        };
    }
    // lettre always appends `\r\n.\r\n`; that CRLF ends the message's last line, so a
    // message that already ends with one would otherwise grow an empty line.
    let body = raw.strip_suffix(b"\r\n").unwrap_or(raw);
    clock
        .limits
        .stage(clock.timeouts.final_reply, clock.timeouts.data_block);
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
            // Loss or a timeout once the message went out: the relay may have it.
            None => Tx::Done {
                outcome: SendOutcome::Unknown {
                    detail: format!("no reply to the end of DATA: {e}"),
                },
                keep: false,
            },
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
    clock: &Clock<'_>,
    mail: Mail,
    rcpt: Rcpt,
    message: &str,
) -> Tx {
    clock.reply(clock.timeouts.mail);
    let mut refusal = match conn.command(Pipelined(&mail, &rcpt)).await {
        Ok(_) => None,
        Err(e) => match server_reply(&e) {
            // The relay is closing (or had closed) the connection: nothing was accepted.
            Some(reply) if reply.code == 421 => return Tx::StaleAtMail(rejected(reply, "mail")),
            Some(reply) => Some((reply, "mail")),
            None => return Tx::StaleAtMail(lost_before_data(&e, "MAIL")),
        },
    };
    // RCPT and DATA are answered whatever became of MAIL (503 after a refused MAIL); the
    // first refusal is the one that counts.
    let mut data_open = false;
    for stage in ["rcpt", "data"] {
        clock.reply(if stage == "rcpt" {
            clock.timeouts.rcpt
        } else {
            clock.timeouts.data_init
        });
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
    clock
        .limits
        .stage(clock.timeouts.final_reply, clock.timeouts.data_block);
    end_of_data(conn.command(DataBody(message)).await)
}

/// The connection broke or timed out before the message data went out: the
/// relay does not have it. A reply that is not SMTP at all is the relay's fault.
fn lost_before_data(err: &SmtpError, stage: &str) -> SendOutcome {
    let detail = format!("connection lost at {stage}: {err}");
    let eof = err.to_string().contains("incomplete response");
    if err.is_response() && !eof {
        relay_failed(detail)
    } else {
        failed(detail)
    }
}

fn lost(err: &SmtpError, stage: &str) -> Tx {
    Tx::Done {
        outcome: lost_before_data(err, stage),
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
pub(super) struct DataBody<'a>(pub(super) &'a str);

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
pub(super) async fn connect(
    relay: &SmtpRelay,
    timeouts: &Timeouts,
) -> Result<(AsyncSmtpConnection, bool, Arc<Limits>), SendOutcome> {
    let target = format!("{}:{}", relay.host, relay.port);
    let tcp = tokio::time::timeout(
        timeouts.connect,
        TcpStream::connect((relay.host.as_str(), relay.port)),
    )
    .await
    .map_err(|_| {
        relay_failed(format!(
            "connect to {target}: no answer within {:?}",
            timeouts.connect
        ))
    })?
    .map_err(|e| relay_failed(format!("connect to {target}: {e}")))?;
    // Without it each message waits for the server's delayed ACK (see module docs).
    tcp.set_nodelay(true)
        .map_err(|e| relay_failed(format!("set TCP_NODELAY on {target}: {e}")))?;
    // Every read and write from here on waits at most as long as its stage allows.
    let limits = Arc::new(Limits::default());
    limits.stage(timeouts.greeting, timeouts.command);
    let tcp = Clocked::new(tcp, limits.clone());

    let stream: Box<dyn AsyncTokioStream> = match (&relay.tls, relay.security) {
        (Some(tls), Security::Tls) => {
            #[allow(deprecated)]
            let mut stream = AsyncNetworkStream::use_existing_tokio1(Box::new(tcp));
            stream
                .upgrade_tls(tls.clone())
                .await
                .map_err(|e| relay_failed(format!("TLS handshake with {target}: {e}")))?;
            Box::new(ImplicitTls(stream))
        }
        _ => Box::new(tcp),
    };
    let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &relay.client_id)
        .await
        .map_err(|e| connect_failure(&e, &format!("SMTP greeting/EHLO from {target}")))?;
    limits.stage(timeouts.command, timeouts.command);

    if relay.security == Security::StartTls
        && let Some(tls) = &relay.tls
    {
        if !conn.can_starttls() {
            conn.abort().await;
            return Err(relay_failed(format!(
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
    Ok((conn, pipelining, limits))
}
