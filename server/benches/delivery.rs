//! Delivery benchmark: a binary that prints one table (not a timed test).
//!
//! `CARGO_TARGET_DIR=/tmp/bench-target cargo bench -p server --bench delivery -j 1`
//!
//! 1. Intake: `POST /api/v1/orders` through the real router (API key, validation, the
//!    order + job + timeline inserts), closed loop at a fixed concurrency, against a bare
//!    axum handler that inserts one row with sqlx into a fresh database of the same kind
//!    (the ceiling), served the same way on another loopback port, with the same client.
//!    No send worker runs. Then p99 at a fixed offered load (open loop) on SQLite.
//!
//!    Then intake with every risk source loaded (a 50,000-network VPN list, a datacenter
//!    list, a disposable-domain list, rollup history for the learned factors) against the
//!    same router with none, same run, same bodies (half from VPN addresses): the cost of
//!    scoring at checkout. Target: at least 0.90× (under 10 % slower).
//! 2. Dispatch: queued → accepted through the real queue, worker and state writes into
//!    Postfix's `smtp-sink`, against the fastest raw lettre loop (8 tasks, each with its
//!    own lettre connection over a `TCP_NODELAY` socket, pushing one pre-built message
//!    with lettre's own conversation; as many connections as the pipeline's pool has,
//!    `REBOUND_BENCH_CONNS` sets both) into the same sink. Rebound's own `Sender` (which
//!    pipelines the conversation) pushing the same message is measured beside it. Both are warmed up first (the
//!    pipeline by sending 1,000 orders). Then five rounds of 4,000 orders, a raw run
//!    between each two: each round is held to the faster raw run beside it, and the
//!    row is the median round (this machine's speed drifts). The pipeline is the send
//!    worker's own loop (`Worker::run`) with the default `delivery.send_loops` and
//!    `batch_size`, as `rebound serve` runs it.
//! 3. Peak RSS of this process.
//!
//! The servers, the load generator and the SMTP client all share this one process (and,
//! on this machine, two cores), so every number is a lower bound for the server alone.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use engine::delivery::message::{ReceiptEmail, build};
use engine::delivery::pools::{self, NewPool};
use engine::delivery::relay_url::RelayUrl;
use engine::delivery::smtp::{Envelope, SendOutcome, Sender};
use engine::delivery::worker::Worker;
use engine::orders::OrderInput;
use engine::testing::TestDb;
use engine::{Clock, Config, Db, SystemClock};
use futures::StreamExt;
use serde_json::json;
use tokio::task::JoinSet;

/// Requests in flight in the closed-loop intake runs.
const CONCURRENCY: usize = 32;
/// Unmeasured requests before each closed-loop measurement.
const WARMUP: usize = 500;
/// Measured requests per closed-loop run.
const REQUESTS: usize = 5_000;
/// Upper bound on one closed-loop run.
const RUN_CAP: Duration = Duration::from_secs(60);
/// Offered load of the open-loop run, requests per second.
const OFFERED_RATE: f64 = 2_000.0;
/// Length of the open-loop run.
const OFFERED_FOR: Duration = Duration::from_secs(5);
/// The open-loop run drops (and counts) requests beyond this many outstanding.
const MAX_OUTSTANDING: usize = 2_048;
/// Orders queued for the measured dispatch run (`REBOUND_BENCH_ORDERS` overrides).
const DISPATCH_ORDERS: usize = 4_000;
/// Orders sent before the measured dispatch run (not measured).
const DISPATCH_WARMUP: usize = 1_000;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn dispatch_orders() -> usize {
    env_or("REBOUND_BENCH_ORDERS", DISPATCH_ORDERS)
}

/// Measured dispatch rounds (`REBOUND_BENCH_ROUNDS` overrides; at least 1).
const DISPATCH_ROUNDS: usize = 5;

fn dispatch_rounds() -> usize {
    env_or("REBOUND_BENCH_ROUNDS", DISPATCH_ROUNDS).max(1)
}

/// Sender pool `max_per_second` (→ connections to the relay).
const POOL_RATE: i64 = 8;

/// Upper bound on one dispatch run.
const DISPATCH_CAP: Duration = Duration::from_secs(90);
const SMTP_SINK: &str = "/usr/sbin/smtp-sink";

// ---------------------------------------------------------------------------------------
// Output

struct Row {
    bench: String,
    backend: String,
    result: String,
    baseline: String,
    ratio: String,
    notes: String,
}

impl Row {
    fn new(bench: &str, backend: &str) -> Self {
        Self {
            bench: bench.to_string(),
            backend: backend.to_string(),
            result: String::new(),
            baseline: String::new(),
            ratio: String::new(),
            notes: String::new(),
        }
    }

    fn skipped(bench: &str, backend: &str, why: &str) -> Self {
        let mut r = Self::new(bench, backend);
        r.result = "SKIPPED".to_string();
        r.notes = why.to_string();
        r
    }
}

fn print_table(rows: &[Row]) {
    let header = Row {
        bench: "benchmark".into(),
        backend: "backend".into(),
        result: "result".into(),
        baseline: "baseline".into(),
        ratio: "ratio".into(),
        notes: "notes".into(),
    };
    let all: Vec<&Row> = std::iter::once(&header).chain(rows.iter()).collect();
    let w = |f: fn(&Row) -> &str| all.iter().map(|r| f(r).chars().count()).max().unwrap_or(0);
    let (wb, wk, wr, wl, wx) = (
        w(|r| &r.bench),
        w(|r| &r.backend),
        w(|r| &r.result),
        w(|r| &r.baseline),
        w(|r| &r.ratio),
    );
    println!();
    for (i, r) in all.iter().enumerate() {
        let line = format!(
            "{:<wb$}  {:<wk$}  {:<wr$}  {:<wl$}  {:<wx$}  {}",
            r.bench, r.backend, r.result, r.baseline, r.ratio, r.notes
        );
        println!("{}", line.trim_end());
        if i == 0 {
            println!("{}", "-".repeat(line.trim_end().chars().count()));
        }
    }
    println!();
}

