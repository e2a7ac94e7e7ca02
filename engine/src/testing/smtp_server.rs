//! A scriptable SMTP server on loopback for tests: a real tokio TCP server that speaks enough
//! SMTP (RFC 5321) for a client to deliver to it, and answers each recipient the way a test
//! scripted: accept, reject at RCPT or after DATA, drop the connection, or stall.
//!
//! ```ignore
//! # async fn demo() -> std::io::Result<()> {
//! use engine::testing::smtp_server::{Script, ScriptedSmtpServer};
//! use std::time::Duration;
//! let server = ScriptedSmtpServer::start().await?;
//! server.script("gone@example.com", Script::RejectRcpt(550, "5.1.1 User unknown"));
//! // … send to smtp://{server.addr()} …
//! let got = server.wait_for(1, Duration::from_secs(5)).await;
//! # Ok(()) }
//! ```
//!
//! Limits keep a misbehaving test from eating memory: lines are at most
//! [`MAX_LINE`] bytes, a message at most [`MAX_MESSAGE`] bytes, a transaction at most
//! [`MAX_RECIPIENTS`] recipients.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

/// Longest command or data line accepted, CRLF included (RFC 5321 allows 1000 for text lines).
pub const MAX_LINE: usize = 4096;
/// Largest message accepted (after dot-unstuffing); also advertised with `SIZE`.
pub const MAX_MESSAGE: usize = 10 * 1024 * 1024;
/// Most recipients in one transaction.
pub const MAX_RECIPIENTS: usize = 1000;

const HOSTNAME: &str = "scripted.smtp.test";

/// What the server does for one delivery attempt to a recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Script {
    /// `250 2.1.5 Ok` at RCPT, `250 2.0.0 Ok: queued` after DATA.
    Accept,
    /// Refuse at RCPT with this code and text, e.g. `(550, "5.1.1 User unknown")` answers
    /// `550 5.1.1 User unknown`. A text with `\n` in it becomes a multi-line reply.
    RejectRcpt(u16, &'static str),
    /// Accept the RCPT, take the message, then refuse it with this code and text instead of
    /// `250`. The message is not recorded in [`ScriptedSmtpServer::received`].
    RejectData(u16, String),
    /// Close the connection at RCPT without answering.
    CloseAtRcpt,
    /// Stall: wait this long before answering the RCPT (then accept). Models a server that
    /// hangs mid-transaction. (To delay the 220 greeting use
    /// [`ScriptedSmtpServer::set_greeting_delay`]: the recipient is not known then.)
    DelayGreeting(Duration),
    /// Accept the RCPT, take the message (recorded in [`ScriptedSmtpServer::received`]),
    /// then close the connection without replying to the final dot: the client cannot
    /// know whether the message was accepted.
    CloseAfterData,
}

/// One message the server accepted.
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    /// The MAIL FROM address, without angle brackets (empty for the null sender `<>`).
    pub mail_from: String,
    /// The MAIL parameters after the path, as sent (e.g. `SMTPUTF8 BODY=8BITMIME`).
    pub mail_params: String,
    /// The accepted RCPT TO addresses, as given, without angle brackets.
    pub rcpt_to: Vec<String>,
    /// The message after dot-unstuffing, CRLF line endings, the final CRLF before the
    /// terminating `.` included.
    pub data: Vec<u8>,
    pub received_at: Instant,
    /// Which server (listening address) got it.
    pub listener: SocketAddr,
}

