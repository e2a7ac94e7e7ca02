//! The proof suite (issue 8): real `rebound serve` processes, a real SMTP
//! server on loopback, real databases, and the faults operators fear.
//! - 1,000 orders, the server SIGKILLed 10 times mid-sending: nothing lost;
//!   300 orders claimed one job at a time, 5 kills: at most one duplicate each.
//! - Two processes on one database (2,000 orders on SQLite and PostgreSQL;
//!   10,000 on PostgreSQL): no double send, none lost.
//! - PostgreSQL itself restarted mid-load (a private cluster, so nothing else
//!   is disturbed): the server reconnects on its own and loses nothing.
//!
//! Each test prints its numbers (`cargo test --test proof -- --nocapture`).
//! They share the machine's two cores, so they run one at a time.

mod support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use engine::testing::smtp_server::{Script, ScriptedSmtpServer};
use engine::testing::{TestDb, all_backends, postgres_admin_url};
use rand::{Rng, SeedableRng};
use support::serve::{
    Serve, count_states, free_port, per_order, post_orders, setup, wait_all_accepted,
};

/// One proof at a time: each one loads both cores on its own.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Orders still moving: anything that is not accepted or held.
fn in_flight(states: &HashMap<String, i64>) -> i64 {
    states
        .iter()
        .filter(|(s, _)| s.as_str() != "accepted" && s.as_str() != "held")
        .map(|(_, n)| n)
        .sum()
}

/// Held orders whose fallback has not run yet.
async fn held_without_fallback(t: &TestDb) -> i64 {
    engine::on_pool!(&t.db, p => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM orders WHERE state = 'held' AND fallback_path IS NULL"
    ).fetch_one(p).await)
    .expect("count")
}