/// `12345.6` → `12,346`.
fn thousands(x: f64) -> String {
    let n = x.round().max(0.0) as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 1.0 {
        format!("{v:.2} ms")
    } else if v < 100.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.0} ms")
    }
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}x", a / b)
    } else {
        "n/a".to_string()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Progress on stderr, stamped with the wall clock (seconds since the epoch), so a
/// profile taken with `perf record -k realtime` can be cut to one phase (`--time`).
fn progress(msg: &str) {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    eprintln!("[bench {t:.3}] {msg}");
}

// ---------------------------------------------------------------------------------------
// Backends and servers

#[derive(Clone)]
enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    async fn fresh_db(&self) -> TestDb {
        match self {
            Backend::Sqlite => TestDb::sqlite()
                .await
                .expect("create a SQLite database in the temp dir"),
            Backend::Postgres(url) => TestDb::postgres(url)
                .await
                .unwrap_or_else(|e| panic!("create a PostgreSQL database at {url}: {e}")),
        }
    }
}

fn bench_config() -> Config {
    let mut config = Config::default();
    config.demo.create_admin = false;
    // The worker runs as `rebound serve` runs it, with the configured send
    // loops and batch size (`REBOUND_BENCH_LOOPS` / `_BATCH`, for experiments).
    config.delivery.send_loops = env_or("REBOUND_BENCH_LOOPS", config.delivery.send_loops);
    config.delivery.batch_size = env_or("REBOUND_BENCH_BATCH", config.delivery.batch_size);
    // Dispatch measures the pipeline's ceiling, not the per-provider spreading policy
    // (which would cap one pool → one provider at 200/s by design).
    config.pace.per_provider_per_second = 100_000.0;
    config.pace.burst = 100_000;
    config
}