#[derive(Default)]
struct State {
    scripts: HashMap<String, VecDeque<Script>>,
    greeting_delay: Duration,
    /// How long the `250` after the final dot waits (see `set_final_reply_delay`).
    final_reply_delay: Duration,
    /// PIPELINING left out of the EHLO reply (see `set_pipelining`).
    no_pipelining: bool,
    /// SMTPUTF8 offered in the EHLO reply (see `set_smtputf8`).
    smtputf8: bool,
    /// Senders refused at MAIL (see `reject_sender`), lowercase.
    refused_senders: HashMap<String, (u16, &'static str)>,
    received: Vec<ReceivedMessage>,
    /// MAIL commands that came with their RCPT already behind them (pipelined).
    pipelined_mails: usize,
}

struct Shared {
    state: Mutex<State>,
    arrived: Notify,
    addr: SocketAddr,
    connections: AtomicUsize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The script for the next attempt to `recipient`: the front of its sequence, consumed
    /// unless it is the last one.
    fn next_script(&self, recipient: &str) -> Script {
        let mut state = self.lock();
        match state.scripts.get_mut(&recipient.to_ascii_lowercase()) {
            Some(seq) if seq.len() > 1 => seq.pop_front().unwrap_or(Script::Accept),
            Some(seq) => seq.front().cloned().unwrap_or(Script::Accept),
            None => Script::Accept,
        }
    }
}

/// A running scripted SMTP server on `127.0.0.1`. Stops on [`shutdown`](Self::shutdown) or
/// drop (open connections are closed too).
pub struct ScriptedSmtpServer {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    kick: watch::Sender<u64>,
}

impl ScriptedSmtpServer {
    /// Binds `127.0.0.1:0` and starts accepting connections.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on("127.0.0.1:0".parse().map_err(std::io::Error::other)?).await
    }

    /// Binds `addr`: e.g. the address of a server shut down earlier, to bring a
    /// relay "back up" where its pool expects it.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            arrived: Notify::new(),
            addr,
            connections: AtomicUsize::new(0),
        });
        let (stop, stop_rx) = watch::channel(false);
        let (kick, kick_rx) = watch::channel(0);
        tokio::spawn(accept_loop(listener, Arc::clone(&shared), stop_rx, kick_rx));
        Ok(ScriptedSmtpServer { shared, stop, kick })
    }

    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// Sets how the server answers `recipient` (case-insensitive) from now on.
    pub fn script(&self, recipient: &str, script: Script) {
        self.script_sequence(recipient, vec![script]);
    }

    /// One script per delivery attempt (per RCPT of this recipient), in order; the last one
    /// repeats. E.g. `[RejectRcpt(450, …), RejectRcpt(450, …), Accept]`. An empty sequence
    /// means [`Script::Accept`].
    pub fn script_sequence(&self, recipient: &str, scripts: Vec<Script>) {
        let mut state = self.shared.lock();
        let key = recipient.to_ascii_lowercase();
        if scripts.is_empty() {
            state.scripts.remove(&key);
        } else {
            state.scripts.insert(key, scripts.into());
        }
    }

    /// Delay before the `220` greeting of connections accepted from now on.
    /// Waits `delay` before the `250` that accepts a message (after the final dot):
    /// a slow but healthy relay.
    pub fn set_final_reply_delay(&self, delay: Duration) {
        self.shared.lock().final_reply_delay = delay;
    }

    pub fn set_greeting_delay(&self, delay: Duration) {
        self.shared.lock().greeting_delay = delay;
    }

    /// Refuses MAIL FROM `sender` (case-insensitive) with this code and text from now on.
    pub fn reject_sender(&self, sender: &str, code: u16, text: &'static str) {
        self.shared
            .lock()
            .refused_senders
            .insert(sender.to_ascii_lowercase(), (code, text));
    }

    /// Whether EHLO offers PIPELINING (RFC 2920) to connections accepted from now on
    /// (it does unless turned off). The server reads pipelined commands either way.
    pub fn set_pipelining(&self, on: bool) {
        self.shared.lock().no_pipelining = !on;
    }

    /// Whether EHLO offers SMTPUTF8 (RFC 6531) to connections accepted from now on (it
    /// does not unless turned on). Without it, a non-ASCII address in MAIL or RCPT is
    /// refused with `553 5.6.7`, as RFC 6531 §3.5 has a server do; with it, only when the
    /// MAIL command lacks the `SMTPUTF8` parameter.
    pub fn set_smtputf8(&self, on: bool) {
        self.shared.lock().smtputf8 = on;
    }

    /// MAIL commands so far that arrived with the next command already behind them,
    /// i.e. sent pipelined.
    pub fn pipelined_mails(&self) -> usize {
        self.shared.lock().pipelined_mails
    }

    /// Messages accepted so far, in arrival order.
    pub fn received(&self) -> Vec<ReceivedMessage> {
        self.shared.lock().received.clone()
    }

    /// Waits until at least `n` messages have arrived or `timeout` passed, and returns what
    /// has arrived by then (possibly fewer than `n`).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMessage> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let state = self.shared.lock();
                if state.received.len() >= n {
                    return state.received.clone();
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.received();
            }
        }
    }

    /// How many connections the server has accepted so far (open or closed).
    pub fn connections_accepted(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Closes every open connection without a word (as a restarted relay would) and keeps
    /// listening.
    pub fn close_connections(&self) {
        self.kick.send_modify(|n| *n += 1);
    }

    /// Stops listening and closes every open connection.
    pub fn shutdown(self) {
        // Drop does the work.
    }
}

