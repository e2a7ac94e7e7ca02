//! The send worker: its state and its loops. What one batch does is in
//! `send.rs` (with `plan.rs`, `outcome.rs` and `record.rs`); the timers
//! (fallback decisions, reach, rollups, retention, pool guard) run beside it
//! in `periodic` (a layer above, built from the worker: `Periodic::for_worker`).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use rand::RngCore;
use tokio::sync::{Notify, watch};

use super::attempts::AttemptSql;
use super::policy::RetryPolicy;
use super::queue;
use super::record::RecordSql;
use super::senders::Senders;
use super::smtp::Timeouts;
use crate::bounce::Classifier;
use crate::clock::{Clock, Millis};
use crate::config::Config;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::receipt::{Branding, Renderer};

/// How often the lease renewal looks at the clock.
const RENEW_LOOK: Duration = Duration::from_millis(100);

pub struct Worker {
    pub(crate) db: Db,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) id: String,
    pub(crate) policy: RetryPolicy,
    pub(crate) classifier: &'static Classifier,
    pub(crate) renderer: Renderer,
    pub(crate) branding: Branding,
    pub(crate) bounce_domain: String,
    pub(crate) lease_ms: i64,
    pub(crate) batch: i64,
    /// Batches in flight at once (`delivery.send_loops`).
    send_loops: usize,
    /// Each pool's relay sender, shared with the periodic relay probe.
    pub(crate) senders: Senders,
    /// The send round's batch statements, for this worker's backend.
    pub(crate) attempt_sql: AttemptSql,
    pub(crate) record_sql: RecordSql,
    /// Pacing slots for a batch's (pool, provider) pairs (`pace::reserve_sql`).
    pub(crate) reserve_sql: String,
    pub(crate) config: Arc<Config>,
    /// Intake pokes this so a new order is sent at once, not at the next poll.
    pub wake: Arc<Notify>,
    /// Deferral texts that slow a pool → provider pair (`pace`).
    pub(crate) shaper: super::pace::Shaper,
    /// Touched every time round the loop; `/readyz` says not ready when it goes stale.
    pub heartbeat: Heartbeat,
    /// The jobs a batch in hand holds: their leases are renewed until it ends.
    pub(crate) held: std::sync::Mutex<HashSet<i64>>,
    /// `queue::renew_sql` for this worker's backend.
    renew_sql: String,
}

/// When a worker loop last went round (clock milliseconds; 0: never). Shared
/// with `/readyz`, which reports a stalled worker as not ready.
#[derive(Debug, Clone, Default)]
pub struct Heartbeat(Arc<AtomicI64>);

impl Heartbeat {
    pub fn beat(&self, now: Millis) {
        self.0.store(now, Ordering::Relaxed);
    }

    /// The last beat, if there was one.
    pub fn last(&self) -> Option<Millis> {
        Some(self.0.load(Ordering::Relaxed)).filter(|t| *t > 0)
    }

    /// Beat within `max_age_ms` of `now`.
    pub fn is_fresh(&self, now: Millis, max_age_ms: i64) -> bool {
        self.last().is_some_and(|t| now - t <= max_age_ms)
    }
}