struct Served {
    base: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    async fn start(router: Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the HTTP server");
        let addr = listener
            .local_addr()
            .expect("local address of the listener");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server::http::serve(listener, router, async move {
            let _ = rx.await;
        }));
        Self {
            base: format!("http://{addr}"),
            shutdown: Some(tx),
            task,
        }
    }

    async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Keep-alive connections may hold graceful shutdown open; do not wait long.
        if tokio::time::timeout(Duration::from_secs(2), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

/// The real app (pages, API, middleware), exactly as `rebound serve` builds it, minus the
/// send worker: the `wake` it pokes has no listener.
async fn start_rebound(db: &Db) -> (Served, String) {
    start_rebound_with(db, Arc::new(engine::risk::Assessor::without_sources())).await
}

async fn start_rebound_with(db: &Db, risk: Arc<engine::risk::Assessor>) -> (Served, String) {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let state = app::ssr::AppState {
        db: db.clone(),
        config: Arc::new(bench_config()),
        clock: clock.clone(),
        risk,
    };
    let options = leptos::config::get_configuration(None)
        .expect("leptos options from the environment")
        .leptos_options;
    let router = server::http::router(state, options, Arc::new(tokio::sync::Notify::new()))
        .await
        .expect("build the Rebound router");
    let key = engine::apikeys::create(db, clock.now_ms(), "bench", "bench")
        .await
        .expect("create an API key")
        .secret;
    (Served::start(router).await, key)
}

/// The ceiling: one handler, one INSERT, same database kind and pool settings.
async fn bare_insert(State(db): State<Db>, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body).into_owned();
    let now = unix_now_ms();
    let res: Result<i64, sqlx::Error> = engine::on_pool!(&db, p => sqlx::query_scalar(
        "INSERT INTO bare_orders (body, created_at) VALUES ($1, $2) RETURNING id"
    ).bind(&text).bind(now).fetch_one(p).await);
    match res {
        Ok(id) => (
            StatusCode::ACCEPTED,
            Json(json!({ "id": id, "status": "queued" })),
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

async fn start_bare(db: &Db) -> Served {
    let ddl = match db {
        Db::Sqlite(_) => {
            "CREATE TABLE bare_orders (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, created_at BIGINT NOT NULL)"
        }
        Db::Postgres(_) => {
            "CREATE TABLE bare_orders (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL, created_at BIGINT NOT NULL)"
        }
    };
    engine::exec_on_pool!(db, p => sqlx::query(ddl).execute(p).await)
        .expect("create the bare_orders table");
    let router = Router::new()
        .route("/bare/orders", post(bare_insert))
        .with_state(db.clone());
    Served::start(router).await
}

// ---------------------------------------------------------------------------------------
// Load generation

fn order_json(number: &str, i: usize) -> serde_json::Value {
    json!({
        "order_number": number,
        "placed_at": "2026-11-27T21:00:00Z",
        "currency": "EUR",
        "items": [
            { "name": "Enamel mug", "quantity": 2, "unit_price": 1250 },
            { "name": "Loose-leaf tea, 100 g", "quantity": 1, "unit_price": 500 }
        ],
        "totals": { "subtotal": 3000, "shipping": 490, "total": 3490 },
        "customer": {
            "email": format!("customer{i}@{}", ["example.com", "gmail.com", "yahoo.com", "outlook.com"][i % 4]),
            "name": "Bench Customer",
            "account_kind": "guest"
        },
        // Half from the VPN list's networks (see `risk_sources`), half residential.
        "client_ip": if i.is_multiple_of(2) {
            format!("10.{}.{}.7", (i / 2) % 200, (i / 400) % 250)
        } else {
            format!("198.18.{}.{}", (i / 250) % 250, i % 250 + 1)
        }
    })
}

/// Every risk source, written to `dir`: a 50,000-network VPN list (the 10.0.0.0/8
/// block cut into /24s, so the bench's VPN addresses hit and the trie is deep), a
/// datacenter list and a disposable-domain list.
fn risk_sources(dir: &std::path::Path) -> engine::config::RiskConfig {
    let mut vpn = String::from("# bench VPN list\n");
    for k in 0..50_000u32 {
        vpn.push_str(&format!(
            "10.{}.{}.0/24 Bench VPN {}\n",
            (k / 250) % 250,
            k % 250,
            k % 97
        ));
    }
    let mut dc = String::new();
    for k in 0..5_000u32 {
        dc.push_str(&format!(
            "172.{}.{}.0/24 Bench Cloud\n",
            16 + (k / 250) % 16,
            k % 250
        ));
    }
    let disposable = (0..3_000)
        .map(|k| format!("throwaway{k}.example\n"))
        .collect::<String>();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write a risk source file");
        path
    };
    engine::config::RiskConfig {
        network_lists: vec![
            engine::config::NetworkListConfig {
                path: write("vpn.txt", &vpn),
                kind: "vpn".into(),
            },
            engine::config::NetworkListConfig {
                path: write("dc.txt", &dc),
                kind: "datacenter".into(),
            },
        ],
        disposable_domains: Some(write("disposable.txt", &disposable)),
        ..engine::config::RiskConfig::default()
    }
}

/// Rollups for the learned factors (so scoring reads real history, not an empty map).
async fn seed_rollups(db: &Db) {
    let pools = pools::list(db).await.expect("pools");
    let today = unix_now_ms().div_euclid(engine::stats::DAY_MS);
    for day in today - 29..=today {
        for p in &pools {
            for provider in ["gmail", "yahoo", "microsoft", "other"] {
                for network in ["vpn", "residential"] {
                    engine::exec_on_pool!(db, q => sqlx::query(
                        "INSERT INTO stats_daily (day, pool_id, provider, network, sent, accepted, bounced_transient)
                         VALUES ($1, $2, $3, $4, 500, 480, 20)"
                    ).bind(day).bind(p.id).bind(provider).bind(network).execute(q).await)
                    .expect("rollup row");
                }
            }
        }
    }
}

/// Intake with every risk source against intake with none (same run, same bodies).
async fn intake_risk(backend: &Backend, client: &reqwest::Client, rows: &mut Vec<Row>) {
    let name = backend.name();
    progress(&format!("intake with risk sources on {name}: preparing"));
    let dir = tempfile::tempdir().expect("temp dir for risk sources");
    let on_db = backend.fresh_db().await;
    let off_db = backend.fresh_db().await;
    for db in [&on_db.db, &off_db.db] {
        pools::ensure_dev_pools(db, unix_now_ms())
            .await
            .expect("pools");
        seed_rollups(db).await;
    }
    let loaded = Instant::now();
    let assessor =
        engine::risk::Assessor::new(&risk_sources(dir.path())).expect("load the risk sources");
    let load_time = loaded.elapsed();
    let (on, key_on) = start_rebound_with(&on_db.db, Arc::new(assessor)).await;
    let (off, key_off) = start_rebound(&off_db.db).await;
    let on_t = Target {
        url: format!("{}/api/v1/orders", on.base),
        key: key_on,
    };
    let off_t = Target {
        url: format!("{}/api/v1/orders", off.base),
        key: key_off,
    };
    let body_set = bodies(&format!("R{}", unix_now_ms()), WARMUP + REQUESTS);
    closed_loop(client, &on_t, &body_set, 0, WARMUP, CONCURRENCY).await;
    closed_loop(client, &off_t, &body_set, 0, WARMUP, CONCURRENCY).await;
    progress(&format!("intake with risk sources on {name}: measuring"));
    // Alternate halves so neither side always runs on a warmer or fuller database.
    let half = REQUESTS / 2;
    let on1 = closed_loop(client, &on_t, &body_set, WARMUP, half, CONCURRENCY).await;
    let off1 = closed_loop(client, &off_t, &body_set, WARMUP, half, CONCURRENCY).await;
    let off2 = closed_loop(client, &off_t, &body_set, WARMUP + half, half, CONCURRENCY).await;
    let on2 = closed_loop(client, &on_t, &body_set, WARMUP + half, half, CONCURRENCY).await;
    let rate = |a: &LoadResult, b: &LoadResult| {
        (a.ok + b.ok) as f64 / (a.elapsed + b.elapsed).as_secs_f64().max(1e-9)
    };
    let (r_on, r_off) = (rate(&on1, &on2), rate(&off1, &off2));
    let mut lat_on: Vec<Duration> = on1
        .latencies
        .iter()
        .chain(&on2.latencies)
        .copied()
        .collect();
    let mut lat_off: Vec<Duration> = off1
        .latencies
        .iter()
        .chain(&off2.latencies)
        .copied()
        .collect();
    lat_on.sort();
    lat_off.sort();
    let flagged: i64 = engine::on_pool!(&on_db.db, q => sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders WHERE network_kind = 'vpn'"
    ).fetch_one(q).await)
    .expect("count flagged");
    let mut row = Row::new("intake, risk sources on vs off", name);
    row.result = format!("{} req/s", thousands(r_on));
    row.baseline = format!("{} req/s", thousands(r_off));
    row.ratio = ratio(r_on, r_off);
    row.notes = format!(
        "target >= 0.90x; p50 {} p99 {} (off {} / {}); {} orders flagged VPN; 55,000 networks + 3,000 domains loaded in {}{}{}",
        ms(percentile(&lat_on, 50.0)),
        ms(percentile(&lat_on, 99.0)),
        ms(percentile(&lat_off, 50.0)),
        ms(percentile(&lat_off, 99.0)),
        thousands(flagged as f64),
        ms(load_time),
        on1.error_note() + &on2.error_note(),
        off1.error_note() + &off2.error_note(),
    );
    rows.push(row);
    on.stop().await;
    off.stop().await;
    on_db.cleanup().await;
    off_db.cleanup().await;
}

fn bodies(prefix: &str, n: usize) -> Arc<Vec<Bytes>> {
    Arc::new(
        (0..n)
            .map(|i| {
                let v = order_json(&format!("{prefix}-{i}"), i);
                Bytes::from(serde_json::to_vec(&v).expect("serialize an order"))
            })
            .collect(),
    )
}

#[derive(Clone)]
struct Target {
    url: String,
    key: String,
}

async fn post_one(client: &reqwest::Client, t: &Target, body: Bytes) -> Result<(), String> {
    let res = client
        .post(&t.url)
        .bearer_auth(&t.key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = res.status();
    let text = res
        .bytes()
        .await
        .map_err(|e| format!("reading the response: {e}"))?;
    if status == StatusCode::ACCEPTED {
        Ok(())
    } else {
        Err(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&text)
                .chars()
                .take(200)
                .collect::<String>()
        ))
    }
}

struct LoadResult {
    ok: usize,
    errors: usize,
    first_error: Option<String>,
    elapsed: Duration,
    latencies: Vec<Duration>,
    capped: bool,
}

impl LoadResult {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn sorted(&self) -> Vec<Duration> {
        let mut v = self.latencies.clone();
        v.sort_unstable();
        v
    }

    fn error_note(&self) -> String {
        match &self.first_error {
            Some(e) => format!(" ERRORS {} (first: {e})", self.errors),
            None => String::new(),
        }
    }
}