impl Drop for ScriptedSmtpServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    kick: watch::Receiver<u64>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else {
                    // Out of file descriptors and the like: back off briefly.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                shared.connections.fetch_add(1, Ordering::SeqCst);
                let shared = Arc::clone(&shared);
                let mut stop = stop.clone();
                let mut kick = kick.clone();
                kick.mark_unchanged();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = stop.changed() => {}
                        _ = kick.changed() => {}
                        _ = handle_connection(stream, shared) => {}
                    }
                });
            }
        }
    }
}

/// The transaction in progress on one connection.
#[derive(Default)]
struct Transaction {
    mail_from: Option<String>,
    /// The MAIL parameters after the path.
    mail_params: String,
    /// MAIL came with `SMTPUTF8` and the server offered it.
    utf8: bool,
    rcpt_to: Vec<String>,
    /// The first DATA-stage rejection scripted for an accepted recipient.
    data_reply: Option<(u16, String)>,
    /// A recipient scripted [`Script::CloseAfterData`].
    close_after_data: bool,
}

enum Line {
    Ok(Vec<u8>),
    TooLong,
    Eof,
}

async fn read_line(reader: &mut BufReader<TcpStream>, buf: &mut Vec<u8>) -> std::io::Result<Line> {
    buf.clear();
    let n = (&mut *reader)
        .take(MAX_LINE as u64)
        .read_until(b'\n', buf)
        .await?;
    if n == 0 {
        return Ok(Line::Eof);
    }
    if buf.last() != Some(&b'\n') {
        return Ok(if n >= MAX_LINE {
            Line::TooLong
        } else {
            Line::Eof
        });
    }
    Ok(Line::Ok(std::mem::take(buf)))
}

/// Formats a reply; `\n` in `text` makes a multi-line reply (`550-…` continuation lines).
fn reply(code: u16, text: &str) -> Vec<u8> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    if lines.is_empty() {
        out.extend_from_slice(format!("{code} \r\n").as_bytes());
    }
    for (i, line) in lines.iter().enumerate() {
        let sep = if i + 1 == lines.len() { ' ' } else { '-' };
        out.extend_from_slice(format!("{code}{sep}{}\r\n", line.trim_end_matches('\r')).as_bytes());
    }
    out
}

/// The address inside `<…>` after `FROM:`/`TO:`, e.g. `MAIL FROM:<a@b> BODY=8BITMIME`.
fn path_arg(args: &str) -> Option<String> {
    let start = args.find('<')?;
    let end = start + args[start..].find('>')?;
    Some(args[start + 1..end].to_string())
}

async fn w(reader: &mut BufReader<TcpStream>, bytes: Vec<u8>) -> std::io::Result<()> {
    reader.get_mut().write_all(&bytes).await
}

