//! `rebound-bench`: Rebound measured the way it runs, against ceilings that
//! run the way a competitor would run them, every side in its own process.
//!
//! - Intake: `wrk` (`-t2 -c32`, a warm-up, then `REBOUND_BENCH_SECONDS`, 8 s)
//!   posting realistic orders, each with a fresh order number, to
//!   `rebound serve --role web` and to `bare-insert` (axum + sqlx, one INSERT
//!   per request), each on a fresh database.
//! - Dispatch: `REBOUND_BENCH_ORDERS` (30,000) orders posted through the shop
//!   API of a `--role web` process; then one `rebound serve --role worker`
//!   drains the queue into Postfix's `smtp-sink`, timed from its first ready
//!   `/readyz` to its last recorded outcome; against `raw-lettre` (8 lettre
//!   connections over `TCP_NODELAY` sockets building and sending as many
//!   receipts) into the same sink.
//!
//! Each pair alternates (who goes first switches every round) for
//! `REBOUND_BENCH_ROUNDS` (3) rounds; the table shows the median ratio and its
//! spread. Backends: SQLite, and PostgreSQL when `REBOUND_TEST_POSTGRES_URL`
//! (or 127.0.0.1:5432, trust auth, database `test`) answers; a fresh database
//! per server run. `REBOUND_BENCH_ONLY=intake|dispatch` runs one half.
//! `scripts/bench.sh` (`make bench`) builds the release binaries and runs it.

mod dispatch;
mod intake;
mod procs;
mod rebound;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use procs::{Backend, Env, Res};

pub fn progress(msg: &str) {
    eprintln!("[bench] {msg}");
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// `median (min–max)` of the ratios.
fn ratio_cell(ratios: &[f64]) -> String {
    let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{:.2}x ({lo:.2}-{hi:.2})", median(ratios.to_vec()))
}

fn thousands(x: f64) -> String {
    let s = (x.round().max(0.0) as u64).to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn binaries() -> Res<Env> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe
        .parent()
        .ok_or("the bench binary has no folder")?
        .to_path_buf();
    let find = |name: &str| -> Res<PathBuf> {
        let p = dir.join(name);
        if p.exists() {
            Ok(p)
        } else {
            Err(format!(
                "{} is missing: build it first (`scripts/bench.sh` builds the release binaries)",
                p.display()
            ))
        }
    };
    let run_dir = std::env::temp_dir().join(format!("rebound-bench-{}", std::process::id()));
    std::fs::create_dir_all(&run_dir).map_err(|e| format!("{}: {e}", run_dir.display()))?;
    Ok(Env {
        rebound: find("rebound")?,
        raw_lettre: find("raw-lettre")?,
        bare_insert: find("bare-insert")?,
        run_dir,
    })
}

async fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    let url = std::env::var("REBOUND_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let reachable = tokio::time::timeout(
        Duration::from_millis(500),
        tokio::net::TcpStream::connect("127.0.0.1:5432"),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    if std::env::var("REBOUND_TEST_POSTGRES_URL").is_ok() || reachable {
        out.push(Backend::Postgres(url));
    } else {
        progress("PostgreSQL SKIPPED: nothing answers on 127.0.0.1:5432");
    }
    let only: Option<String> = std::env::var("REBOUND_BENCH_BACKENDS").ok();
    out.retain(|b| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|x| x == b.name()))
    });
    out
}

struct Line {
    what: String,
    backend: &'static str,
    rebound: String,
    ceiling: String,
    ratio: String,
    notes: String,
}

fn print_table(lines: &[Line]) {
    println!();
    println!("| benchmark | backend | Rebound | ceiling | ratio (median, min-max) | notes |");
    println!("|---|---|---|---|---|---|");
    for l in lines {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            l.what, l.backend, l.rebound, l.ceiling, l.ratio, l.notes
        );
    }
    println!();
}

