//! Graceful shutdown of a send worker (SIGTERM in `rebound serve`): it stops
//! claiming, lets the sends in flight finish within the grace period, and puts
//! back every job it still holds so another process takes it at once instead
//! of after the lease runs out. On both databases.

use engine::config::Config;
use engine::delivery::queue;
use engine::delivery::worker::Worker;
use engine::orders;
use engine::testing::all_backends;
use engine::testing::fixtures::{order, smtp_pool};
use engine::testing::smtp_server::{Script, ScriptedSmtpServer};
use engine::{Clock, Db, ManualClock};
use std::sync::Arc;
use std::time::Duration;

const T0: i64 = 1_800_000_000_000;

/// Two fast and three slow recipients in one batch; the slow ones hang at RCPT for `slow`.
async fn setup(db: &Db, smtp: &ScriptedSmtpServer, slow: Duration) -> Arc<Worker> {
    smtp_pool(db, T0, "primary", "primary", smtp.addr(), 0).await;
    for i in 0..2 {
        orders::intake(
            db,
            T0,
            order(&format!("F-{i}"), &format!("fast{i}@example.com")),
            None,
        )
        .await
        .expect("intake");
    }
    for i in 0..3 {
        let email = format!("slow{i}@example.com");
        smtp.script(&email, Script::DelayGreeting(slow));
        orders::intake(db, T0, order(&format!("S-{i}"), &email), None)
            .await
            .expect("intake");
    }
    let mut config = Config::default();
    config.delivery.smtp_timeout_seconds = 30;
    config.delivery.lease_seconds = 120;
    config.delivery.batch_size = 10;
    let clock = ManualClock::new(T0);
    Arc::new(Worker::new(db.clone(), Arc::new(clock) as Arc<dyn Clock>, &config).expect("worker"))
}