// One SMTP session as a single loop over the commands, each arm a reply the
// tests script: long, but read top to bottom like the conversation itself.
async fn handle_connection(stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream);
    let delay = shared.lock().greeting_delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    w(
        &mut reader,
        reply(220, &format!("{HOSTNAME} ESMTP Rebound scripted server")),
    )
    .await?;

    let mut tx = Transaction::default();
    let mut buf = Vec::with_capacity(256);
    loop {
        let line = match read_line(&mut reader, &mut buf).await? {
            Line::Ok(l) => l,
            Line::Eof => return Ok(()),
            Line::TooLong => {
                if !discard_rest_of_line(&mut reader, &mut buf).await? {
                    return Ok(());
                }
                w(&mut reader, reply(500, "5.5.2 Error: line too long")).await?;
                continue;
            }
        };
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        let (verb, args) = match line.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.trim()),
            None => (line.to_ascii_uppercase(), ""),
        };
        let answer = match verb.as_str() {
            "EHLO" => {
                tx = Transaction::default();
                let (no_pipelining, smtputf8) = {
                    let state = shared.lock();
                    (state.no_pipelining, state.smtputf8)
                };
                let pipelining = if no_pipelining { "" } else { "\nPIPELINING" };
                let utf8 = if smtputf8 { "\nSMTPUTF8" } else { "" };
                reply(
                    250,
                    &format!(
                        "{HOSTNAME} greets {args}\nSIZE {MAX_MESSAGE}{pipelining}\n8BITMIME{utf8}"
                    ),
                )
            }
            "HELO" => {
                tx = Transaction::default();
                reply(250, HOSTNAME)
            }
            "MAIL" => {
                if !reader.buffer().is_empty() {
                    shared.lock().pipelined_mails += 1;
                }
                let upper = args.to_ascii_uppercase();
                if tx.mail_from.is_some() {
                    reply(503, "5.5.1 Error: nested MAIL command")
                } else if !upper.starts_with("FROM:") {
                    reply(501, "5.5.4 Syntax: MAIL FROM:<address>")
                } else if let Some(from) = path_arg(args) {
                    let params = args
                        .split_once('>')
                        .map_or("", |(_, p)| p.trim())
                        .to_string();
                    tx.utf8 = shared.lock().smtputf8
                        && params
                            .split_ascii_whitespace()
                            .any(|p| p.eq_ignore_ascii_case("SMTPUTF8"));
                    let refused = shared
                        .lock()
                        .refused_senders
                        .get(&from.to_ascii_lowercase())
                        .copied();
                    match refused {
                        Some((code, text)) => reply(code, text),
                        None if !from.is_ascii() && !tx.utf8 => {
                            reply(553, "5.6.7 Non-ASCII address needs SMTPUTF8")
                        }
                        None => {
                            tx.mail_from = Some(from);
                            tx.mail_params = params;
                            reply(250, "2.1.0 Ok")
                        }
                    }
                } else {
                    reply(501, "5.1.7 Bad sender address syntax")
                }
            }
            "RCPT" => {
                let upper = args.to_ascii_uppercase();
                if tx.mail_from.is_none() {
                    reply(503, "5.5.1 Error: need MAIL command")
                } else if tx.rcpt_to.len() >= MAX_RECIPIENTS {
                    reply(452, "4.5.3 Error: too many recipients")
                } else if !upper.starts_with("TO:") {
                    reply(501, "5.5.4 Syntax: RCPT TO:<address>")
                } else if let Some(to) = path_arg(args)
                    && !to.is_ascii()
                    && !tx.utf8
                {
                    reply(553, "5.6.7 Non-ASCII address needs SMTPUTF8")
                } else if let Some(to) = path_arg(args) {
                    match shared.next_script(&to) {
                        Script::Accept => {
                            tx.rcpt_to.push(to);
                            reply(250, "2.1.5 Ok")
                        }
                        Script::RejectRcpt(code, text) => reply(code, text),
                        Script::RejectData(code, text) => {
                            tx.rcpt_to.push(to);
                            tx.data_reply.get_or_insert((code, text));
                            reply(250, "2.1.5 Ok")
                        }
                        Script::CloseAtRcpt => return Ok(()),
                        Script::CloseAfterData => {
                            tx.rcpt_to.push(to);
                            tx.close_after_data = true;
                            reply(250, "2.1.5 Ok")
                        }
                        Script::DelayGreeting(d) => {
                            tokio::time::sleep(d).await;
                            tx.rcpt_to.push(to);
                            reply(250, "2.1.5 Ok")
                        }
                    }
                } else {
                    reply(501, "5.1.3 Bad recipient address syntax")
                }
            }
            "DATA" => {
                if tx.mail_from.is_none() {
                    reply(503, "5.5.1 Error: need MAIL command")
                } else if tx.rcpt_to.is_empty() {
                    reply(554, "5.5.1 Error: no valid recipients")
                } else {
                    w(&mut reader, reply(354, "End data with <CR><LF>.<CR><LF>")).await?;
                    let outcome = read_data(&mut reader, &mut buf).await?;
                    let tx = std::mem::take(&mut tx);
                    match (outcome, tx.data_reply) {
                        (DataOutcome::Eof, _) => return Ok(()),
                        (DataOutcome::TooBig, _) => reply(552, "5.3.4 Error: message file too big"),
                        (DataOutcome::LineTooLong, _) => reply(500, "5.5.2 Error: line too long"),
                        (DataOutcome::Complete(_), Some((code, text))) => reply(code, &text),
                        (DataOutcome::Complete(data), None) => {
                            let n = {
                                let mut state = shared.lock();
                                state.received.push(ReceivedMessage {
                                    mail_from: tx.mail_from.unwrap_or_default(),
                                    mail_params: tx.mail_params,
                                    rcpt_to: tx.rcpt_to,
                                    data,
                                    received_at: Instant::now(),
                                    listener: shared.addr,
                                });
                                state.received.len()
                            };
                            shared.arrived.notify_waiters();
                            if tx.close_after_data {
                                return Ok(());
                            }
                            let delay = shared.lock().final_reply_delay;
                            tokio::time::sleep(delay).await;
                            reply(250, &format!("2.0.0 Ok: queued as Q{n}"))
                        }
                    }
                }
            }
            "RSET" => {
                tx = Transaction::default();
                reply(250, "2.0.0 Ok")
            }
            "NOOP" => reply(250, "2.0.0 Ok"),
            "VRFY" => reply(252, "2.0.0 Cannot VRFY user"),
            "QUIT" => {
                w(&mut reader, reply(221, "2.0.0 Bye")).await?;
                return Ok(());
            }
            _ => reply(502, "5.5.2 Error: command not recognized"),
        };
        w(&mut reader, answer).await?;
    }
}

