//! Reputation protection end to end, on both databases, through real SMTP
//! servers on loopback and the real worker, with the injected clock:
//! - a burst of high-risk VPN orders to Gmail is routed to the pool that
//!   accepts VPN → Gmail, and spread (max sends per second, measured);
//! - a pool crossing 10 % bounces is paused by the health guard (audited,
//!   alerted), and no retry or fallback re-send uses it afterwards;
//! - a provider's "unusual rate" deferral slows that pool → provider pair;
//! - a relay that is down, slow (10 s greeting) or dropping connections:
//!   sends time out, no job is left stuck, the pool is marked unreachable and
//!   routed around, and restored once its relay answers again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::config::{Config, NetworkListConfig};
use engine::delivery::attempts::attempts;
use engine::delivery::pools;
use engine::delivery::worker::Worker;
use engine::delivery::{guard, pace};
use engine::orders;
use engine::periodic::Periodic;
use engine::testing::smtp_server::{Script, ScriptedSmtpServer};
use engine::testing::{all_backends, fixtures};
use engine::{Clock, Db, ManualClock};

const T0: i64 = 1_800_000_000_000;
const MIN: i64 = 60_000;

fn order(number: &str, email: &str, ip: Option<&str>) -> engine::orders::ValidOrder {
    fixtures::order_from(number, email, ip)
}

async fn pool(db: &Db, name: &str, role: &str, smtp: &ScriptedSmtpServer, position: i64) -> i64 {
    fixtures::smtp_pool(db, T0, name, role, smtp.addr(), position).await
}

/// Short SMTP timeouts; pacing at `per_second` with a burst of `burst`.
fn config(per_second: f64, burst: i64) -> Config {
    let mut config = Config::default();
    config.delivery.smtp_timeout_seconds = 5;
    config.delivery.lease_seconds = 60;
    config.pace.per_provider_per_second = per_second;
    config.pace.burst = burst;
    config
}

/// A primary and a backup pool, each on its own test SMTP server.
async fn two_pools(db: &Db) -> (ScriptedSmtpServer, ScriptedSmtpServer, i64, i64) {
    let primary_smtp = ScriptedSmtpServer::start().await.expect("smtp");
    let backup_smtp = ScriptedSmtpServer::start().await.expect("smtp");
    let primary = pool(db, "primary", "primary", &primary_smtp, 0).await;
    let backup = pool(db, "backup", "backup", &backup_smtp, 1).await;
    (primary_smtp, backup_smtp, primary, backup)
}

fn worker(db: &Db, clock: &ManualClock, config: &Config) -> Worker {
    Worker::new(
        db.clone(),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
        config,
    )
    .expect("worker")
}

async fn states(db: &Db) -> BTreeMap<String, i64> {
    let rows: Vec<(String, i64)> = engine::on_pool!(db, p => sqlx::query_as(
        "SELECT state, COUNT(*) FROM orders GROUP BY state"
    ).fetch_all(p).await)
    .expect("states");
    rows.into_iter().collect()
}

/// Attempt start times (clock ms) per pool.
async fn starts(db: &Db) -> Vec<(i64, i64)> {
    engine::on_pool!(db, p => sqlx::query_as(
        "SELECT pool_id, started_at FROM delivery_attempts ORDER BY started_at"
    ).fetch_all(p).await)
    .expect("starts")
}

/// The most sends that started within any one second.
fn max_per_second(times: &[i64]) -> usize {
    let mut best = 0;
    for (i, t) in times.iter().enumerate() {
        let n = times[i..].iter().take_while(|u| **u < t + 1000).count();
        best = best.max(n);
    }
    best
}