/// `count` requests, `concurrency` in flight, bodies `bodies[offset..offset + count]`.
async fn closed_loop(
    client: &reqwest::Client,
    target: &Target,
    bodies: &Arc<Vec<Bytes>>,
    offset: usize,
    count: usize,
    concurrency: usize,
) -> LoadResult {
    assert!(offset + count <= bodies.len(), "not enough request bodies");
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + RUN_CAP;
    let mut set = JoinSet::new();
    for _ in 0..concurrency {
        let (client, target, bodies, next) =
            (client.clone(), target.clone(), bodies.clone(), next.clone());
        set.spawn(async move {
            let mut lat = Vec::with_capacity(count / concurrency + 1);
            let (mut errors, mut first_error, mut capped) = (0usize, None, false);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                if Instant::now() > deadline {
                    capped = true;
                    break;
                }
                let t0 = Instant::now();
                match post_one(&client, &target, bodies[offset + i].clone()).await {
                    Ok(()) => lat.push(t0.elapsed()),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (lat, errors, first_error, capped)
        });
    }
    let mut out = LoadResult {
        ok: 0,
        errors: 0,
        first_error: None,
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(count),
        capped: false,
    };
    while let Some(r) = set.join_next().await {
        let (lat, errors, first_error, capped) = r.expect("load task panicked");
        out.ok += lat.len();
        out.latencies.extend(lat);
        out.errors += errors;
        if out.first_error.is_none() {
            out.first_error = first_error;
        }
        out.capped |= capped;
    }
    out.elapsed = start.elapsed();
    out
}

/// Open loop: request k is due at `k / rate` seconds; a 1 ms tokio interval releases
/// whatever is due. Latency counts from the due time (no coordinated omission).
async fn open_loop(
    client: &reqwest::Client,
    target: &Target,
    bodies: &Arc<Vec<Bytes>>,
    rate: f64,
    length: Duration,
) -> (LoadResult, usize) {
    let total = (rate * length.as_secs_f64()) as usize;
    assert!(total <= bodies.len(), "not enough request bodies");
    let outstanding = Arc::new(AtomicUsize::new(0));
    let mut dropped = 0usize;
    let mut set = JoinSet::new();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let start = Instant::now();
    let mut sent = 0usize;
    while sent < total {
        tick.tick().await;
        let due = ((start.elapsed().as_secs_f64() * rate) as usize).min(total);
        while sent < due {
            let intended = start + Duration::from_secs_f64(sent as f64 / rate);
            if outstanding.load(Ordering::Relaxed) >= MAX_OUTSTANDING {
                dropped += 1;
                sent += 1;
                continue;
            }
            outstanding.fetch_add(1, Ordering::Relaxed);
            let (client, target, body, outstanding) = (
                client.clone(),
                target.clone(),
                bodies[sent].clone(),
                outstanding.clone(),
            );
            set.spawn(async move {
                let r = post_one(&client, &target, body).await;
                let done = Instant::now();
                outstanding.fetch_sub(1, Ordering::Relaxed);
                (r, done.saturating_duration_since(intended), done)
            });
            sent += 1;
        }
    }
    let mut out = LoadResult {
        ok: 0,
        errors: 0,
        first_error: None,
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(total),
        capped: false,
    };
    let mut last = start;
    while let Some(r) = set.join_next().await {
        let (res, lat, done) = r.expect("load task panicked");
        last = last.max(done);
        match res {
            Ok(()) => {
                out.ok += 1;
                out.latencies.push(lat);
            }
            Err(e) => {
                out.errors += 1;
                out.first_error.get_or_insert(e);
            }
        }
    }
    out.elapsed = last.saturating_duration_since(start);
    (out, dropped)
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(MAX_OUTSTANDING)
        .tcp_nodelay(true)
        .build()
        .expect("build the HTTP client")
}

// ---------------------------------------------------------------------------------------
// 1. Intake

async fn intake(backend: &Backend, client: &reqwest::Client, rows: &mut Vec<Row>) {
    let name = backend.name();
    progress(&format!("intake on {name}: preparing"));
    let rebound_db = backend.fresh_db().await;
    let bare_db = backend.fresh_db().await;
    let (rebound, key) = start_rebound(&rebound_db.db).await;
    let bare = start_bare(&bare_db.db).await;
    let rebound_t = Target {
        url: format!("{}/api/v1/orders", rebound.base),
        key: key.clone(),
    };
    let bare_t = Target {
        url: format!("{}/bare/orders", bare.base),
        key,
    };
    let run_id = format!("B{}", unix_now_ms());
    let n = WARMUP + REQUESTS;
    let body_set = bodies(&format!("{run_id}-CL"), n);

    // Warm-ups first (connections, statement caches, WAL), then the two measurements.
    progress(&format!("intake on {name}: warm-up"));
    let w1 = closed_loop(client, &rebound_t, &body_set, 0, WARMUP, CONCURRENCY).await;
    let w2 = closed_loop(client, &bare_t, &body_set, 0, WARMUP, CONCURRENCY).await;
    for (w, what) in [(&w1, "Rebound"), (&w2, "bare")] {
        if let Some(e) = &w.first_error {
            progress(&format!("warm-up against {what} had errors: {e}"));
        }
    }
    progress(&format!(
        "intake on {name}: {REQUESTS} requests, {CONCURRENCY} in flight"
    ));
    let real = closed_loop(client, &rebound_t, &body_set, WARMUP, REQUESTS, CONCURRENCY).await;
    let base = closed_loop(client, &bare_t, &body_set, WARMUP, REQUESTS, CONCURRENCY).await;
    let (rs, bs) = (real.sorted(), base.sorted());
    let mut row = Row::new(&format!("intake POST /api/v1/orders c={CONCURRENCY}"), name);
    row.result = format!("{} req/s", thousands(real.rate()));
    row.baseline = format!("{} req/s", thousands(base.rate()));
    row.ratio = ratio(real.rate(), base.rate());
    row.notes = format!(
        "p50 {} p99 {} (bare p50 {} p99 {}); {} ok{}{}",
        ms(percentile(&rs, 50.0)),
        ms(percentile(&rs, 99.0)),
        ms(percentile(&bs, 50.0)),
        ms(percentile(&bs, 99.0)),
        thousands(real.ok as f64),
        if real.capped || base.capped {
            " TIME-CAPPED"
        } else {
            ""
        },
        real.error_note() + &base.error_note(),
    );
    rows.push(row);

    if matches!(backend, Backend::Sqlite) {
        progress(&format!(
            "intake on {name}: open loop at {OFFERED_RATE} req/s for {OFFERED_FOR:?}"
        ));
        let total = (OFFERED_RATE * OFFERED_FOR.as_secs_f64()) as usize;
        let ol_bodies = bodies(&format!("{run_id}-OL"), total);
        let (real, real_dropped) =
            open_loop(client, &rebound_t, &ol_bodies, OFFERED_RATE, OFFERED_FOR).await;
        let (base, base_dropped) =
            open_loop(client, &bare_t, &ol_bodies, OFFERED_RATE, OFFERED_FOR).await;
        let (rs, bs) = (real.sorted(), base.sorted());
        let mut row = Row::new(
            &format!("intake fixed load {} req/s", thousands(OFFERED_RATE)),
            name,
        );
        // Requests dropped at the outstanding cap have no latency; past 1 % of them the
        // true p99 is unknown (at least the worst one observed): say so.
        let p99_text = |sorted: &[Duration], dropped: usize| {
            if dropped * 100 > total {
                format!(
                    "SATURATED (p99 >= {})",
                    ms(sorted.last().copied().unwrap_or_default())
                )
            } else {
                format!("p99 {}", ms(percentile(sorted, 99.0)))
            }
        };
        row.result = p99_text(&rs, real_dropped);
        row.baseline = p99_text(&bs, base_dropped);
        let (r99, b99) = (
            percentile(&rs, 99.0).as_secs_f64(),
            percentile(&bs, 99.0).as_secs_f64(),
        );
        row.ratio = if (real_dropped + base_dropped) * 100 > total {
            "n/a".to_string()
        } else {
            ratio(r99, b99)
        };
        row.notes = format!(
            "achieved {} req/s (bare {}); completed p50 {} p99 {} (bare {} / {}); latency from the scheduled send time{}{}{}",
            thousands(real.rate()),
            thousands(base.rate()),
            ms(percentile(&rs, 50.0)),
            ms(percentile(&rs, 99.0)),
            ms(percentile(&bs, 50.0)),
            ms(percentile(&bs, 99.0)),
            if real_dropped + base_dropped > 0 {
                format!(
                    "; DROPPED at {MAX_OUTSTANDING} outstanding: {real_dropped} (bare {base_dropped})"
                )
            } else {
                String::new()
            },
            real.error_note(),
            base.error_note(),
        );
        rows.push(row);
    }

    rebound.stop().await;
    bare.stop().await;
    rebound_db.cleanup().await;
    bare_db.cleanup().await;
}

// ---------------------------------------------------------------------------------------
// 2. Dispatch

/// `smtp-sink` on a free loopback port, killed on drop.
struct Sink {
    child: std::process::Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|rest| rest.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

async fn start_sink() -> Result<Sink, String> {
    if !std::path::Path::new(SMTP_SINK).exists() {
        return Err(format!(
            "{SMTP_SINK} not found (install the Debian `postfix` package)"
        ));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))?;
    let log = std::env::temp_dir().join(format!(
        "rebound-bench-smtp-sink-{}.log",
        std::process::id()
    ));
    let log_file =
        std::fs::File::create(&log).map_err(|e| format!("create {}: {e}", log.display()))?;
    let mut cmd = std::process::Command::new(SMTP_SINK);
    if running_as_root() {
        // As root it refuses to run without dropping privileges.
        cmd.args(["-u", "postfix"]);
    }
    cmd.args([format!("127.0.0.1:{port}"), "256".to_string()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log_file);
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {SMTP_SINK}: {e}"))?;
    let mut sink = Sink { child, port, log };
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(Some(status)) = sink.child.try_wait() {
            let why = std::fs::read_to_string(&sink.log).unwrap_or_default();
            return Err(format!("smtp-sink exited ({status}): {}", why.trim()));
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(sink);
        }
        if Instant::now() > deadline {
            return Err("smtp-sink did not start listening within 5 s".to_string());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn count_states(db: &Db) -> HashMap<String, i64> {
    engine::on_pool!(db, p => sqlx::query_as::<_, (String, i64)>(
        "SELECT state, COUNT(*) FROM orders GROUP BY state"
    ).fetch_all(p).await)
    .expect("count orders by state")
    .into_iter()
    .collect()
}

async fn accepted(db: &Db) -> Result<i64, sqlx::Error> {
    engine::on_pool!(db, p => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM orders WHERE state = 'accepted'"
    ).fetch_one(p).await)
}

/// Whether any send job is leased or due: two index probes, so polling it
/// while the pipeline runs costs the database under test next to nothing
/// (counting accepted orders reads every accepted order's index entry).
async fn jobs_pending(db: &Db, now: i64) -> Result<bool, sqlx::Error> {
    engine::on_pool!(db, p => sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'running')
             OR EXISTS (SELECT 1 FROM jobs WHERE state = 'queued' AND due_at <= $1)"
    ).bind(now).fetch_one(p).await)
}

struct SendRun {
    accepted: usize,
    failed: usize,
    first_failure: Option<String>,
    elapsed: Duration,
}

/// The send tasks' counts (accepted, failed, first failure) added up, timed from `start`.
async fn gather(mut set: JoinSet<(usize, usize, Option<String>)>, start: Instant) -> SendRun {
    let mut run = SendRun {
        accepted: 0,
        failed: 0,
        first_failure: None,
        elapsed: Duration::ZERO,
    };
    while let Some(r) = set.join_next().await {
        let (ok, failed, first) = r.expect("send task panicked");
        run.accepted += ok;
        run.failed += failed;
        if run.first_failure.is_none() {
            run.first_failure = first;
        }
    }
    run.elapsed = start.elapsed();
    run
}

/// Rebound's own sender alone: `tasks` tasks sending one pre-built message through one
/// `Sender` (shown beside the baseline, [`lettre_send_loop`]).
async fn raw_send_loop(
    sender: &Sender,
    envelope: &Envelope,
    raw: &Arc<Vec<u8>>,
    tasks: usize,
    n: usize,
) -> SendRun {
    let start = Instant::now();
    let mut set = JoinSet::new();
    for w in 0..tasks {
        let (sender, envelope, raw) = (sender.clone(), envelope.clone(), raw.clone());
        set.spawn(async move {
            let (mut ok, mut failed, mut first) = (0usize, 0usize, None);
            for _ in (w..n).step_by(tasks) {
                match sender.send(&envelope, &raw).await {
                    SendOutcome::Accepted { .. } => ok += 1,
                    other => {
                        failed += 1;
                        first.get_or_insert_with(|| format!("{other:?}"));
                    }
                }
            }
            (ok, failed, first)
        });
    }
    gather(set, start).await
}

/// The baseline, the fastest raw lettre loop: `tasks` tasks, each with its own
/// lettre connection over a `TCP_NODELAY` socket, sending one pre-built message with
/// lettre's own conversation (`AsyncSmtpConnection::send`: MAIL, RCPT, DATA, body, each
/// answered before the next). A connection that fails is replaced.
async fn lettre_send_loop(
    port: u16,
    envelope: &Envelope,
    raw: &Arc<Vec<u8>>,
    tasks: usize,
    n: usize,
) -> SendRun {
    use lettre::transport::smtp::client::AsyncSmtpConnection;
    use lettre::transport::smtp::extension::ClientId;
    async fn open(port: u16) -> Result<AsyncSmtpConnection, String> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| e.to_string())?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        let id = ClientId::Domain("bench.rebound.local".to_string());
        AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &id)
            .await
            .map_err(|e| e.to_string())
    }
    let start = Instant::now();
    let lettre_envelope = lettre::address::Envelope::new(
        Some(envelope.mail_from.parse().expect("bench MAIL FROM")),
        vec![envelope.rcpt_to.parse().expect("bench RCPT TO")],
    )
    .expect("bench envelope");
    // lettre appends the CRLF that ends the last line itself.
    let body: Arc<Vec<u8>> = Arc::new(raw.strip_suffix(b"\r\n").unwrap_or(raw).to_vec());
    let mut set = JoinSet::new();
    for w in 0..tasks {
        let (envelope, body) = (lettre_envelope.clone(), body.clone());
        set.spawn(async move {
            let (mut ok, mut failed, mut first) = (0usize, 0usize, None);
            let mut conn = None;
            for _ in (w..n).step_by(tasks) {
                if conn.is_none() {
                    match open(port).await {
                        Ok(c) => conn = Some(c),
                        Err(e) => {
                            failed += 1;
                            first.get_or_insert(e);
                            continue;
                        }
                    }
                }
                let Some(c) = conn.as_mut() else { continue };
                match c.send(&envelope, &body).await {
                    Ok(_) => ok += 1,
                    Err(e) => {
                        failed += 1;
                        first.get_or_insert_with(|| e.to_string());
                        conn = None;
                    }
                }
            }
            if let Some(mut c) = conn {
                let _ = c.quit().await;
            }
            (ok, failed, first)
        });
    }
    gather(set, start).await
}