enum DataOutcome {
    Complete(Vec<u8>),
    TooBig,
    LineTooLong,
    /// The connection ended before the terminating `.` line.
    Eof,
}

/// Reads and drops the rest of an overlong line.
async fn discard_rest_of_line(
    reader: &mut BufReader<TcpStream>,
    buf: &mut Vec<u8>,
) -> std::io::Result<bool> {
    loop {
        match read_line(reader, buf).await? {
            Line::Ok(_) => return Ok(true),
            Line::TooLong => continue,
            Line::Eof => return Ok(false),
        }
    }
}

/// Reads DATA lines up to the terminating `.` line, undoing dot-stuffing. An oversized
/// message or line is read to its end and dropped.
async fn read_data(
    reader: &mut BufReader<TcpStream>,
    buf: &mut Vec<u8>,
) -> std::io::Result<DataOutcome> {
    let mut data = Vec::new();
    let mut failure = None;
    loop {
        let line = match read_line(reader, buf).await? {
            Line::Ok(l) => l,
            Line::Eof => return Ok(DataOutcome::Eof),
            Line::TooLong => {
                failure = Some(DataOutcome::LineTooLong);
                data = Vec::new();
                if !discard_rest_of_line(reader, buf).await? {
                    return Ok(DataOutcome::Eof);
                }
                continue;
            }
        };
        if line == b".\r\n" || line == b".\n" {
            return Ok(failure.unwrap_or(DataOutcome::Complete(data)));
        }
        if failure.is_some() {
            continue;
        }
        let content = line.strip_prefix(b".").unwrap_or(&line);
        if data.len() + content.len() > MAX_MESSAGE {
            failure = Some(DataOutcome::TooBig);
            data = Vec::new();
            continue;
        }
        data.extend_from_slice(content);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_reply(reader: &mut BufReader<TcpStream>) -> String {
        let mut full = String::new();
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).await.expect("read") == 0 {
                return full;
            }
            full.push_str(&line);
            if line.as_bytes().get(3) == Some(&b' ') {
                return full;
            }
        }
    }

    /// Sends `lines` one by one and collects the replies (the greeting first). Lines
    /// between a `354` and the lone `.` are message data and get no reply.
    async fn converse(addr: SocketAddr, lines: &[&str]) -> Vec<String> {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let mut reader = BufReader::new(stream);
        let mut replies = vec![read_reply(&mut reader).await];
        let mut in_data = false;
        for l in lines {
            reader
                .get_mut()
                .write_all(format!("{l}\r\n").as_bytes())
                .await
                .expect("write");
            if in_data && *l != "." {
                continue;
            }
            let r = read_reply(&mut reader).await;
            in_data = r.starts_with("354");
            replies.push(r);
        }
        replies
    }

    #[tokio::test]
    async fn raw_dialogue_with_dot_unstuffing_and_scripts() {
        let server = ScriptedSmtpServer::start().await.expect("start");
        server.script(
            "Gone@Example.com",
            Script::RejectRcpt(550, "5.1.1 User unknown"),
        );
        let r = converse(
            server.addr(),
            &[
                "EHLO client.test",
                "MAIL FROM:<bounce+t@bounce.example>",
                "RCPT TO:<gone@example.com>",
                "RCPT TO:<ok@example.com>",
                "DATA",
                "Subject: hi",
                "",
                "..leading dot",
                ".",
                "QUIT",
            ],
        )
        .await;
        assert!(r[0].starts_with("220 "), "{r:?}");
        assert!(
            r[1].starts_with("250-") && r[1].contains("250 8BITMIME"),
            "{r:?}"
        );
        assert_eq!(r[3], "550 5.1.1 User unknown\r\n");
        assert!(r[4].starts_with("250 "));
        assert!(r[5].starts_with("354 "));
        assert!(r[6].starts_with("250 2.0.0 Ok: queued"), "{r:?}");
        assert!(r[7].starts_with("221 "));
        let got = server.received();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].mail_from, "bounce+t@bounce.example");
        assert_eq!(got[0].rcpt_to, vec!["ok@example.com".to_string()]);
        assert_eq!(got[0].data, b"Subject: hi\r\n\r\n.leading dot\r\n");
        assert_eq!(got[0].listener, server.addr());
    }

    #[tokio::test]
    async fn sequence_is_consumed_per_attempt_and_last_repeats() {
        let server = ScriptedSmtpServer::start().await.expect("start");
        server.script_sequence(
            "a@x.test",
            vec![
                Script::RejectRcpt(450, "4.2.1 Mailbox busy"),
                Script::Accept,
            ],
        );
        let attempt = || {
            converse(
                server.addr(),
                &[
                    "HELO c",
                    "MAIL FROM:<f@x.test>",
                    "RCPT TO:<A@x.test>",
                    "QUIT",
                ],
            )
        };
        assert!(attempt().await[3].starts_with("450 4.2.1 Mailbox busy"));
        assert!(attempt().await[3].starts_with("250 "));
        assert!(attempt().await[3].starts_with("250 "));
    }

    #[tokio::test]
    async fn multi_line_reply_and_overlong_line() {
        let server = ScriptedSmtpServer::start().await.expect("start");
        server.script(
            "m@x.test",
            Script::RejectRcpt(550, "5.7.1 first\n5.7.1 second"),
        );
        let r = converse(
            server.addr(),
            &["HELO c", "MAIL FROM:<>", "RCPT TO:<m@x.test>"],
        )
        .await;
        assert_eq!(r[3], "550-5.7.1 first\r\n550 5.7.1 second\r\n");
        let long = "NOOP ".to_string() + &"x".repeat(MAX_LINE + 10);
        let r = converse(server.addr(), &[long.as_str()]).await;
        assert!(r[1].starts_with("500 "), "{r:?}");
    }

    #[tokio::test]
    async fn wait_for_times_out_with_what_arrived() {
        let server = ScriptedSmtpServer::start().await.expect("start");
        let start = Instant::now();
        let got = server.wait_for(1, Duration::from_millis(100)).await;
        assert!(got.is_empty());
        assert!(start.elapsed() < Duration::from_secs(2));
        server.shutdown();
    }
}