fn intake_line(backend: &Backend, rounds: &[intake::Round]) -> Line {
    let ratios: Vec<f64> = rounds
        .iter()
        .map(|r| r.rebound.ok_per_s / r.bare.ok_per_s.max(1e-9))
        .collect();
    let p99 = median(rounds.iter().map(|r| r.rebound.p99_ms).collect());
    let p99_max = rounds.iter().map(|r| r.rebound.p99_ms).fold(0.0, f64::max);
    let errors: u64 = rounds
        .iter()
        .map(|r| r.rebound.errors + r.bare.errors)
        .sum();
    Line {
        what: "intake (wrk -t2 -c32)".into(),
        backend: backend.name(),
        rebound: format!(
            "{} req/s, p50 {:.1} ms, p99 {p99:.1} ms (max {p99_max:.1})",
            thousands(median(rounds.iter().map(|r| r.rebound.ok_per_s).collect())),
            median(rounds.iter().map(|r| r.rebound.p50_ms).collect())
        ),
        ceiling: format!(
            "bare insert {} req/s, p99 {:.1} ms",
            thousands(median(rounds.iter().map(|r| r.bare.ok_per_s).collect())),
            median(rounds.iter().map(|r| r.bare.p99_ms).collect())
        ),
        ratio: ratio_cell(&ratios),
        notes: format!(
            "{} rounds; errors {errors}; CPU/req Rebound {:.0} us (machine {:.0}), bare {:.0} us (machine {:.0}); load {}",
            rounds.len(),
            median(rounds.iter().map(|r| r.rebound.server_cpu_us).collect()),
            median(rounds.iter().map(|r| r.rebound.machine_cpu_us).collect()),
            median(rounds.iter().map(|r| r.bare.server_cpu_us).collect()),
            median(rounds.iter().map(|r| r.bare.machine_cpu_us).collect()),
            rounds
                .iter()
                .map(|r| format!("{:.1}", r.load1))
                .collect::<Vec<_>>()
                .join("/")
        ),
    }
}

fn dispatch_line(backend: &Backend, rounds: &[dispatch::Round], n: usize) -> Line {
    let ratios: Vec<f64> = rounds
        .iter()
        .map(|r| r.worker.msg_per_s / r.raw_per_s.max(1e-9))
        .collect();
    let rss = rounds
        .iter()
        .map(|r| r.worker.peak_rss_mib)
        .fold(0.0, f64::max);
    Line {
        what: format!("dispatch ({n} receipts)"),
        backend: backend.name(),
        rebound: format!(
            "worker {} msg/s",
            thousands(median(rounds.iter().map(|r| r.worker.msg_per_s).collect()))
        ),
        ceiling: format!(
            "raw lettre {} msg/s",
            thousands(median(rounds.iter().map(|r| r.raw_per_s).collect()))
        ),
        ratio: ratio_cell(&ratios),
        notes: format!(
            "{} rounds; worker peak RSS {rss:.0} MiB; machine CPU/msg Rebound {:.0} us (worker process {:.0}), raw {:.0} us; load {}",
            rounds.len(),
            median(rounds.iter().map(|r| r.worker.cpu_us_per_msg).collect()),
            median(
                rounds
                    .iter()
                    .map(|r| r.worker.worker_cpu_us_per_msg)
                    .collect()
            ),
            median(rounds.iter().map(|r| r.raw_cpu_us).collect()),
            rounds
                .iter()
                .map(|r| format!("{:.1}", r.load1))
                .collect::<Vec<_>>()
                .join("/")
        ),
    }
}

async fn run() -> Res<()> {
    let started = Instant::now();
    let env = binaries()?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .map_err(|e| e.to_string())?;
    let rounds: usize = env_or("REBOUND_BENCH_ROUNDS", 3usize).max(1);
    let orders: usize = env_or("REBOUND_BENCH_ORDERS", 30_000usize);
    let load = intake::Load {
        threads: 2,
        connections: 32,
        seconds: env_or("REBOUND_BENCH_SECONDS", 8u64),
        warmup_seconds: 2,
    };
    let only = std::env::var("REBOUND_BENCH_ONLY").unwrap_or_default();
    let sink = procs::start_sink(&env).await?;
    let config = rebound::write_config(&env, sink.port)?;
    let mut lines = Vec::new();
    progress(&format!(
        "load average {:.2} at the start; logs in {}",
        procs::load1(),
        env.run_dir.display()
    ));
    for backend in backends().await {
        if only.is_empty() || only == "intake" {
            let r = intake::run(&env, &client, &backend, &config, load, rounds).await?;
            lines.push(intake_line(&backend, &r));
        }
        if only.is_empty() || only == "dispatch" {
            let r =
                dispatch::run(&env, &client, &backend, &config, sink.port, orders, rounds).await?;
            lines.push(dispatch_line(&backend, &r, orders));
        }
    }
    print_table(&lines);
    println!(
        "{} rounds each, {:.0} s in all; load average at the end {:.2}",
        rounds,
        started.elapsed().as_secs_f64(),
        procs::load1()
    );
    drop(sink);
    let _ = std::fs::remove_dir_all(&env.run_dir);
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rebound-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