/// One raw point between rounds: the baseline ([`lettre_send_loop`]) with the machine
/// CPU it took, then Rebound's own `Sender` pushing the same message ([`raw_send_loop`]),
/// shown beside it (what the queue and the state writes cost over the transport alone).
async fn raw_run(
    sender: &Sender,
    port: u16,
    envelope: &Envelope,
    raw: &Arc<Vec<u8>>,
    tasks: usize,
    n: usize,
) -> (SendRun, Duration, SendRun) {
    let cpu0 = machine_busy();
    let run = lettre_send_loop(port, envelope, raw, tasks, n).await;
    let cpu = machine_busy().saturating_sub(cpu0);
    let own = raw_send_loop(sender, envelope, raw, tasks, n).await;
    (run, cpu, own)
}

/// Queues `n` orders numbered `{prefix}-{i}` through `orders::intake` (16 at a time).
async fn queue_orders(db: &Db, clock: &Arc<dyn Clock>, prefix: &str, n: usize) {
    let results: Vec<Result<(), String>> = futures::stream::iter(0..n)
        .map(|i| {
            let (db, clock) = (db.clone(), clock.clone());
            let number = format!("{prefix}-{i}");
            async move {
                let input: OrderInput = serde_json::from_value(order_json(&number, i))
                    .map_err(|e| format!("order JSON: {e}"))?;
                let valid = input
                    .validate()
                    .map_err(|e| format!("order invalid: {e:?}"))?;
                engine::orders::intake(&db, clock.now_ms(), valid, None)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("intake: {e}"))
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
        panic!("queueing the dispatch orders failed: {e}");
    }
}

/// CPU time the whole machine has spent busy (every process and the kernel,
/// idle and I/O wait excluded), from `/proc/stat`. The database server and the
/// SMTP sink are other processes, so per-message cost is read machine-wide;
/// unlike throughput it hardly moves when the machine's speed drifts.
fn machine_busy() -> Duration {
    let ticks_per_sec = 100.0; // USER_HZ on Linux
    let busy = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let f: Vec<u64> = s
                .lines()
                .next()?
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal …
            Some(f.iter().take(8).sum::<u64>() - f.get(3)? - f.get(4)?)
        })
        .unwrap_or(0);
    Duration::from_secs_f64(busy as f64 / ticks_per_sec)
}