impl Worker {
    pub fn new(db: Db, clock: Arc<dyn Clock>, config: &Config) -> Result<Self> {
        let renderer = match &config.shop.template_dir {
            Some(dir) => Renderer::with_template_dir(dir),
            None => Renderer::new(),
        }
        .map_err(|e| Error::Config(format!("`shop.template_dir`: {e}")))?;
        let mut id_bytes = [0u8; 6];
        rand::rng().fill_bytes(&mut id_bytes);
        let config = Arc::new(config.clone());
        let senders = Senders::new(Timeouts::from_config(&config.delivery));
        let wake = Arc::new(Notify::new());
        Ok(Self {
            id: format!("worker-{}-{}", std::process::id(), hex::encode(id_bytes)),
            policy: RetryPolicy::from_config(&config.delivery),
            classifier: Classifier::shared(),
            renderer,
            branding: Branding::from_config(&config),
            bounce_domain: config.delivery.bounce_domain.clone(),
            lease_ms: config.delivery.lease_seconds * 1000,
            batch: config.delivery.batch_size,
            send_loops: usize::try_from(config.delivery.send_loops)
                .unwrap_or(1)
                .max(1),
            senders,
            attempt_sql: AttemptSql::new(&db),
            record_sql: RecordSql::new(&db),
            reserve_sql: super::pace::reserve_sql(&db),
            held: std::sync::Mutex::new(HashSet::new()),
            renew_sql: queue::renew_sql(&db),
            shaper: super::pace::Shaper::builtin()?,
            heartbeat: Heartbeat::default(),
            wake,
            config,
            db,
            clock,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Runs until `shutdown` turns true, then finishes the batch in hand.
    pub async fn run(self: Arc<Self>, shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, loops = self.send_loops, "send worker started");
        // More send loops beside this one (`delivery.send_loops`): while one
        // batch waits for the database or its slowest relay, another sends.
        // In a JoinSet, so they stop with this future if it is aborted.
        let mut loops = tokio::task::JoinSet::new();
        for _ in 1..self.send_loops {
            loops.spawn(self.clone().send_loop(shutdown.clone(), false));
        }
        let sending = async {
            self.clone().send_loop(shutdown, true).await;
            while loops.join_next().await.is_some() {}
        };
        // Leases are renewed until the last batch in hand is finished.
        tokio::select! {
            () = sending => {}
            () = self.renew_leases() => {}
        }
        tracing::info!(worker = %self.id, "send worker stopped");
    }

    /// One of [`run`](Self::run)'s loops: batch after batch while there is
    /// work, else a nap until woken. The `first` one beats the heartbeat.
    async fn send_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>, first: bool) {
        loop {
            if first {
                self.heartbeat.beat(self.clock.now_ms());
            }
            if *shutdown.borrow() {
                break;
            }
            match self.run_once().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "claiming jobs failed; retrying shortly"),
            }
            tokio::select! {
                _ = self.wake.notified() => {},
                _ = tokio::time::sleep(Duration::from_millis(250)) => {},
                _ = shutdown.changed() => {},
            }
        }
    }

    /// [`run`](Self::run) with a bounded stop: once `shutdown` turns true no new
    /// batch is claimed, the sends in flight get up to `grace` to finish (then
    /// they are dropped mid-conversation), and every job still leased to this
    /// worker is put back at once, so another process takes it now rather than
    /// after the lease runs out. Returns how many jobs were put back.
    pub async fn run_graceful(
        self: Arc<Self>,
        shutdown: watch::Receiver<bool>,
        grace: Duration,
    ) -> u64 {
        let mut stop = shutdown.clone();
        let mut task = tokio::spawn(self.clone().run(shutdown));
        let finished = tokio::select! {
            _ = &mut task => true,
            _ = stop.wait_for(|s| *s) => false,
        };
        if !finished && tokio::time::timeout(grace, &mut task).await.is_err() {
            tracing::warn!(worker = %self.id, grace_ms = grace.as_millis() as u64, "sends still in flight after the grace period: abandoning them");
            task.abort();
            let _ = task.await;
        }
        match self.release_leases().await {
            Ok(n) => {
                if n > 0 {
                    tracing::info!(worker = %self.id, jobs = n, "put back the jobs this worker still held");
                }
                n
            }
            Err(e) => {
                tracing::error!(worker = %self.id, error = %e, "could not put back this worker's jobs; their leases will expire");
                0
            }
        }
    }

    /// Renews the leases of the batches in hand every third of a lease, for
    /// as long as the worker runs: a live worker's jobs never run out (however
    /// slow its relays), a killed one's are free one lease after its last
    /// renewal, and a job a batch gave up on (its outcome could not be
    /// written) is no longer renewed, so anyone takes it after its lease.
    async fn renew_leases(&self) {
        // Paced by the injected clock, looked at often: a sped-up demo clock
        // (`--time-scale`) runs leases out faster than real time.
        let every = (self.lease_ms / 3).max(1);
        let mut last = self.clock.now_ms();
        loop {
            tokio::time::sleep(RENEW_LOOK).await;
            let now = self.clock.now_ms();
            if now - last < every {
                continue;
            }
            last = now;
            let jobs: Vec<i64> = self
                .held
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .copied()
                .collect();
            let renew = queue::renew(
                &self.db,
                &self.renew_sql,
                &self.id,
                now + self.lease_ms,
                &jobs,
            );
            if let Err(e) = renew.await {
                tracing::warn!(worker = %self.id, error = %e, "could not renew job leases; trying again");
            }
        }
    }

    /// Puts back every job still leased to this worker (due at once, for anyone).
    pub async fn release_leases(&self) -> Result<u64> {
        queue::release_owned(&self.db, &self.id).await
    }
}
