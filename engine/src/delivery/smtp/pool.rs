//! [`Sender`]: a sender pool's connections to its relay, at most
//! `max_connections` open at once, reused across messages while fresh.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use lettre::Address;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::sync::Semaphore;

use super::conversation::{Clock, SmtpRelay, Tx, connect, failed, transaction};
use super::deadline::{Limits, Timeouts};
use super::{Envelope, SendOutcome, capture};
use crate::delivery::relay_url::{RelayUrl, Security, TransportError};

/// A connection used within this long is reused without a NOOP check first.
const FRESH_FOR: Duration = Duration::from_secs(3);
/// A relay marked down is probed within this, whatever the stage timeouts: the probe
/// runs in the periodic round, which must not wait minutes on a silent relay.
const PROBE_WITHIN: Duration = Duration::from_secs(30);
/// A connection is closed (QUIT) and replaced after this many messages, so a long-lived
/// pool spreads over the relay's front ends and stays clear of per-session limits.
const MAX_MESSAGES_PER_CONNECTION: u32 = 1000;

/// Sends a sender pool's mail: one per pool, cheap to clone (the connection pool is shared),
/// at most `max_connections` connections open to the relay at once.
#[derive(Clone)]
pub struct Sender {
    inner: Arc<Inner>,
}

struct Inner {
    url: RelayUrl,
    redacted: String,
    timeouts: Timeouts,
    max_connections: u32,
    relay: Option<SmtpRelay>,
    /// One permit per connection in use; idle connections hold none.
    permits: Semaphore,
    idle: Mutex<Vec<Pooled>>,
}

struct Pooled {
    conn: AsyncSmtpConnection,
    /// The connection's read and write limits, set stage by stage.
    limits: Arc<Limits>,
    /// The relay offers PIPELINING (RFC 2920): a transaction is sent in two round trips.
    pipelining: bool,
    last_used: Instant,
    messages: u32,
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("relay", &self.inner.redacted)
            .field("timeouts", &self.inner.timeouts)
            .field("max_connections", &self.inner.max_connections)
            .finish_non_exhaustive()
    }
}

impl Sender {
    /// A sender for `url`. `timeouts` bound each stage of a conversation, and apart from
    /// them the wait for a free connection; `max_connections` (at least 1) bounds the connections
    /// open to the relay. Nothing is connected until the first send.
    pub fn new(
        url: &RelayUrl,
        timeouts: Timeouts,
        max_connections: u32,
    ) -> Result<Self, TransportError> {
        Self::build(url, timeouts, max_connections, None)
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
            self.inner.timeouts,
            self.inner.max_connections,
            Some(ClientId::Domain(name.to_string())),
        )
    }

    fn build(
        url: &RelayUrl,
        timeouts: Timeouts,
        max_connections: u32,
        client_id: Option<ClientId>,
    ) -> Result<Self, TransportError> {
        if max_connections == 0 {
            return Err(TransportError::InvalidConfig(
                "max_connections must be at least 1".to_string(),
            ));
        }
        if timeouts.any_zero() {
            return Err(TransportError::InvalidConfig(
                "every SMTP timeout must be positive".to_string(),
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
                timeouts,
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
    /// through greeting and EHLO, then QUIT, within [`PROBE_WITHIN`] at most.
    /// Sends nothing; the health guard uses it to restore an unreachable pool.
    pub async fn probe(&self) -> Result<(), String> {
        let Some(relay) = &self.inner.relay else {
            return Ok(());
        };
        let failure = |o: SendOutcome| match o {
            SendOutcome::Failed { detail, .. } => detail,
            SendOutcome::Rejected { response, .. } => {
                format!("{} {}", response.code, response.text)
            }
            other => format!("{other:?}"),
        };
        let within = PROBE_WITHIN.min(self.inner.timeouts.connect + self.inner.timeouts.greeting);
        match tokio::time::timeout(within, connect(relay, &self.inner.timeouts)).await {
            Ok(Ok((mut conn, ..))) => {
                let _ = conn.quit().await;
                Ok(())
            }
            Ok(Err(outcome)) => Err(failure(outcome)),
            Err(_) => Err(format!(
                "no greeting from {}:{} within {:?}",
                relay.host, relay.port, within
            )),
        }
    }

    /// Sends one message. Never panics; every wait is bounded by its stage's timeout
    /// (and the wait for a free connection by the queue bound), whatever the relay does.
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
        self.send_smtp(relay, &from, &to, raw_message).await
    }

    async fn send_smtp(
        &self,
        relay: &SmtpRelay,
        from: &Address,
        to: &Address,
        raw: &[u8],
    ) -> SendOutcome {
        // Waiting for a connection is our own queueing: bounded on its own, and
        // reported as not sent (never as the relay failing).
        let queue = self.inner.timeouts.queue;
        let _permit = match tokio::time::timeout(queue, self.inner.permits.acquire()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return failed("sender is closed".to_string()),
            Err(_) => {
                return SendOutcome::NotSent {
                    detail: format!(
                        "no free connection to {} within {queue:?}",
                        self.inner.redacted
                    ),
                };
            }
        };
        let mut retried = false;
        loop {
            let (mut pooled, reused) = match self.checkout(relay).await {
                Ok(c) => c,
                Err(outcome) => return outcome,
            };
            let clock = Clock {
                limits: &pooled.limits,
                timeouts: &self.inner.timeouts,
            };
            let tx = transaction(&mut pooled.conn, &clock, pooled.pipelining, from, to, raw).await;
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
            if pooled.last_used.elapsed() > FRESH_FOR {
                let command = self.inner.timeouts.command;
                pooled.limits.stage(command, command);
                if !pooled.conn.test_connected().await {
                    continue;
                }
            }
            return Ok((pooled, true));
        }
        let (conn, pipelining, limits) = connect(relay, &self.inner.timeouts).await?;
        Ok((
            Pooled {
                conn,
                limits,
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
