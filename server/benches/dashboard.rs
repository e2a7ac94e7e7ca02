//! Dashboard benchmark: a binary that prints one table (not a timed test).
//!
//! `CARGO_TARGET_DIR=/tmp/bench-target cargo bench -p server --bench dashboard -j 1`
//!
//! Generates a big history with the same generator as `rebound demo seed` (90 days,
//! realistic bounce mix, VPN orders, retries, held orders, support cases) and times the
//! pages people open, through the real router (session, role check, SSR of the whole page
//! or the chart's SVG), as a signed-in manager or agent:
//!
//! - Overview (`/`) and the Trends page (`/trends?days=90`): target p95 < 100 ms on SQLite
//!   with 1,000,000 orders, < 200 ms on PostgreSQL with 10,000,000.
//! - Each Trends chart (`/charts/<name>.svg?days=90`): same targets.
//! - Held queue (`/held`): target p95 < 50 ms.
//! - VPN-flagged orders (`/flagged`), first page of the keyset pagination.
//!
//! Then the hydrate WASM's gzip size (target ≤ 400 KB), read from `target/site/pkg`
//! (measure after `cargo leptos build --release --split --frontend-only`: `make build`
//! leaves the far bigger debug build there; the row says so when it is missing). Pages are
//! lazy routes, so a split build gets two rows: the main module, and the heaviest page's
//! first load (main + its route's chunks, from the split manifest).
//!
//! Sizes: `REBOUND_BENCH_SQLITE_ORDERS` (default 1,000,000) and `REBOUND_BENCH_PG_ORDERS`
//! (default 10,000,000; `0` skips). Seeding a database that size takes minutes, so each
//! one is kept and reused while it holds exactly that many orders: the SQLite file under
//! `REBOUND_BENCH_DATA` (default `target/bench-data`), the PostgreSQL database
//! `rebound_bench_dashboard_<N>` on the server of `REBOUND_TEST_POSTGRES_URL`. The
//! server's clock is set to three hours after the newest order, so "today" is the
//! seeded today however old the data is.

use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::accounts::{NewUser, Role, create_user};
use engine::demo::SeedOptions;
use engine::{Clock, Config, Db, ManualClock};

/// Unmeasured requests before each measured page.
const WARMUP: usize = 3;
/// Measured requests per page.
const SAMPLES: usize = 40;
const DAYS: i64 = 90;
const PASSWORD: &str = "bench password for the dashboard";
const HOUR_MS: i64 = 3_600_000;

struct Row {
    page: String,
    backend: String,
    p50: String,
    p95: String,
    target: String,
    verdict: String,
    notes: String,
}

fn print_table(rows: &[Row]) {
    let header = Row {
        page: "page".into(),
        backend: "backend".into(),
        p50: "p50".into(),
        p95: "p95".into(),
        target: "target".into(),
        verdict: "meets".into(),
        notes: "notes".into(),
    };
    let all: Vec<&Row> = std::iter::once(&header).chain(rows.iter()).collect();
    let w = |f: fn(&Row) -> &str| all.iter().map(|r| f(r).chars().count()).max().unwrap_or(0);
    let (a, b, c, d, e, f) = (
        w(|r| &r.page),
        w(|r| &r.backend),
        w(|r| &r.p50),
        w(|r| &r.p95),
        w(|r| &r.target),
        w(|r| &r.verdict),
    );
    println!();
    for (i, r) in all.iter().enumerate() {
        let line = format!(
            "{:<a$}  {:<b$}  {:>c$}  {:>d$}  {:<e$}  {:<f$}  {}",
            r.page, r.backend, r.p50, r.p95, r.target, r.verdict, r.notes
        );
        println!("{}", line.trim_end());
        if i == 0 {
            println!("{}", "-".repeat(line.trim_end().chars().count()));
        }
    }
    println!();
}

fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 10.0 {
        format!("{v:.2} ms")
    } else {
        format!("{v:.1} ms")
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn thousands(n: u64) -> String {
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

fn progress(msg: &str) {
    eprintln!("[bench] {msg}");
}

fn env_count(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace(['_', ','], "").parse().ok())
        .unwrap_or(default)
}

// ---------------------------------------------------------------------------------------
// Data

async fn order_count(db: &Db) -> i64 {
    engine::on_pool!(db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM orders").fetch_one(p).await)
        .expect("count orders")
}

/// Opens (creating and seeding when needed) the database for `orders` orders. Returns it
/// with how it came to be ("seeded in …" or "reused").
async fn prepare(backend: &str, orders: u64) -> Result<(Db, String), String> {
    let db = match backend {
        "sqlite" => {
            let dir = std::env::var("REBOUND_BENCH_DATA").unwrap_or_else(|_| {
                concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-data").to_string()
            });
            let url = format!("sqlite://{dir}/dashboard-{orders}.sqlite");
            Db::connect(&url).await.map_err(|e| format!("{url}: {e}"))?
        }
        _ => {
            let admin_url = engine::testing::postgres_admin_url()
                .await
                .ok_or("REBOUND_TEST_POSTGRES_URL unset and nothing on 127.0.0.1:5432")?;
            let name = format!("rebound_bench_dashboard_{orders}");
            let admin = Db::connect(&admin_url)
                .await
                .map_err(|e| format!("{admin_url}: {e}"))?;
            let exists: bool = engine::on_pool!(&admin, p => sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)"
            ).bind(&name).fetch_one(p).await)
            .map_err(|e| e.to_string())?;
            if !exists {
                engine::exec_on_pool!(&admin, p => sqlx::query(&format!("CREATE DATABASE {name}")).execute(p).await)
                    .map_err(|e| e.to_string())?;
            }
            admin.close().await;
            let url = engine::testing::replace_database(&admin_url, &name);
            Db::connect(&url).await.map_err(|e| format!("{url}: {e}"))?
        }
    };
    db.migrate().await.map_err(|e| e.to_string())?;
    let have = order_count(&db).await;
    if have == orders as i64 {
        return Ok((db, format!("reused ({} orders)", thousands(orders))));
    }
    if have != 0 {
        // Another size or a half-finished seed: start again.
        progress(&format!(
            "{backend}: {have} orders present, wanted {orders}: clearing"
        ));
        engine::demo::clear(&db, now_ms())
            .await
            .map_err(|e| e.to_string())?;
    }
    progress(&format!(
        "{backend}: seeding {} orders over {DAYS} days (kept for the next run)",
        thousands(orders)
    ));
    let t = Instant::now();
    engine::demo::seed(
        &db,
        now_ms(),
        &SeedOptions {
            orders,
            days: DAYS,
            seed: 42,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    if let Db::Postgres(p) = &db {
        sqlx::query("VACUUM ANALYZE")
            .execute(p)
            .await
            .map_err(|e| e.to_string())?;
    }
    let took = t.elapsed().as_secs_f64();
    Ok((
        db,
        format!(
            "seeded {} orders in {took:.0} s ({:.0} orders/s)",
            thousands(orders),
            orders as f64 / took
        ),
    ))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

// ---------------------------------------------------------------------------------------
// Server and requests

struct Served {
    base: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn start(db: &Db) -> Served {
    let newest: Option<i64> = engine::on_pool!(db, p => sqlx::query_scalar("SELECT MAX(created_at) FROM orders").fetch_one(p).await)
        .expect("newest order");
    let clock = ManualClock::new(newest.unwrap_or_else(now_ms) + 3 * HOUR_MS);
    let mut config = Config::default();
    config.demo.create_admin = false;
    let state = app::ssr::AppState {
        db: db.clone(),
        config: Arc::new(config),
        clock: Arc::new(clock) as Arc<dyn Clock>,
        risk: Arc::new(engine::risk::Assessor::without_sources()),
    };
    let options = leptos::config::get_configuration(None)
        .expect("leptos options from the environment")
        .leptos_options;
    let router = server::http::router(state, options, Arc::new(tokio::sync::Notify::new()))
        .await
        .expect("build the Rebound router");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("local address"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server::http::serve(listener, router, async move {
        let _ = rx.await;
    }));
    Served {
        base,
        shutdown: Some(tx),
    }
}

/// A signed-in browser for `role` (the user is created once per database).
async fn signed_in(served: &Served, db: &Db, role: Role) -> reqwest::Client {
    let email = format!("bench-{}@rebound.local", role.as_str());
    let _ = create_user(
        db,
        now_ms(),
        NewUser {
            email: email.clone(),
            display_name: format!("Bench {}", role.as_str()),
            role,
            password: PASSWORD.into(),
        },
    )
    .await; // already there from an earlier run: fine
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(4)
        .build()
        .expect("HTTP client");
    let res = client
        .post(format!("{}/fn/auth/login", served.base))
        .header("accept", "application/json")
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .expect("sign in");
    assert!(
        res.status().is_success(),
        "sign-in as {email} failed: {}",
        res.status()
    );
    client
}

/// Times `SAMPLES` sequential GETs of `path` (after `WARMUP`); every answer must be a 200
/// containing `expect`, so an error page cannot pass for a fast page.
async fn time_page(
    client: &reqwest::Client,
    served: &Served,
    path: &str,
    expect: &str,
) -> Result<(Duration, Duration, Duration, usize), String> {
    let url = format!("{}{path}", served.base);
    let mut times = Vec::with_capacity(SAMPLES);
    let mut first = Duration::ZERO;
    let mut bytes = 0;
    for i in 0..WARMUP + SAMPLES {
        let t = Instant::now();
        let res = client.get(&url).send().await.map_err(|e| e.to_string())?;
        let status = res.status();
        let body = res.text().await.map_err(|e| e.to_string())?;
        let took = t.elapsed();
        if !status.is_success() || !body.contains(expect) {
            return Err(format!(
                "GET {path}: {status}, {} bytes, {expect:?} {}",
                body.len(),
                if body.contains(expect) {
                    "present"
                } else {
                    "missing"
                }
            ));
        }
        if i == 0 {
            first = took;
        }
        if i >= WARMUP {
            times.push(took);
            bytes = body.len();
        }
    }
    times.sort();
    Ok((
        percentile(&times, 50.0),
        percentile(&times, 95.0),
        first,
        bytes,
    ))
}

async fn bench_backend(backend: &str, orders: u64, rows: &mut Vec<Row>) {
    let target_ms: u64 = if backend == "sqlite" { 100 } else { 200 };
    let (db, how) = match prepare(backend, orders).await {
        Ok(x) => x,
        Err(why) => {
            progress(&format!("{backend}: SKIPPED: {why}"));
            rows.push(Row {
                page: "all pages".into(),
                backend: backend.into(),
                p50: "-".into(),
                p95: "-".into(),
                target: "-".into(),
                verdict: "SKIPPED".into(),
                notes: format!("*** {why} ***"),
            });
            return;
        }
    };
    let served = start(&db).await;
    let manager = signed_in(&served, &db, Role::Manager).await;
    let agent = signed_in(&served, &db, Role::Agent).await;
    let open_cases: i64 = engine::on_pool!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM support_cases WHERE status = 'open'").fetch_one(p).await)
        .unwrap_or(-1);
    rows.push(Row {
        page: "data".into(),
        backend: backend.into(),
        p50: "".into(),
        p95: "".into(),
        target: "".into(),
        verdict: "".into(),
        notes: format!("{how}; {open_cases} open support cases"),
    });
    let mut pages: Vec<(String, &reqwest::Client, String, &str, u64)> = vec![
        (
            "Overview /".into(),
            &manager,
            "/".into(),
            "Bounce rate",
            target_ms,
        ),
        (
            "Trends page".into(),
            &manager,
            format!("/trends?days={DAYS}"),
            "Daily bounce rate by class",
            target_ms,
        ),
    ];
    for kind in engine::stats::charts::ChartKind::ALL {
        pages.push((
            format!("chart {}", kind.name()),
            &manager,
            format!("/charts/{}.svg?days={DAYS}", kind.name()),
            "</svg>",
            target_ms,
        ));
    }
    pages.push((
        "Held queue /held".into(),
        &agent,
        "/held".into(),
        "Held queue",
        50,
    ));
    pages.push((
        "VPN-flagged /flagged".into(),
        &agent,
        "/flagged".into(),
        "VPN-flagged orders",
        target_ms,
    ));
    for (name, client, path, expect, target) in pages {
        progress(&format!("{backend}: {name}"));
        let row = match time_page(client, &served, &path, expect).await {
            Ok((p50, p95, first, bytes)) => Row {
                page: name,
                backend: backend.into(),
                p50: ms(p50),
                p95: ms(p95),
                target: format!("p95 < {target} ms"),
                verdict: if p95 < Duration::from_millis(target) {
                    "yes".into()
                } else {
                    "NO".into()
                },
                notes: format!("first request {}; {} KB", ms(first), bytes / 1024),
            },
            Err(why) => Row {
                page: name,
                backend: backend.into(),
                p50: "-".into(),
                p95: "-".into(),
                target: format!("p95 < {target} ms"),
                verdict: "FAILED".into(),
                notes: why,
            },
        };
        rows.push(row);
    }
    drop(served);
    db.close().await;
}

/// gzip -9 size of a file, in bytes (what a browser downloads with compression on).
fn gzip_len(path: &std::path::Path) -> Option<u64> {
    let out = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout.len() as u64)
}

/// The hydrate WASM a browser downloads before a page is interactive, gzip -9:
/// the one module, or, after `cargo leptos build --split` with lazy routes, the
/// main module plus the chunks of the page's route (listed in
/// `__wasm_split_manifest.json`), for the heaviest page.
fn wasm_rows() -> Vec<Row> {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site/pkg"));
    let row = |page: &str, p95: String, verdict: &str, notes: String| Row {
        page: page.into(),
        backend: "-".into(),
        p50: "".into(),
        p95,
        target: "<= 400 KB".into(),
        verdict: verdict.into(),
        notes,
    };
    let kb = |bytes: u64| bytes as f64 / 1024.0;
    // `rebound.<hash>.wasm` and `__wasm_split_manifest.<hash>.json` (hash-files).
    let find = |prefix: &str, suffix: &str| {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .find(|path| {
                path.file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with(prefix) && name.ends_with(suffix))
            })
    };
    let main = find("rebound.", ".wasm").unwrap_or_else(|| dir.join("rebound.wasm"));
    let Some(main_gz) = gzip_len(&main) else {
        return vec![row(
            "hydrate WASM (gzip -9)",
            "".into(),
            "SKIPPED",
            format!(
                "no rebound.wasm in {}: run `make build` first",
                dir.display()
            ),
        )];
    };
    let main_raw = std::fs::metadata(&main).map(|m| m.len()).unwrap_or(0);
    let manifest: Option<std::collections::BTreeMap<String, Vec<String>>> =
        find("__wasm_split_manifest", ".json")
            .and_then(|path| std::fs::read_to_string(path).ok())
            .and_then(|text| serde_json::from_str(&text).ok());
    let Some(manifest) = manifest else {
        let verdict = if kb(main_gz) <= 400.0 { "yes" } else { "NO" };
        return vec![row(
            "hydrate WASM (gzip -9)",
            format!("{:.0} KB", kb(main_gz)),
            verdict,
            format!("one module, not split ({:.0} KB raw)", kb(main_raw)),
        )];
    };
    let mut sizes: std::collections::HashMap<String, u64> = Default::default();
    let mut pages: Vec<(u64, usize, String)> = manifest
        .iter()
        .map(|(split, chunks)| {
            let total: u64 = chunks
                .iter()
                .map(|c| {
                    *sizes
                        .entry(c.clone())
                        .or_insert_with(|| gzip_len(&dir.join(format!("{c}.wasm"))).unwrap_or(0))
                })
                .sum();
            // `__held_view_1234`: the page's route.
            let name = split
                .trim_start_matches('_')
                .rsplit_once("_view_")
                .map_or(split.as_str(), |(n, _)| n)
                .to_string();
            (main_gz + total, chunks.len(), name)
        })
        .collect();
    pages.sort();
    let Some((heaviest, files, name)) = pages.last().cloned() else {
        return vec![];
    };
    let over: Vec<&str> = pages
        .iter()
        .filter(|(b, _, _)| kb(*b) > 400.0)
        .map(|(_, _, n)| n.as_str())
        .collect();
    let lightest = pages.first().map_or(0, |p| p.0);
    vec![
        row(
            "hydrate WASM: main module (gzip -9)",
            format!("{:.0} KB", kb(main_gz)),
            if kb(main_gz) <= 400.0 { "yes" } else { "NO" },
            format!("{:.0} KB raw; shell, router, hydration", kb(main_raw)),
        ),
        row(
            "hydrate WASM: heaviest page's first load",
            format!("{:.0} KB", kb(heaviest)),
            if over.is_empty() { "yes" } else { "NO" },
            format!(
                "{name}: main + {files} chunks; lightest page {:.0} KB; {} of {} pages over 400 KB{}",
                kb(lightest),
                over.len(),
                pages.len(),
                if over.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", over.join(", "))
                }
            ),
        ),
    ]
}

async fn run() {
    let wall = Instant::now();
    let mut rows = Vec::new();
    let sqlite_orders = env_count("REBOUND_BENCH_SQLITE_ORDERS", 1_000_000);
    let pg_orders = env_count("REBOUND_BENCH_PG_ORDERS", 10_000_000);
    if sqlite_orders > 0 {
        bench_backend("sqlite", sqlite_orders, &mut rows).await;
    }
    if pg_orders > 0 {
        bench_backend("postgres", pg_orders, &mut rows).await;
    }
    rows.extend(wasm_rows());
    print_table(&rows);
    println!(
        "{SAMPLES} sequential requests per page after {WARMUP} unmeasured, through the real router \
         (session, role check, full SSR); server and client share one process on {} cores; wall time {:.0} s",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        wall.elapsed().as_secs_f64()
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(run());
}