/// Machine CPU per message over a window, in microseconds.
fn cpu_per_msg(busy: Duration, msgs: usize) -> f64 {
    busy.as_secs_f64() * 1e6 / msgs.max(1) as f64
}

/// What one run of the pipeline did.
struct PipelineRun {
    /// From the start to the last outcome written (None: the run hit `DISPATCH_CAP`).
    elapsed: Option<Duration>,
    errors: Vec<String>,
}

/// The send worker's own loop (`Worker::run`, as `rebound serve` runs it)
/// until `target` orders are accepted in all (or `DISPATCH_CAP` passes), then
/// stopped. The run ends at the last outcome's `finished_at` (the clock is the
/// system's), so the progress check can be rare and cost the database little:
/// it probes the queue, and counts orders only once the queue is dry.
async fn run_pipeline(
    worker: &Arc<Worker>,
    db: &Db,
    clock: &Arc<dyn Clock>,
    target: i64,
) -> PipelineRun {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let start = Instant::now();
    let start_ms = clock.now_ms();
    let task = tokio::spawn(worker.clone().run(stopped));
    worker.wake.notify_one();
    let mut run = PipelineRun {
        elapsed: None,
        errors: Vec::new(),
    };
    let mut done = false;
    while !done && start.elapsed() < DISPATCH_CAP {
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Orders are counted only once no job is leased or due (a job waiting
        // for its pacing slot is neither: then the count says it is not over).
        match jobs_pending(db, clock.now_ms()).await {
            Ok(true) => {}
            Ok(false) => match accepted(db).await {
                Ok(a) => done = a >= target,
                Err(e) => run.errors.push(format!("count: {e}")),
            },
            Err(e) => run.errors.push(format!("pending jobs: {e}")),
        }
    }
    let _ = stop.send(true);
    if let Err(e) = task.await {
        run.errors.push(format!("worker task: {e}"));
    }
    if done {
        let last: Result<Option<i64>, sqlx::Error> = engine::on_pool!(db, p => sqlx::query_scalar(
            "SELECT MAX(finished_at) FROM delivery_attempts"
        ).fetch_one(p).await);
        match last {
            Ok(Some(ms)) => {
                run.elapsed = Some(Duration::from_millis(
                    u64::try_from(ms - start_ms).unwrap_or(0),
                ))
            }
            Ok(None) => run.errors.push("no attempt finished".to_string()),
            Err(e) => run.errors.push(format!("last outcome: {e}")),
        }
    }
    run
}

async fn dispatch(backend: &Backend, sink: &Sink, rows: &mut Vec<Row>) {
    let name = backend.name();
    let t = backend.fresh_db().await;
    let db = t.db.clone();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let config = bench_config();
    // The pool's rate (`REBOUND_BENCH_CONNS` overrides it, for experiments) and
    // the relay connections the worker opens for it; the raw loop gets as many,
    // one task each.
    let pool_rate = env_or("REBOUND_BENCH_CONNS", POOL_RATE);
    let conns = pools::relay_connections(pool_rate);
    let tasks = usize::try_from(conns).unwrap_or(1);
    let relay = format!("smtp://127.0.0.1:{}", sink.port);
    pools::create(
        &db,
        clock.now_ms(),
        NewPool {
            name: "primary",
            role: engine::delivery::pools::PoolRole::Primary,
            from_name: "Rebound Demo Shop",
            from_address: "receipts@shop.example",
            relay_url: &relay,
            max_per_second: pool_rate,
            position: 0,
        },
    )
    .await
    .expect("create the sender pool");
    let worker =
        Arc::new(Worker::new(db.clone(), clock.clone(), &config).expect("create the send worker"));
    let (loops, batch) = (config.delivery.send_loops, config.delivery.batch_size);
    let orders = dispatch_orders();

    // Warm-up, as the raw loop has one: a server that has been running a while
    // has its connections, prepared statements and heap in place.
    let run_id = format!("D{}", unix_now_ms());
    progress(&format!(
        "dispatch on {name}: warm-up, {DISPATCH_WARMUP} orders"
    ));
    queue_orders(&db, &clock, &format!("{run_id}-warm"), DISPATCH_WARMUP).await;
    let warm_target = i64::try_from(DISPATCH_WARMUP).expect("order count fits i64");
    let warm = run_pipeline(&worker, &db, &clock, warm_target).await;
    if warm.elapsed.is_none() {
        progress(&format!(
            "dispatch on {name}: warm-up TIME-CAPPED ({:?})",
            warm.errors.first()
        ));
    }

    // Baseline: one rendered receipt (the first measured order's), pre-built once.
    queue_orders(&db, &clock, &format!("{run_id}-r0"), orders).await;
    let sample = engine::orders::find_by_number(&db, &format!("{run_id}-r0-0"))
        .await
        .expect("read a queued order")
        .expect("the first queued order exists");
    let receipt = worker.receipt_for(&sample);
    let html = engine::receipt::render_html(&receipt).expect("render the HTML receipt");
    let text = engine::receipt::render_text(&receipt).expect("render the text receipt");
    let subject = format!("Your receipt for order {}", sample.order_number);
    let extra = [("X-Rebound-Attempt", "1".to_string())];
    let raw = Arc::new(
        build(&ReceiptEmail {
            from_name: "Rebound Demo Shop",
            from_address: "receipts@shop.example",
            to_name: &sample.customer_name,
            to_address: &sample.customer_email,
            subject: &subject,
            html: &html,
            text: &text,
            message_id: "bench.a1.00000000@bounce.rebound.local",
            feedback_id: "0:primary:receipt:rebound",
            reply_to: Some("support@shop.example"),
            extra_headers: &extra,
        })
        .expect("build the receipt message"),
    );
    let envelope = Envelope {
        mail_from: "bounce+000000000000000000000000@bounce.rebound.local".to_string(),
        rcpt_to: sample.customer_email.clone(),
    };
    let sender = Sender::new(
        &RelayUrl::parse(&relay).expect("relay URL"),
        engine::delivery::smtp::Timeouts::from_config(&config.delivery),
        conns,
    )
    .expect("create the raw sender");
    progress(&format!("dispatch on {name}: raw send loop warm-up"));
    let warm = raw_send_loop(&sender, &envelope, &raw, tasks, 200).await;
    let warm_lettre = lettre_send_loop(sink.port, &envelope, &raw, tasks, 200).await;
    for f in [&warm.first_failure, &warm_lettre.first_failure]
        .into_iter()
        .flatten()
    {
        progress(&format!("raw send warm-up failures: {f}"));
    }

    // Rounds of raw loop, pipeline, raw loop (each raw run shared by the
    // rounds on either side of it). This machine's speed drifts by 2x within
    // a minute, so one pair proves little: the row is the median round, each
    // held to the faster raw run beside it.
    let rate = |r: &SendRun| r.accepted as f64 / r.elapsed.as_secs_f64().max(1e-9);
    let rounds = dispatch_rounds();
    let orders_i64 = i64::try_from(orders).expect("order count fits i64");
    // Raw runs with their machine CPU: one before the first round and one after each.
    let mut raws = vec![raw_run(&sender, sink.port, &envelope, &raw, tasks, orders).await];
    // Per round: messages accepted, time to the last one, machine CPU.
    let mut runs: Vec<(i64, Duration, Duration)> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    let mut capped = None;
    let mut accepted_so_far = accepted(&db).await.expect("count accepted orders");
    for round in 0..rounds {
        if round > 0 {
            queue_orders(&db, &clock, &format!("{run_id}-r{round}"), orders).await;
        }
        progress(&format!(
            "dispatch on {name}: round {}/{rounds}, Worker::run, {loops} send loops x batch {batch}",
            round + 1
        ));
        let cpu0 = machine_busy();
        let run = run_pipeline(&worker, &db, &clock, accepted_so_far + orders_i64).await;
        let cpu = machine_busy().saturating_sub(cpu0);
        let now_accepted = accepted(&db).await.expect("count accepted orders");
        runs.push((
            now_accepted - accepted_so_far,
            run.elapsed.unwrap_or(DISPATCH_CAP),
            cpu,
        ));
        accepted_so_far = now_accepted;
        errors.extend(run.errors);
        if run.elapsed.is_none() {
            capped = Some(count_states(&db).await);
        }
        raws.push(raw_run(&sender, sink.port, &envelope, &raw, tasks, orders).await);
    }
    // Each round against the faster raw run beside it.
    let results: Vec<(f64, f64)> = runs
        .iter()
        .zip(raws.windows(2))
        .map(|((got, elapsed, _), pair)| {
            (
                *got as f64 / elapsed.as_secs_f64().max(1e-9),
                rate(&pair[0].0).max(rate(&pair[1].0)),
            )
        })
        .collect();
    let mut by_ratio = results.clone();
    by_ratio.sort_by(|a, b| (a.0 / a.1).total_cmp(&(b.0 / b.1)));
    let (real_rate, base_rate) = by_ratio[by_ratio.len() / 2];
    let run_cpu: Duration = runs.iter().map(|r| r.2).sum();
    let run_msgs: i64 = runs.iter().map(|r| r.0).sum();
    let raw_cpu: Duration = raws.iter().map(|r| r.1).sum();
    let raw_msgs: usize = raws.iter().map(|r| r.0.accepted).sum();
    // Rebound's own sender alone, the median of its runs.
    let mut own_rates: Vec<f64> = raws.iter().map(|r| rate(&r.2)).collect();
    own_rates.sort_by(f64::total_cmp);
    let own_rate = own_rates[own_rates.len() / 2];
    let raw_failures: Vec<String> = raws
        .iter()
        .flat_map(|(r, _, own)| [r, own])
        .filter(|r| r.failed > 0)
        .map(|r| {
            format!(
                "{} (first: {})",
                r.failed,
                r.first_failure.as_deref().unwrap_or("?")
            )
        })
        .collect();

    let mut row = Row::new("dispatch queued->accepted", name);
    row.result = format!("{} msg/s", thousands(real_rate));
    row.baseline = format!("{} msg/s", thousands(base_rate));
    row.ratio = ratio(real_rate, base_rate);
    let per_round = results
        .iter()
        .map(|(p, r)| format!("{}/{} {}", thousands(*p), thousands(*r), ratio(*p, *r)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut notes = format!(
        "median of {rounds} rounds of {orders} orders after {DISPATCH_WARMUP} warm-up (pipeline/raw: {per_round}); {loops} send loops x batch {batch}, {conns} conns, raw lettre {tasks} tasks; machine CPU per message: pipeline {:.0} us, raw {:.0} us; Rebound's pipelining sender alone {} msg/s, pipeline {} of it",
        cpu_per_msg(run_cpu, usize::try_from(run_msgs).unwrap_or(0)),
        cpu_per_msg(raw_cpu, raw_msgs),
        thousands(own_rate),
        ratio(real_rate, own_rate),
    );
    if let Some(states) = capped {
        notes.push_str(&format!(
            " TIME-CAPPED at {DISPATCH_CAP:?}, states {states:?}"
        ));
    }
    if !raw_failures.is_empty() {
        notes.push_str(&format!(" RAW FAILURES {}", raw_failures.join("; ")));
    }
    if !errors.is_empty() {
        notes.push_str(&format!(
            " WORKER ERRORS {} (first: {})",
            errors.len(),
            errors[0]
        ));
    }
    row.notes = notes;
    rows.push(row);

    drop(worker);
    t.cleanup().await;
}

// ---------------------------------------------------------------------------------------

fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown (no /proc/self/status)".to_string())
}

async fn run() {
    let wall = Instant::now();
    let mut rows = Vec::new();
    let client = http_client();
    let pg = engine::testing::postgres_admin_url().await;
    let mut backends = vec![Backend::Sqlite];
    match &pg {
        Some(url) => backends.push(Backend::Postgres(url.clone())),
        None => progress("PostgreSQL not reachable: its rows are SKIPPED"),
    }

    // `REBOUND_BENCH_ONLY=intake` or `=dispatch` runs one half (say, under a profiler).
    let only = std::env::var("REBOUND_BENCH_ONLY").unwrap_or_default();
    let (do_intake, do_dispatch) = (only != "dispatch", only != "intake");
    for b in backends.iter().filter(|_| do_intake) {
        intake(b, &client, &mut rows).await;
        intake_risk(b, &client, &mut rows).await;
    }
    if pg.is_none() && do_intake {
        rows.push(Row::skipped(
            &format!("intake POST /api/v1/orders c={CONCURRENCY}"),
            "postgres",
            "REBOUND_TEST_POSTGRES_URL unset and nothing on 127.0.0.1:5432",
        ));
    }

    match start_sink().await {
        Ok(_) if !do_dispatch => {}
        Ok(sink) => {
            for b in &backends {
                dispatch(b, &sink, &mut rows).await;
            }
            if pg.is_none() {
                rows.push(Row::skipped(
                    "dispatch queued->accepted",
                    "postgres",
                    "REBOUND_TEST_POSTGRES_URL unset and nothing on 127.0.0.1:5432",
                ));
            }
            drop(sink);
        }
        Err(why) => {
            eprintln!("\n*** DISPATCH BENCHMARK SKIPPED: {why} ***\n");
            rows.push(Row::skipped(
                "dispatch queued->accepted",
                "all",
                &format!("*** {why} ***"),
            ));
        }
    }

    let mut rss = Row::new("peak RSS (VmHWM)", "-");
    rss.result = peak_rss();
    rss.notes =
        "one process: HTTP servers, load generator, workers and SMTP client together".to_string();
    rows.push(rss);

    print_table(&rows);
    println!(
        "{} cores; all servers, clients and workers share one tokio runtime; wall time {:.1} s",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        wall.elapsed().as_secs_f64()
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("build the tokio runtime");
    rt.block_on(run());
}
