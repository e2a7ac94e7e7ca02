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

mod conversation;
mod deadline;
mod pool;
#[cfg(test)]
mod tests;
mod tls;

use std::fmt;

pub use deadline::Timeouts;
pub use pool::Sender;

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
    /// No SMTP answer before the message was sent: connect refused, a timeout, a TLS
    /// failure, the connection dropped, or an envelope address that cannot be sent. The
    /// relay does not have the message. `relay_fault`: the relay itself failed (TCP
    /// connect, greeting, TLS, EHLO, AUTH, or a reply that is not SMTP), which is what
    /// its health counts; a stall or drop mid-transaction is not.
    Failed { detail: String, relay_fault: bool },
    /// The connection broke or timed out after the message data went out (the body is
    /// written with its final dot in one go, so from the first byte of it): the relay may
    /// have accepted the message. Re-sent later with the same Message-ID, never as a new
    /// attempt.
    Unknown { detail: String },
    /// Not sent: no connection of the pool came free within the queue bound. Our own
    /// queueing, not the relay's doing: the send waits in the job queue and goes again.
    NotSent { detail: String },
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
