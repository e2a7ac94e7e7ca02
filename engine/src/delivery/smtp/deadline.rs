//! Timeouts by stage, as RFC 5321 §4.5.3.2 sets them, enforced on the socket.
//!
//! A timeout applies to one wait: for a reply (reading), or for the relay to
//! take more of what we write (one "TCP SEND", as the RFC puts it). The
//! conversation sets the limits of the stage it is in before each command
//! ([`Limits::stage`]); [`Clocked`] fails a read or a write that waits longer
//! with `TimedOut`. So a relay that is slow but answering is never cut off by
//! an overall budget, and waiting for one of the pool's connections (our own
//! queueing) is bounded apart, in `pool.rs`, never counted against the relay.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use lettre::transport::smtp::client::AsyncTokioStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// How long each stage of a conversation may wait. Defaults are RFC 5321's
/// (§4.5.3.2) where it names one and Postfix's `smtp_*_timeout` otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect (Postfix `smtp_connect_timeout`: 30 s).
    pub connect: Duration,
    /// The 220 greeting, and the TLS handshake of implicit TLS (RFC: 5 min).
    pub greeting: Duration,
    /// EHLO, STARTTLS, AUTH, RSET, NOOP (Postfix `smtp_helo_timeout`: 5 min).
    pub command: Duration,
    /// The reply to MAIL FROM (RFC: 5 min).
    pub mail: Duration,
    /// The reply to RCPT TO (RFC: 5 min).
    pub rcpt: Duration,
    /// The 354 reply to DATA (RFC: 2 min).
    pub data_init: Duration,
    /// Each write of the message data (RFC: 3 min).
    pub data_block: Duration,
    /// The reply to the final dot (RFC: 10 min). A timeout here leaves the
    /// outcome unknown: the relay may have taken the message.
    pub final_reply: Duration,
    /// Waiting for a free connection of the pool: queueing, not the relay.
    pub queue: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        let min = |m: u64| Duration::from_secs(60 * m);
        Self {
            connect: Duration::from_secs(30),
            greeting: min(5),
            command: min(5),
            mail: min(5),
            rcpt: min(5),
            data_init: min(2),
            data_block: min(3),
            final_reply: min(10),
            queue: Duration::from_secs(60),
        }
    }
}

impl Timeouts {
    /// Every stage (and the queue) bounded by `d`: for tests and probes.
    pub fn uniform(d: Duration) -> Self {
        Self {
            connect: d,
            greeting: d,
            command: d,
            mail: d,
            rcpt: d,
            data_init: d,
            data_block: d,
            final_reply: d,
            queue: d,
        }
    }

    /// The configured timeouts (`[delivery.smtp_timeouts]`), each capped by
    /// `delivery.smtp_timeout_seconds`.
    pub fn from_config(d: &crate::config::DeliveryConfig) -> Self {
        let cap = d.smtp_timeout_seconds;
        let s = |secs: i64| Duration::from_secs(secs.min(cap).max(1).unsigned_abs());
        let t = &d.smtp_timeouts;
        Self {
            connect: s(t.connect_seconds),
            greeting: s(t.greeting_seconds),
            command: s(t.command_seconds),
            mail: s(t.mail_seconds),
            rcpt: s(t.rcpt_seconds),
            data_init: s(t.data_init_seconds),
            data_block: s(t.data_block_seconds),
            final_reply: s(t.final_reply_seconds),
            queue: s(t.queue_seconds),
        }
    }

    /// Any stage bounded by zero cannot work.
    pub fn any_zero(&self) -> bool {
        [
            self.connect,
            self.greeting,
            self.command,
            self.mail,
            self.rcpt,
            self.data_init,
            self.data_block,
            self.final_reply,
            self.queue,
        ]
        .iter()
        .any(Duration::is_zero)
    }
}

/// The current read and write limits of one connection, set by the
/// conversation stage by stage. Each [`stage`](Self::stage) restarts the
/// clocks, so a wait abandoned earlier never shortens the next one.
#[derive(Debug, Default)]
pub(super) struct Limits {
    read_ms: AtomicU64,
    write_ms: AtomicU64,
    generation: AtomicU64,
}

impl Limits {
    pub(super) fn stage(&self, read: Duration, write: Duration) {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1);
        self.read_ms.store(ms(read), Ordering::Relaxed);
        self.write_ms.store(ms(write), Ordering::Relaxed);
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    fn get(&self, write: bool) -> (Duration, u64) {
        let ms = if write { &self.write_ms } else { &self.read_ms };
        (
            Duration::from_millis(ms.load(Ordering::Relaxed)),
            self.generation.load(Ordering::Relaxed),
        )
    }
}

/// One armed wait: its timer and the stage it was armed in.
struct Wait {
    sleep: Pin<Box<Sleep>>,
    generation: u64,
    limit: Duration,
}

/// A stream whose reads and writes fail with `TimedOut` once one waits
/// longer than the current [`Limits`].
pub(super) struct Clocked<S> {
    inner: S,
    limits: Arc<Limits>,
    read: Option<Wait>,
    write: Option<Wait>,
}

impl<S> Clocked<S> {
    pub(super) fn new(inner: S, limits: Arc<Limits>) -> Self {
        Self {
            inner,
            limits,
            read: None,
            write: None,
        }
    }
}

/// `Pending` from the inner stream: arms (or keeps) the wait's timer and
/// says whether it ran out.
fn expired(slot: &mut Option<Wait>, limits: &Limits, write: bool, cx: &mut Context<'_>) -> bool {
    let (limit, generation) = limits.get(write);
    if slot.as_ref().is_none_or(|w| w.generation != generation) {
        *slot = Some(Wait {
            sleep: Box::pin(tokio::time::sleep(limit)),
            generation,
            limit,
        });
    }
    match slot {
        Some(w) => w.sleep.as_mut().poll(cx).is_ready(),
        None => false,
    }
}

fn timed_out(what: &str, limit: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("no {what} within {limit:?}"),
    )
}

impl<S: AsyncRead + Unpin> AsyncRead for Clocked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.read = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                if expired(&mut this.read, &this.limits, false, cx) {
                    let limit = this.read.take().map_or(Duration::ZERO, |w| w.limit);
                    return Poll::Ready(Err(timed_out("reply", limit)));
                }
                Poll::Pending
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> Clocked<S> {
    fn clock_write<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match poll {
            Poll::Ready(r) => {
                self.write = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                if expired(&mut self.write, &self.limits, true, cx) {
                    let limit = self.write.take().map_or(Duration::ZERO, |w| w.limit);
                    return Poll::Ready(Err(timed_out("progress writing", limit)));
                }
                Poll::Pending
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Clocked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.clock_write(cx, poll)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_flush(cx);
        this.clock_write(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<S: AsyncTokioStream> AsyncTokioStream for Clocked<S> {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for Clocked<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clocked")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}