async fn jobs_by_state(db: &Db, owner: &str) -> (i64, i64, i64) {
    engine::on_pool!(db, p => sqlx::query_as::<_, (i64, i64, i64)>(
        "SELECT
           CAST(COALESCE(SUM(CASE WHEN lease_owner = $1 THEN 1 ELSE 0 END), 0) AS BIGINT),
           CAST(COALESCE(SUM(CASE WHEN state = 'running' THEN 1 ELSE 0 END), 0) AS BIGINT),
           CAST(COALESCE(SUM(CASE WHEN state = 'queued' THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM jobs"
    ).bind(owner).fetch_one(p).await)
    .expect("jobs")
}

async fn state_of(db: &Db, number: &str) -> String {
    orders::find_by_number(db, number)
        .await
        .expect("query")
        .expect("order")
        .state
}

#[tokio::test]
async fn a_worker_stopped_mid_batch_leaves_no_job_leased_to_it() {
    for t in all_backends().await {
        let db = &t.db;
        let smtp = ScriptedSmtpServer::start().await.expect("smtp");
        let worker = setup(db, &smtp, Duration::from_secs(20)).await;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let running = tokio::spawn(
            worker
                .clone()
                .run_graceful(stop_rx, Duration::from_millis(300)),
        );
        // The fast two arrive while the slow three hang mid-conversation.
        assert_eq!(smtp.wait_for(2, Duration::from_secs(10)).await.len(), 2);
        let mut held = (0, 0, 0);
        for _ in 0..50 {
            held = jobs_by_state(db, worker.id()).await;
            if held.0 == 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            held.0, 3,
            "the slow jobs are leased to this worker mid-batch"
        );
        assert!(worker.heartbeat.is_fresh(T0, 30_000), "the loop beat");

        let started = std::time::Instant::now();
        stop_tx.send(true).expect("stop");
        let released = tokio::time::timeout(Duration::from_secs(10), running)
            .await
            .expect("stops within the grace period, not after the 20 s sends")
            .expect("task");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(released, 3, "every job still in hand put back");
        let (owned, running, queued) = jobs_by_state(db, worker.id()).await;
        assert_eq!(
            owned,
            0,
            "[{}] no job leased to the stopped worker",
            db.backend_name()
        );
        assert_eq!(running, 0);
        assert_eq!(queued, 3);
        for i in 0..2 {
            assert_eq!(state_of(db, &format!("F-{i}")).await, "accepted");
        }
        // Another process takes them now, at the same instant, not after the lease.
        let taken = queue::claim(db, T0, "other-worker", 120_000, 10)
            .await
            .expect("claim");
        assert_eq!(taken.len(), 3);
        smtp.shutdown();
        t.cleanup().await;
    }
}

#[tokio::test]
async fn sends_in_flight_finish_within_the_grace_period() {
    for t in all_backends().await {
        let db = &t.db;
        let smtp = ScriptedSmtpServer::start().await.expect("smtp");
        let worker = setup(db, &smtp, Duration::from_millis(800)).await;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let running = tokio::spawn(
            worker
                .clone()
                .run_graceful(stop_rx, Duration::from_secs(15)),
        );
        assert_eq!(smtp.wait_for(2, Duration::from_secs(10)).await.len(), 2);
        stop_tx.send(true).expect("stop");
        let released = tokio::time::timeout(Duration::from_secs(20), running)
            .await
            .expect("stops")
            .expect("task");
        assert_eq!(released, 0, "nothing left to put back");
        assert_eq!(smtp.received().len(), 5, "the slow sends were let finish");
        for n in ["F-0", "F-1", "S-0", "S-1", "S-2"] {
            assert_eq!(state_of(db, n).await, "accepted", "{n}");
        }
        let (owned, running, queued) = jobs_by_state(db, worker.id()).await;
        assert_eq!((owned, running, queued), (0, 0, 0));
        smtp.shutdown();
        t.cleanup().await;
    }
}

/// A live worker renews the leases of the batch in hand (every third of a
/// lease), so a slow send outlives its first lease without another worker
/// taking the job; once the batch is done nothing is renewed any more.
#[tokio::test]
async fn a_live_worker_renews_its_leases_while_a_slow_send_runs() {
    for t in all_backends().await {
        let db = &t.db;
        let b = db.backend_name();
        let smtp = ScriptedSmtpServer::start().await.expect("smtp");
        smtp_pool(db, T0, "primary", "primary", smtp.addr(), 0).await;
        smtp.script(
            "slow@example.com",
            Script::DelayGreeting(Duration::from_secs(3)),
        );
        orders::intake(db, T0, order("R-1", "slow@example.com"), None)
            .await
            .expect("intake");
        let mut config = Config::default();
        config.delivery.lease_seconds = 3;
        config.delivery.smtp_timeout_seconds = 30;
        let clock = ManualClock::new(T0);
        let dyn_clock = Arc::new(clock.clone()) as Arc<dyn Clock>;
        let worker = Arc::new(Worker::new(db.clone(), dyn_clock.clone(), &config).expect("worker"));
        let other = Worker::new(db.clone(), dyn_clock, &config).expect("worker");
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let running = tokio::spawn(worker.clone().run(stop_rx));
        let mut held = (0, 0, 0);
        for _ in 0..50 {
            held = jobs_by_state(db, worker.id()).await;
            if held.0 == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(held.0, 1, "[{b}] the slow job is leased");
        // Past a third of the lease: the next look renews it to now + 3 s.
        clock.advance_ms(2_000);
        tokio::time::sleep(Duration::from_millis(400)).await;
        // Past the first lease (T0 + 3 s), within the renewed one (T0 + 5 s).
        clock.advance_ms(2_000);
        let taken = queue::claim(db, clock.now_ms(), other.id(), 3_000, 10)
            .await
            .expect("claim");
        assert!(taken.is_empty(), "[{b}] a renewed lease is not taken over");
        assert_eq!(smtp.wait_for(1, Duration::from_secs(10)).await.len(), 1);
        for _ in 0..50 {
            if state_of(db, "R-1").await == "accepted" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(state_of(db, "R-1").await, "accepted", "[{b}]");
        stop_tx.send(true).expect("stop");
        running.await.expect("worker");
        t.cleanup().await;
    }
}
