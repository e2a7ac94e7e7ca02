//! Group commit for the shop API's intake. Checkouts arrive concurrently;
//! each one committing its own transaction makes SQLite's single writer the
//! bottleneck (writers wait on the lock) and costs PostgreSQL a WAL flush per
//! order. Here the orders that arrive while a commit is under way are written
//! together in the next transaction, so a burst of N checkouts costs a few
//! commits, not N, and no order waits longer than one commit for company.
//!
//! An order's answer comes only after its transaction committed: nothing is
//! acknowledged that a crash could lose. A batch that fails is retried order
//! by order, so one bad order cannot fail its neighbours.

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

use super::repo::{Intake, PreparedOrder, insert_prepared, settle_intake};
use crate::db::Db;
use crate::error::{Error, Result};

/// Most orders in one transaction.
const MAX_BATCH: usize = 128;

/// Orders waiting for a writer; beyond this, submitters wait (backpressure).
const QUEUE: usize = 4_096;

/// An order waiting for a writer; the reply hands the order back with what
/// its insert came to.
struct Pending {
    order: PreparedOrder,
    reply: oneshot::Sender<(PreparedOrder, Result<Option<super::Order>>)>,
}

/// The handle intake submits orders through. Cloning shares the writers; they
/// stop when the last handle is dropped.
#[derive(Clone)]
pub struct IntakeWriter {
    db: Db,
    queue: mpsc::Sender<Pending>,
}

impl IntakeWriter {
    /// Starts the writer tasks: one on SQLite (it has one writer anyway), two
    /// on PostgreSQL so one batch's round trips overlap the next's. Not more:
    /// under `wrk -c32` four writers split the orders into batches of about
    /// five, and each batch's statements cost PostgreSQL as much as its rows
    /// (`make bench`: machine CPU per order 254–332 µs with four, 208–253
    /// with two, the same p99).
    pub fn start(db: Db) -> Self {
        let writers = match db {
            Db::Sqlite(_) => 1,
            Db::Postgres(_) => 2,
        };
        let (queue, rx) = mpsc::channel(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..writers {
            tokio::spawn(write_batches(db.clone(), rx.clone()));
        }
        Self { db, queue }
    }

    /// Stores a prepared order (with its first send job) and says what intake
    /// did, once the transaction holding it has committed.
    pub async fn submit(&self, order: PreparedOrder) -> Result<Intake> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending { order, reply })
            .await
            .map_err(|_| Error::Internal("the intake writer has stopped".into()))?;
        let (order, stored) = answer
            .await
            .map_err(|_| Error::Internal("the intake writer dropped an order".into()))?;
        settle_intake(&self.db, &order, stored?).await
    }
}

/// One writer: takes whatever is queued (up to [`MAX_BATCH`]) and writes it
/// in one transaction, until every handle is gone.
async fn write_batches(db: Db, rx: Arc<Mutex<mpsc::Receiver<Pending>>>) {
    loop {
        let mut batch = Vec::new();
        {
            let mut rx = rx.lock().await;
            if rx.recv_many(&mut batch, MAX_BATCH).await == 0 {
                return;
            }
        }
        let orders: Vec<&PreparedOrder> = batch.iter().map(|p| &p.order).collect();
        let written = insert_prepared(&db, &orders).await;
        drop(orders);
        match written {
            Ok(stored) => {
                for (pending, row) in batch.into_iter().zip(stored) {
                    // The submitter may have gone (client hung up): the order stays stored.
                    let _ = pending.reply.send((pending.order, Ok(row)));
                }
            }
            Err(e) if batch.len() > 1 => {
                tracing::warn!(error = %e, orders = batch.len(), "intake batch failed; writing its orders one by one");
                for pending in batch {
                    let one = insert_prepared(&db, &[&pending.order]).await;
                    let _ = pending
                        .reply
                        .send((pending.order, one.map(|mut v| v.pop().flatten())));
                }
            }
            Err(e) => {
                if let Some(pending) = batch.pop() {
                    let _ = pending.reply.send((pending.order, Err(e)));
                }
            }
        }
    }
}
