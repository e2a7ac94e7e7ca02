//! The timers of a worker process, run beside the send loops (`serve` starts
//! [`Periodic::run`] of [`Periodic::for_worker`] as it starts
//! `shop_webhooks::run`; tests run a batch and then [`Periodic::tick`]): the fallback
//! decisions for newly held orders and the masked re-send escalations, the
//! email-reach credit, the dashboard rollups, the privacy retention pass and
//! the pool health guard with its relay probe. The slow ones keep their own
//! interval; the rest run every round.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::clock::{Clock, Millis};
use crate::config::Config;
use crate::db::Db;
use crate::delivery::guard::Change;
use crate::delivery::senders::Senders;
use crate::delivery::worker::Worker;
use crate::error::Result;

/// How often a round runs (a newly held order waits at most this long for
/// its fallback decision).
const ROUND: Duration = Duration::from_millis(250);

/// How often a worker credits email reach (the window itself is an hour).
const REACH_SWEEP_INTERVAL_MS: i64 = 30_000;

/// How often a worker runs the pool health guard.
pub const GUARD_INTERVAL_MS: i64 = 60_000;

pub struct Periodic {
    db: Db,
    clock: Arc<dyn Clock>,
    config: Arc<Config>,
    /// The send loops' relay senders: the relay probe uses the same ones.
    senders: Senders,
    /// The send loops' wake-up: a fallback decision may have queued a job.
    wake: Arc<Notify>,
    /// When this process next looks at the dashboard rollups.
    stats_due: AtomicI64,
    /// When this process next credits email reach.
    reach_due: AtomicI64,
    /// When this process next tries the privacy retention pass.
    retention_due: AtomicI64,
    /// When this process next runs the pool health guard.
    guard_due: AtomicI64,
    /// When this process last looked for bounced masked re-sends (0: never).
    escalated_at: AtomicI64,
}

impl Periodic {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        config: Arc<Config>,
        senders: Senders,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            db,
            clock,
            config,
            senders,
            wake,
            stats_due: AtomicI64::new(0),
            reach_due: AtomicI64::new(0),
            retention_due: AtomicI64::new(0),
            guard_due: AtomicI64::new(0),
            escalated_at: AtomicI64::new(0),
        }
    }

    /// The timers of `worker`'s process: its database, clock and configuration,
    /// its relay senders (for the relay probe) and its wake-up (a fallback
    /// decision may have queued a job).
    pub fn for_worker(worker: &Worker) -> Self {
        Self::new(
            worker.db.clone(),
            worker.clock.clone(),
            worker.config.clone(),
            worker.senders.clone(),
            worker.wake.clone(),
        )
    }

    /// Every [`ROUND`] until `shutdown` turns true. A failed round is logged
    /// and the next one tries again.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                break;
            }
            if let Err(e) = self.tick().await {
                tracing::warn!(error = %e, "periodic round failed; trying again shortly");
            }
            tokio::select! {
                _ = tokio::time::sleep(ROUND) => {},
                _ = shutdown.changed() => {},
            }
        }
    }

    /// One round. Returns how many fallback decisions it made.
    pub async fn tick(&self) -> Result<usize> {
        let now = self.clock.now_ms();
        let decided = crate::fallback::run_due(&self.db, now, &self.config).await?;
        let previous_look = Some(self.escalated_at.load(Ordering::Relaxed)).filter(|&at| at != 0);
        crate::fallback::runner::escalate_bounced_masked(
            &self.db,
            previous_look,
            now,
            &self.config,
        )
        .await?;
        self.escalated_at.store(now, Ordering::Relaxed);
        // Reach by email is only credited after a window of an hour: scanning
        // accepted orders every 250 ms tick would be wasted work.
        if now >= self.reach_due.load(Ordering::Relaxed) {
            self.reach_due
                .store(now + REACH_SWEEP_INTERVAL_MS, Ordering::Relaxed);
            crate::fallback::sweep_email_reach(
                &self.db,
                now,
                self.config.fallback.reach_window_seconds * 1000,
            )
            .await?;
        }
        // Dashboard rollups, at most once a minute across all processes (a
        // periodic day-by-day recompute: `stats` explains why). A counter: a
        // failure is logged, never fails the sends.
        if now >= self.stats_due.load(Ordering::Relaxed) {
            self.stats_due
                .store(now + crate::stats::REFRESH_INTERVAL_MS, Ordering::Relaxed);
            let lookback = self.config.fallback.reach_window_seconds * 1000 + 10 * 60_000;
            let refresh = crate::stats::refresh_if_stale(
                &self.db,
                now,
                lookback,
                crate::stats::REFRESH_INTERVAL_MS,
            );
            if let Err(e) = refresh.await {
                tracing::warn!(error = %e, "could not refresh the dashboard rollups");
            }
        }
        // Privacy retention, every few minutes, one process at a time (a lease in
        // `privacy_state`); like the rollups, a failure never fails the sends. In
        // its own task: a first pass over a long backlog must not hold up sending
        // (or the heartbeat). Dropped at shutdown, its transaction rolls back.
        if now >= self.retention_due.load(Ordering::Relaxed) {
            self.retention_due
                .store(now + crate::retention::CHECK_INTERVAL_MS, Ordering::Relaxed);
            let (db, privacy) = (self.db.clone(), self.config.privacy.clone());
            tokio::spawn(async move {
                let pass =
                    crate::retention::run_due(&db, now, &privacy, crate::retention::INTERVAL_MS);
                match pass.await {
                    Ok(Some(r)) if !r.is_empty() => tracing::info!(?r, "privacy retention pass"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "privacy retention pass failed"),
                }
            });
        }
        // The pool health guard, once a minute: pauses or demotes a pool whose
        // rates crossed the thresholds. Like the rollups, never fails the sends.
        if now >= self.guard_due.load(Ordering::Relaxed) {
            self.guard_due
                .store(now + GUARD_INTERVAL_MS, Ordering::Relaxed);
            if let Err(e) =
                crate::delivery::guard::run(&self.db, now, &self.config.pool_health).await
            {
                tracing::warn!(error = %e, "pool health guard pass failed");
            }
            if let Err(e) = self.check_relays(now).await {
                tracing::warn!(error = %e, "relay health pass failed");
            }
        }
        if decided > 0 {
            // A decision may have queued a masked re-send: take it now.
            self.wake.notify_one();
        }
        Ok(decided)
    }

    /// The relay half of the health guard ([`crate::delivery::guard::relays`]):
    /// marks pools whose relay stopped answering, and probes those to restore them.
    pub async fn check_relays(&self, now: Millis) -> Result<Vec<Change>> {
        crate::delivery::guard::relays(&self.db, now, &self.config.pool_health, |pool| async move {
            self.senders
                .for_pool(&pool)
                .await
                .map_err(|e| e.to_string())?
                .probe()
                .await
        })
        .await
    }
}