/// Drives the worker with the clock stepping `step_ms` until nothing is left
/// queued or `max_steps` is reached.
async fn drive(w: &Worker, clock: &ManualClock, db: &Db, step_ms: i64, max_steps: usize) {
    for _ in 0..max_steps {
        w.run_once().await.expect("run");
        let left = states(db).await;
        if left.keys().all(|s| s == "accepted" || s == "held") {
            return;
        }
        clock.advance_ms(step_ms);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vpn_burst_to_gmail_is_routed_to_the_better_pool_and_spread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = dir.path().join("vpn.txt");
    std::fs::write(&list, "203.0.113.0/24 Example VPN\n").expect("list");
    let mut config = config(10.0, 5);
    config.risk.network_lists = vec![NetworkListConfig {
        path: list,
        kind: "vpn".into(),
    }];
    for t in all_backends().await {
        let db = &t.db;
        let clock = ManualClock::new(T0);
        let (primary_smtp, backup_smtp, primary, backup) = two_pools(db).await;
        // History: VPN → Gmail bounces on the primary, arrives on the backup.
        let today = T0.div_euclid(engine::stats::DAY_MS);
        for (p, network, sent, bounced) in [
            (primary, "vpn", 300, 150),
            (primary, "residential", 3000, 30),
            (backup, "vpn", 200, 2),
            (backup, "residential", 500, 5),
        ] {
            fixtures::seed_rollup(db, today, p, "gmail", network, sent, bounced).await;
        }
        let assessor = engine::risk::Assessor::new(&config.risk).expect("assessor");
        const N: usize = 30;
        for i in 0..N {
            let o = order(
                &format!("VPN-{i}"),
                &format!("buyer{i}@gmail.com"),
                Some("203.0.113.9"),
            );
            let risk = assessor
                .assess(
                    db,
                    T0,
                    o.client_ip.as_deref(),
                    &o.customer_email,
                    &engine::stats::RiskHistory,
                )
                .await
                .expect("assess");
            assert!(
                risk.high,
                "a VPN order to Gmail with that history is high risk: {risk:?}"
            );
            assert_eq!(
                risk.route_pool_id,
                Some(backup),
                "routed to the pool that delivers VPN → Gmail"
            );
            orders::intake_assessed(db, T0, o, None, Some(&risk))
                .await
                .expect("intake");
        }
        let w = worker(db, &clock, &config);
        drive(&w, &clock, db, 100, 200).await;
        assert_eq!(
            states(db).await.get("accepted").copied(),
            Some(N as i64),
            "all sent"
        );
        let started = starts(db).await;
        assert!(
            started.iter().all(|(p, _)| *p == backup),
            "every first attempt on the backup"
        );
        assert_eq!(backup_smtp.received().len(), N);
        assert!(primary_smtp.received().is_empty());
        let times: Vec<i64> = started.iter().map(|(_, t)| *t).collect();
        let peak = max_per_second(&times);
        let span = times.last().copied().unwrap_or(T0) - times.first().copied().unwrap_or(T0);
        println!(
            "[{}] {N} VPN orders to Gmail, paced at 10/s (burst 5): max {peak} sends in any second, spread over {:.1} s",
            t.db.backend_name(),
            span as f64 / 1000.0
        );
        // A burst of 5, then one per 100 ms: at most 5 + 9 in the first second.
        assert!(peak <= 14, "spread: {peak} sends in one second");
        assert!(
            span >= 2_400,
            "30 sends at 10/s after a burst of 5 take 2.5 s: {span} ms"
        );
        t.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_over_ten_percent_bounces_is_paused_and_no_retry_uses_it() {
    let config = config(200.0, 400);
    for t in all_backends().await {
        let db = &t.db;
        let clock = ManualClock::new(T0);
        let (primary_smtp, backup_smtp, primary, backup) = two_pools(db).await;
        // 12 of 100 addresses do not exist on the primary's side: 12 % bounces.
        for i in 0..12 {
            primary_smtp.script(
                &format!("gone{i}@example.com"),
                Script::RejectRcpt(550, "5.1.1 User unknown"),
            );
        }
        // One address is deferred on the primary: it will need a retry after the pause.
        primary_smtp.script(
            "later@example.com",
            Script::RejectRcpt(451, "4.3.0 Try again later"),
        );
        for i in 0..12 {
            orders::intake(
                db,
                T0,
                order(&format!("G-{i}"), &format!("gone{i}@example.com"), None),
                None,
            )
            .await
            .expect("intake");
        }
        for i in 0..87 {
            orders::intake(
                db,
                T0,
                order(&format!("OK-{i}"), &format!("ok{i}@example.com"), None),
                None,
            )
            .await
            .expect("intake");
        }
        orders::intake(db, T0, order("LATER", "later@example.com", None), None)
            .await
            .expect("intake");
        let w = worker(db, &clock, &config);
        for _ in 0..10 {
            w.run_once().await.expect("run");
        }
        assert_eq!(primary_smtp.received().len(), 87);
        let rates = guard::rates(db, clock.now_ms(), false)
            .await
            .expect("rates");
        let p = rates
            .iter()
            .find(|r| r.pool_id == primary)
            .expect("primary rates");
        assert_eq!(
            (
                p.windows[0].sends,
                p.windows[0].bounces,
                p.windows[0].deferrals
            ),
            (100, 12, 1)
        );

        // The guard runs in the worker's tick: the primary is paused, audited and alerted.
        w.run_once().await.expect("send");
        Periodic::for_worker(&w)
            .tick()
            .await
            .expect("periodic round");
        let pools_now = pools::list(db).await.expect("pools");
        let pr = pools_now.iter().find(|p| p.id == primary).expect("primary");
        assert!(!pr.enabled, "paused");
        assert_eq!(pr.health_state, "paused");
        let reason = pr.health_reason.clone().unwrap_or_default();
        assert!(reason.contains("bounce rate 12.00 %"), "{reason}");
        let alerts = guard::alerts(db).await.expect("alerts");
        assert_eq!(
            alerts.iter().map(|p| p.id).collect::<Vec<_>>(),
            vec![primary]
        );
        let audit: Vec<(String, String)> = engine::on_pool!(db, q => sqlx::query_as(
            "SELECT action, target FROM audit_log WHERE actor = 'system' ORDER BY id"
        ).fetch_all(q).await)
        .expect("audit");
        assert_eq!(
            audit,
            vec![("pool.auto_pause".to_string(), "pool primary".to_string())]
        );
        // A second pass changes (and audits) nothing.
        assert!(
            guard::run(db, clock.now_ms(), &config.pool_health)
                .await
                .expect("guard")
                .is_empty()
        );

        // The deferred order's retries (5 min, 30 min) never touch the paused primary.
        backup_smtp.script_sequence(
            "later@example.com",
            vec![
                Script::RejectRcpt(451, "4.3.0 Try again later"),
                Script::Accept,
            ],
        );
        for step in [5 * MIN, 30 * MIN] {
            clock.advance_ms(step + 1000);
            w.run_once().await.expect("run");
        }
        let o = orders::find_by_number(db, "LATER")
            .await
            .expect("q")
            .expect("order");
        let tried: Vec<(i64, i64)> = attempts(db, o.id)
            .await
            .expect("attempts")
            .iter()
            .map(|a| (a.attempt_no, a.pool_id))
            .collect();
        assert_eq!(
            tried,
            vec![(1, primary), (2, backup), (3, backup)],
            "retries only on the backup"
        );
        assert_eq!(o.state, "accepted");

        // An admin resumes it: rates start over, so the guard leaves it alone.
        pools::set_enabled(db, clock.now_ms(), primary, true)
            .await
            .expect("resume");
        assert!(
            guard::run(db, clock.now_ms() + 1, &config.pool_health)
                .await
                .expect("guard")
                .is_empty()
        );
        let pr = pools::get(db, primary).await.expect("q").expect("pool");
        assert!(pr.enabled && pr.health_state == "ok");
        t.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusual_rate_deferral_slows_that_pool_for_that_provider() {
    let config = config(10.0, 10);
    for t in all_backends().await {
        let db = &t.db;
        let clock = ManualClock::new(T0);
        let smtp = ScriptedSmtpServer::start().await.expect("smtp");
        let primary = pool(db, "primary", "primary", &smtp, 0).await;
        smtp.script(
            "first@gmail.com",
            Script::RejectRcpt(421, "4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address."),
        );
        orders::intake(db, T0, order("R-0", "first@gmail.com", None), None)
            .await
            .expect("intake");
        let w = worker(db, &clock, &config);
        w.run_once().await.expect("run");
        let slowed = pace::slowed(db, clock.now_ms()).await.expect("slowed");
        assert_eq!(slowed.len(), 1, "{slowed:?}");
        assert_eq!(
            (slowed[0].pool_id, slowed[0].provider.as_str()),
            (primary, "gmail")
        );
        assert_eq!(slowed[0].slow_rule.as_deref(), Some("gmail-unusual-rate"));
        assert_eq!(slowed[0].slow_until, clock.now_ms() + 60 * MIN);
        let audited: Vec<(String, String)> = engine::on_pool!(db, q => sqlx::query_as(
            "SELECT target, detail FROM audit_log WHERE action = 'pool.slowed'"
        ).fetch_all(q).await)
        .expect("audit");
        assert_eq!(audited.len(), 1);
        assert_eq!(audited[0].0, "pool primary → gmail");
        assert!(
            audited[0].1.contains("rule gmail-unusual-rate: 4× slower"),
            "{}",
            audited[0].1
        );

        // Ten more Gmail orders now go one per 400 ms (4 × 100 ms, no burst);
        // ten to another provider still go at once.
        for i in 0..10 {
            orders::intake(
                db,
                T0,
                order(&format!("G-{i}"), &format!("g{i}@gmail.com"), None),
                None,
            )
            .await
            .expect("intake");
            orders::intake(
                db,
                T0,
                order(&format!("O-{i}"), &format!("o{i}@example.com"), None),
                None,
            )
            .await
            .expect("intake");
        }
        w.run_once().await.expect("run");
        let others = smtp
            .received()
            .iter()
            .filter(|m| m.rcpt_to.iter().any(|r| r.ends_with("@example.com")))
            .count();
        assert_eq!(
            others, 10,
            "the other provider's sends are not slowed: all 10 at once"
        );
        let gmail_times: Vec<i64> = {
            for _ in 0..60 {
                clock.advance_ms(100);
                w.run_once().await.expect("run");
            }
            engine::on_pool!(db, q => sqlx::query_scalar(
                "SELECT a.started_at FROM delivery_attempts a JOIN orders o ON o.id = a.order_id
                 WHERE o.order_number LIKE 'G-%' ORDER BY a.started_at"
            ).fetch_all(q).await)
            .expect("times")
        };
        assert_eq!(gmail_times.len(), 10, "every Gmail order sent in the end");
        let gaps: Vec<i64> = gmail_times.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            gaps.iter().all(|g| *g >= 400),
            "slowed to one per 400 ms: {gaps:?}"
        );
        println!("[{}] slowed pair gaps (ms): {gaps:?}", t.db.backend_name());
        t.cleanup().await;
    }
}

/// Orders not yet settled: anything that is not accepted or held.
async fn unsettled(db: &Db) -> i64 {
    states(db)
        .await
        .iter()
        .filter(|(s, _)| *s != "accepted" && *s != "held")
        .map(|(_, n)| n)
        .sum()
}

/// Jobs some worker still holds a lease on.
async fn leased_jobs(db: &Db) -> i64 {
    engine::on_pool!(db, p => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM jobs WHERE state = 'running'"
    ).fetch_one(p).await)
    .expect("jobs")
}

/// (relay down since, why) of a pool.
async fn relay_state(db: &Db, id: i64) -> (Option<i64>, Option<String>) {
    let p = pools::get(db, id).await.expect("q").expect("pool");
    (p.relay_down_since, p.relay_reason)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_down_slow_or_dropping_is_routed_around_and_restored() {
    let mut config = config(200.0, 400);
    config.delivery.smtp_timeout_seconds = 1;
    config.pool_health.relay_failures = 3;
    for t in all_backends().await {
        let db = &t.db;
        let b = db.backend_name();
        let clock = ManualClock::new(T0);
        let (primary_smtp, backup_smtp, primary, backup) = two_pools(db).await;
        let w = worker(db, &clock, &config);
        let periodic = Periodic::for_worker(&w);

        // Down: the primary's relay stops listening (connection refused).
        let primary_addr = primary_smtp.addr();
        primary_smtp.shutdown();
        for i in 0..3 {
            orders::intake(
                db,
                clock.now_ms(),
                order(&format!("DOWN-{i}"), &format!("down{i}@example.com"), None),
                None,
            )
            .await
            .expect("intake");
        }
        w.run_once().await.expect("run");
        assert_eq!(leased_jobs(db).await, 0, "[{b}] nothing stuck");
        assert_eq!(states(db).await.get("retry_scheduled"), Some(&3), "[{b}]");
        let changes = periodic.check_relays(clock.now_ms()).await.expect("relays");
        assert_eq!(changes.len(), 1, "[{b}] {changes:?}");
        let (down, reason) = relay_state(db, primary).await;
        assert_eq!(down, Some(clock.now_ms()), "[{b}] unreachable");
        assert!(
            reason
                .unwrap_or_default()
                .contains("no SMTP answer to the last 3"),
            "[{b}]"
        );
        assert!(
            guard::alerts(db)
                .await
                .expect("alerts")
                .iter()
                .any(|p| p.id == primary),
            "[{b}] alerted"
        );
        // The rates guard has nothing to say about it (no bounces).
        assert!(
            guard::run(db, clock.now_ms(), &config.pool_health)
                .await
                .expect("guard")
                .is_empty()
        );
        // Still down: the probe fails, nothing changes.
        assert!(
            periodic
                .check_relays(clock.now_ms())
                .await
                .expect("relays")
                .is_empty(),
            "[{b}]"
        );

        // Routed around: a new order goes to the backup first; the retries too.
        orders::intake(
            db,
            clock.now_ms(),
            order("AROUND", "around@example.com", None),
            None,
        )
        .await
        .expect("intake");
        w.run_once().await.expect("run");
        clock.advance_ms(5 * MIN + 1000);
        w.run_once().await.expect("run");
        assert_eq!(unsettled(db).await, 0, "[{b}] {:?}", states(db).await);
        assert_eq!(backup_smtp.received().len(), 4, "[{b}]");
        let around = orders::find_by_number(db, "AROUND")
            .await
            .expect("q")
            .expect("order");
        let tried: Vec<i64> = attempts(db, around.id)
            .await
            .expect("a")
            .iter()
            .map(|a| a.pool_id)
            .collect();
        assert_eq!(
            tried,
            vec![backup],
            "[{b}] the unreachable primary is tried last"
        );

        // Back up on the same address: the probe restores the pool (audited).
        let primary_smtp = ScriptedSmtpServer::start_on(primary_addr)
            .await
            .expect("smtp again");
        let changes = periodic.check_relays(clock.now_ms()).await.expect("relays");
        assert_eq!(
            changes.iter().map(|c| c.state).collect::<Vec<_>>(),
            vec!["answering"],
            "[{b}]"
        );
        assert_eq!(relay_state(db, primary).await, (None, None), "[{b}]");
        let audit: Vec<String> = engine::on_pool!(db, q => sqlx::query_scalar(
            "SELECT action FROM audit_log WHERE actor = 'system' ORDER BY id"
        ).fetch_all(q).await)
        .expect("audit");
        assert_eq!(
            audit,
            vec!["pool.relay_unreachable", "pool.relay_restored"],
            "[{b}]"
        );
        orders::intake(
            db,
            clock.now_ms(),
            order("BACK", "back@example.com", None),
            None,
        )
        .await
        .expect("intake");
        w.run_once().await.expect("run");
        assert_eq!(
            primary_smtp.received().len(),
            1,
            "[{b}] the primary sends again"
        );

        // Slow: a 10 s greeting against a 1 s timeout. The attempt gives up
        // near the timeout, the job is released and retried on the backup.
        primary_smtp.set_greeting_delay(Duration::from_secs(10));
        // The worker's idle connection from before would skip the greeting.
        primary_smtp.close_connections();
        orders::intake(
            db,
            clock.now_ms(),
            order("SLOW", "slow@example.com", None),
            None,
        )
        .await
        .expect("intake");
        let started = Instant::now();
        w.run_once().await.expect("run");
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(5),
            "[{b}] gave up after {took:?}"
        );
        assert_eq!(leased_jobs(db).await, 0, "[{b}] nothing stuck");
        primary_smtp.set_greeting_delay(Duration::ZERO);

        // Dropping: the relay hangs up at RCPT.
        primary_smtp.script("dropped@example.com", Script::CloseAtRcpt);
        orders::intake(
            db,
            clock.now_ms(),
            order("DROP", "dropped@example.com", None),
            None,
        )
        .await
        .expect("intake");
        w.run_once().await.expect("run");
        assert_eq!(leased_jobs(db).await, 0, "[{b}] nothing stuck");
        for number in ["SLOW", "DROP"] {
            let o = orders::find_by_number(db, number)
                .await
                .expect("q")
                .expect("order");
            assert_eq!(o.state, "retry_scheduled", "[{b}] {number}");
            let a = attempts(db, o.id).await.expect("a");
            assert_eq!(
                a[0].reason.as_deref(),
                Some("networkerror"),
                "[{b}] {number}: {a:?}"
            );
        }
        clock.advance_ms(5 * MIN + 1000);
        w.run_once().await.expect("run");
        assert_eq!(unsettled(db).await, 0, "[{b}] {:?}", states(db).await);
        assert_eq!(
            backup_smtp.received().len(),
            6,
            "[{b}] SLOW and DROP arrived through the backup"
        );
        t.cleanup().await;
    }
}