/// The seed of the kill moments: `PROOF_SEED`, else a fresh one (printed).
fn kill_rng() -> rand::rngs::StdRng {
    let seed: u64 = std::env::var("PROOF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    println!("proof seed {seed} (PROOF_SEED={seed} repeats these kill moments)");
    rand::rngs::StdRng::seed_from_u64(seed)
}

/// One kill run: `n` orders (`bouncing` of them to a bad address) to a server
/// whose `loops` send loops claim `batch` jobs at a time, SIGKILLed `kills` times, each after a
/// random number of sends in `gap`, restarted each time. Asserts that nothing
/// is lost and that every order settles; returns the duplicate sends.
async fn kill_run(
    t: &TestDb,
    (n, bouncing, kills, batch, loops): (usize, usize, usize, i64, usize),
    gap: std::ops::Range<usize>,
    rng: &mut rand::rngs::StdRng,
) -> usize {
    let b = t.db.backend_name();
    let started = Instant::now();
    let smtp = ScriptedSmtpServer::start().await.expect("smtp");
    // Each RCPT takes 10 ms, so there is always a send in flight to kill.
    smtp.script(
        "crash@example.com",
        Script::DelayGreeting(Duration::from_millis(10)),
    );
    // Bad recipients: hard bounces, held, fallback to support.
    smtp.script(
        "gone@example.com",
        Script::RejectRcpt(550, "5.1.1 User unknown"),
    );
    let key = setup(t, &smtp).await;
    let loops_env = [("REBOUND_DELIVERY__SEND_LOOPS", loops.to_string())];
    let loops_env: Vec<(&str, &str)> = loops_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut serve = Serve::start_with(&t.url, batch, &loops_env).await;
    let bases = [serve.base.clone()];
    post_orders(&bases, &key, "KILL", n - bouncing, "crash@example.com").await;
    post_orders(&bases, &key, "GONE", bouncing, "gone@example.com").await;

    let mut at_kills = Vec::new();
    for _ in 0..kills {
        // A random number of sends after the (re)start, then SIGKILL.
        let after = smtp.received().len() + rng.random_range(gap.clone());
        smtp.wait_for(after, Duration::from_secs(60)).await;
        serve.kill();
        at_kills.push(smtp.received().len());
        serve = Serve::start_with(&t.url, batch, &loops_env).await;
    }
    let deadline = Instant::now() + Duration::from_secs(180);
    let states = loop {
        let states = count_states(t).await;
        if (in_flight(&states) == 0 && held_without_fallback(t).await == 0)
            || Instant::now() > deadline
        {
            break states;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let per = per_order(&smtp);
    let duplicates: usize = per.values().map(|c| c.saturating_sub(1)).sum();
    println!(
        "[{b}] {n} orders, {loops} loops x batch {batch}, {kills} SIGKILLs after {at_kills:?} received; states {states:?}; \
         distinct received {}; duplicate accepted sends {duplicates}; lost {}; {:.1} s",
        per.len(),
        n as i64 - states.values().sum::<i64>() + in_flight(&states),
        started.elapsed().as_secs_f64(),
    );
    assert!(
        at_kills.iter().all(|&k| k < n - bouncing),
        "[{b}] every kill must land while sending: {at_kills:?}"
    );
    assert_eq!(
        in_flight(&states),
        0,
        "[{b}] every order settled: {states:?}"
    );
    assert_eq!(
        states.get("accepted").copied(),
        Some((n - bouncing) as i64),
        "[{b}] {states:?}"
    );
    assert_eq!(
        states.get("held").copied(),
        (bouncing > 0).then_some(bouncing as i64),
        "[{b}] {states:?}"
    );
    assert_eq!(
        held_without_fallback(t).await,
        0,
        "[{b}] every held order has its fallback"
    );
    assert_eq!(per.len(), n - bouncing, "[{b}] no receipt lost");
    serve.kill();
    duplicates
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_kills_at_random_moments_lose_nothing() {
    let _one = SERIAL.lock().await;
    const KILLS: usize = 10;
    const BATCH: i64 = 4;
    const LOOPS: usize = 4;
    let mut rng = kill_rng();
    for t in all_backends().await {
        let b = t.db.backend_name();
        let duplicates = kill_run(&t, (1_000, 40, KILLS, BATCH, LOOPS), 10..60, &mut rng).await;
        // A send the relay accepted but whose outcome the killed process never
        // wrote is sent again after restart (same Message-ID): at most the
        // claimed batches per kill.
        assert!(
            duplicates <= KILLS * BATCH as usize * LOOPS,
            "[{b}] {duplicates} duplicates"
        );
        t.cleanup().await;
    }
}

/// With `delivery.batch_size = 1` and one send loop a worker holds one job at a time, so a kill
/// can leave at most one accepted-but-unrecorded send behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_job_per_claim_makes_at_most_one_duplicate_per_kill() {
    let _one = SERIAL.lock().await;
    const KILLS: usize = 5;
    let mut rng = kill_rng();
    let t = TestDb::sqlite().await.expect("sqlite test db");
    // At most 5 x 40 sends before the last kill: all land while sending.
    let duplicates = kill_run(&t, (300, 10, KILLS, 1, 1), 10..40, &mut rng).await;
    assert!(
        duplicates <= KILLS,
        "[sqlite] {duplicates} duplicates for {KILLS} kills with one job per claim"
    );
    t.cleanup().await;
}

/// Two `rebound serve` processes on one database take `n` orders posted to
/// both: every one accepted, none received twice, none lost.
async fn two_processes_send_exactly_once(t: &TestDb, n: usize, prefix: &str, wait_secs: u64) {
    let b = t.db.backend_name();
    let smtp = ScriptedSmtpServer::start().await.expect("smtp");
    let key = setup(t, &smtp).await;
    let one = Serve::start(&t.url, 16).await;
    let two = Serve::start(&t.url, 16).await;
    let started = Instant::now();
    let bases = [one.base.clone(), two.base.clone()];
    post_orders(&bases, &key, prefix, n, "two@example.com").await;
    let states = wait_all_accepted(t, n as i64, wait_secs).await;
    let per = per_order(&smtp);
    let doubles: usize = per.values().map(|c| c.saturating_sub(1)).sum();
    println!(
        "[{b}] two processes, {n} orders: states {states:?}, distinct received {}, \
         double sends {doubles}, lost {}, {:.1} s",
        per.len(),
        n - per.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        states.get("accepted").copied(),
        Some(n as i64),
        "[{b}] {states:?}"
    );
    assert_eq!(per.len(), n, "[{b}] no receipt lost");
    assert_eq!(doubles, 0, "[{b}] no receipt sent twice");
    one.kill();
    two.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_database_send_every_receipt_exactly_once() {
    let _one = SERIAL.lock().await;
    for t in all_backends().await {
        two_processes_send_exactly_once(&t, 2_000, "TWO", 120).await;
        t.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgresql_send_ten_thousand_receipts_exactly_once() {
    let _one = SERIAL.lock().await;
    let admin = postgres_admin_url()
        .await
        .expect("this proof needs PostgreSQL (REBOUND_TEST_POSTGRES_URL or 127.0.0.1:5432)");
    let t = TestDb::postgres(&admin).await.expect("postgres test db");
    two_processes_send_exactly_once(&t, 10_000, "TENK", 300).await;
    t.cleanup().await;
}

/// A PostgreSQL cluster of the test's own, in a temporary folder.
struct PrivatePostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl PrivatePostgres {
    fn bin_dir() -> PathBuf {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
            .unwrap_or_default();
        dirs.sort();
        dirs.pop()
            .filter(|d| d.join("initdb").exists())
            .expect("PostgreSQL server binaries under /usr/lib/postgresql/*/bin (Debian's postgresql package)")
    }

    /// A PostgreSQL tool; it refuses to run as root, so then it runs as `postgres`.
    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let status = self
            .command(tool)
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run a PostgreSQL tool");
        assert!(status.success(), "{tool} {args:?} failed: {status}");
    }

    fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("mkdir");
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(ok.success());
        }
        let pg = Self {
            bin: Self::bin_dir(),
            data,
            port: free_port(),
            _dir: dir,
        };
        let data = pg.data.display().to_string();
        pg.run(
            "initdb",
            &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        pg.pg_ctl(&["start", "-w"]);
        pg
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.data.display().to_string();
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port, data
        );
        let mut all = vec!["-D", &data, "-o", &opts, "-l"];
        let log = format!("{data}/server.log");
        all.push(&log);
        all.extend_from_slice(args);
        self.run("pg_ctl", &all);
    }

    fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .status();
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .is_some_and(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_mid_load_is_survived_without_help() {
    let _one = SERIAL.lock().await;
    const N: usize = 600;
    let pg = PrivatePostgres::start();
    let t = TestDb::postgres(&pg.admin_url()).await.expect("test db");
    let smtp = ScriptedSmtpServer::start().await.expect("smtp");
    smtp.script(
        "pgload@example.com",
        Script::DelayGreeting(Duration::from_millis(10)),
    );
    let key = setup(&t, &smtp).await;
    let serve = Serve::start(&t.url, 4).await;
    let bases = [serve.base.clone()];
    post_orders(&bases, &key, "PGR", N / 2, "pgload@example.com").await;
    smtp.wait_for(50, Duration::from_secs(60)).await;
    // A fast restart: every connection is cut, the server is gone for a moment.
    let restarted_at = smtp.received().len();
    pg.pg_ctl(&["restart", "-m", "fast", "-w"]);
    // Intake works again once the pool has reconnected (no restart of rebound).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = reqwest::get(format!("{}/readyz", serve.base))
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        if ready == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "readyz never came back after the restart"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    post_orders(&bases, &key, "PGR2", N / 2, "pgload@example.com").await;
    let states = wait_all_accepted(&t, N as i64, 180).await;
    let per = per_order(&smtp);
    let duplicates: usize = per.values().map(|c| c.saturating_sub(1)).sum();
    println!(
        "[postgres restart] {N} orders, restart after {restarted_at} sends: states {states:?}, \
         distinct received {}, duplicates {duplicates}, lost {}",
        per.len(),
        N - per.len()
    );
    assert!(restarted_at < N / 2, "the restart must land while sending");
    assert_eq!(
        states.get("accepted").copied(),
        Some(N as i64),
        "{states:?}"
    );
    assert_eq!(per.len(), N, "no receipt lost");
    // Outcomes being written when the connections were cut are retried: at most a batch.
    assert!(duplicates <= 4, "{duplicates} duplicates");
    serve.kill();
    drop(t);
}
