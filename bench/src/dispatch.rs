//! Dispatch: a queue filled through the shop API of a `rebound serve --role
//! web` process, then drained by one `rebound serve --role worker` process
//! into `smtp-sink`, timed from its `/readyz` until the queue is empty;
//! against `raw-lettre` in its own process with the same connection count.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::process::Command;

use crate::procs::{Backend, Env, Peek, Res, Scratch, epoch_ms, load1, machine_busy};
use crate::rebound;

/// Relay connections on both sides (the pool's `max_per_second = 8`).
pub const CONNS: usize = 8;
/// Longest a worker may take to drain one queue.
const DRAIN_CAP: Duration = Duration::from_secs(180);

pub fn order_body(prefix: &str, i: usize) -> String {
    let domain = ["example.com", "gmail.com", "yahoo.com", "outlook.com"][i % 4];
    serde_json::json!({
        "order_number": format!("{prefix}-{i}"),
        "placed_at": "2026-11-27T21:00:00Z",
        "currency": "EUR",
        "items": [
            { "name": "Enamel mug", "quantity": 2, "unit_price": 1250 },
            { "name": "Loose-leaf tea, 100 g", "quantity": 1, "unit_price": 500 }
        ],
        "totals": { "subtotal": 3000, "shipping": 490, "total": 3490 },
        "customer": {
            "email": format!("customer{i}@{domain}"),
            "name": "Bench Customer",
            "account_kind": "guest"
        },
        "client_ip": format!("198.18.{}.{}", (i / 250) % 250, i % 250 + 1)
    })
    .to_string()
}

/// Posts `n` orders through the shop API, 32 at a time; how many were taken.
async fn fill(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    prefix: &str,
    n: usize,
) -> Res<usize> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let (client, next) = (client.clone(), next.clone());
        let (url, auth, prefix) = (
            format!("{base}/api/v1/orders"),
            format!("Bearer {key}"),
            prefix.to_string(),
        );
        set.spawn(async move {
            let (mut ok, mut first_err) = (0usize, None::<String>);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let r = client
                    .post(&url)
                    .header("Authorization", &auth)
                    .header("Content-Type", "application/json")
                    .body(order_body(&prefix, i))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => ok += 1,
                    Ok(r) => {
                        first_err.get_or_insert(format!("HTTP {}", r.status()));
                    }
                    Err(e) => {
                        first_err.get_or_insert(e.to_string());
                    }
                }
            }
            (ok, first_err)
        });
    }
    let (mut ok, mut first) = (0, None);
    while let Some(r) = set.join_next().await {
        let (o, e) = r.map_err(|e| format!("fill task: {e}"))?;
        ok += o;
        if first.is_none() {
            first = e;
        }
    }
    if ok < n {
        return Err(format!(
            "only {ok} of {n} orders taken (first error: {})",
            first.unwrap_or_default()
        ));
    }
    Ok(ok)
}

/// One drained queue.
#[derive(Clone, Debug)]
pub struct WorkerRun {
    /// Receipts accepted after the worker said ready, per second to the last outcome.
    pub msg_per_s: f64,
    /// Sent before `/readyz` first answered (not counted in the rate).
    pub before_ready: i64,
    pub seconds: f64,
    /// Peak resident set of the worker process (VmHWM).
    pub peak_rss_mib: f64,
    /// Machine CPU (all processes) per receipt while draining, µs.
    pub cpu_us_per_msg: f64,
    /// The worker process's own CPU per receipt, µs.
    pub worker_cpu_us_per_msg: f64,
}

const PENDING_SQL: &str = "SELECT CAST(CASE WHEN EXISTS (SELECT 1 FROM jobs WHERE state = 'running') \
     OR EXISTS (SELECT 1 FROM jobs WHERE state = 'queued') THEN 1 ELSE 0 END AS BIGINT)";
const ACCEPTED_SQL: &str = "SELECT COUNT(*) FROM orders WHERE state = 'accepted'";

/// Starts the worker on the filled database and waits until the queue is empty.
async fn drain(
    env: &Env,
    client: &reqwest::Client,
    db_url: &str,
    config: &Path,
    n: usize,
    label: &str,
) -> Res<WorkerRun> {
    let peek = Peek::open(db_url).await?;
    let port = crate::procs::free_port()?;
    let mut proc = rebound::serve(env, db_url, config, "worker", port, label)?;
    let ready_at = crate::procs::wait_ok(
        client,
        &format!("http://127.0.0.1:{port}/readyz"),
        &mut proc,
        Duration::from_millis(2),
    )
    .await?;
    let ready_ms = epoch_ms();
    let (cpu0, worker0) = (machine_busy(), proc.cpu_time());
    let before_ready = peek.scalar(ACCEPTED_SQL).await?;
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if peek.scalar(PENDING_SQL).await? == 0 {
            break;
        }
        proc.check_alive()?;
        if ready_at.elapsed() > DRAIN_CAP {
            return Err(format!(
                "the worker did not drain {n} receipts in {DRAIN_CAP:?}"
            ));
        }
    }
    let cpu = machine_busy().saturating_sub(cpu0);
    let worker_cpu = proc.cpu_time().saturating_sub(worker0);
    let peak_rss_mib = proc.peak_rss_kib().unwrap_or(0) as f64 / 1024.0;
    proc.stop().await;
    let accepted = peek.scalar(ACCEPTED_SQL).await?;
    let attempts = peek
        .scalar("SELECT COUNT(*) FROM delivery_attempts WHERE outcome = 'accepted'")
        .await?;
    let last = peek
        .scalar("SELECT MAX(finished_at) FROM delivery_attempts")
        .await?;
    peek.close().await;
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    if accepted != n || attempts != n {
        return Err(format!(
            "after draining: {accepted} orders accepted and {attempts} accepted attempts recorded, expected {n} each"
        ));
    }
    let seconds = (last - ready_ms) as f64 / 1000.0;
    let sent = (accepted - before_ready) as f64;
    Ok(WorkerRun {
        msg_per_s: sent / seconds.max(1e-3),
        before_ready,
        seconds,
        peak_rss_mib,
        cpu_us_per_msg: cpu.as_secs_f64() * 1e6 / sent.max(1.0),
        worker_cpu_us_per_msg: worker_cpu.as_secs_f64() * 1e6 / sent.max(1.0),
    })
}

/// The raw lettre loop in its own process: messages per second, and machine CPU per message.
async fn raw(env: &Env, sink_port: u16, n: usize) -> Res<(f64, f64)> {
    let cpu0 = machine_busy();
    let out = Command::new(&env.raw_lettre)
        .args([
            "--port",
            &sink_port.to_string(),
            "--messages",
            &n.to_string(),
            "--conns",
            &CONNS.to_string(),
        ])
        .output()
        .await
        .map_err(|e| format!("raw-lettre: {e}"))?;
    let cpu = machine_busy().saturating_sub(cpu0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("RAW "))
        .ok_or_else(|| format!("raw-lettre printed nothing ({})", out.status))?;
    let get = |name: &str| {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap_or("")
            .to_string()
    };
    let sent: f64 = get("sent")
        .parse()
        .map_err(|_| format!("raw-lettre: {line}"))?;
    let secs: f64 = get("seconds")
        .parse()
        .map_err(|_| format!("raw-lettre: {line}"))?;
    if get("failed") != "0" {
        return Err(format!("raw-lettre failures: {line}"));
    }
    Ok((
        sent / secs.max(1e-9),
        cpu.as_secs_f64() * 1e6 / sent.max(1.0),
    ))
}

pub struct Round {
    pub worker: WorkerRun,
    pub raw_per_s: f64,
    pub raw_cpu_us: f64,
    pub load1: f64,
}

/// One round: fill through the web process, then the worker and the raw loop,
/// in the order `raw_first` says.
#[allow(clippy::too_many_arguments)]
async fn round(
    env: &Env,
    client: &reqwest::Client,
    backend: &Backend,
    config: &Path,
    sink_port: u16,
    n: usize,
    label: &str,
    raw_first: bool,
) -> Res<Round> {
    let db = Scratch::create(backend, env, label).await?;
    let result = async {
        let key = rebound::prepare(env, &db.url, config).await?;
        let (web, base) =
            rebound::serve_ready(env, client, &db.url, config, "web", &format!("{label}web"))
                .await?;
        let t = Instant::now();
        fill(client, &base, &key, label, n).await?;
        crate::progress(&format!(
            "dispatch {label}: {n} orders queued through the shop API in {:.1} s",
            t.elapsed().as_secs_f64()
        ));
        web.stop().await;
        let load_avg = load1();
        let (raw_per_s, raw_cpu_us, worker) = if raw_first {
            let (r, c) = raw(env, sink_port, n).await?;
            let w = drain(env, client, &db.url, config, n, &format!("{label}worker")).await?;
            (r, c, w)
        } else {
            let w = drain(env, client, &db.url, config, n, &format!("{label}worker")).await?;
            let (r, c) = raw(env, sink_port, n).await?;
            (r, c, w)
        };
        Ok(Round {
            worker,
            raw_per_s,
            raw_cpu_us,
            load1: load_avg,
        })
    }
    .await;
    db.drop_db().await;
    result
}

pub async fn run(
    env: &Env,
    client: &reqwest::Client,
    backend: &Backend,
    config: &Path,
    sink_port: u16,
    n: usize,
    rounds: usize,
) -> Res<Vec<Round>> {
    let name = backend.name();
    let mut out = Vec::new();
    for r in 0..rounds {
        let label = format!("d{name}{r}");
        let got = round(
            env,
            client,
            backend,
            config,
            sink_port,
            n,
            &label,
            r % 2 == 0,
        )
        .await?;
        crate::progress(&format!(
            "dispatch {name} round {}/{rounds}: worker {:.0} msg/s ({:.2} s, {} sent before ready, peak RSS {:.0} MiB, CPU/msg machine {:.0} us, worker process {:.0} us), raw {:.0} msg/s ({:.0} us CPU/msg): {:.2}x; load {:.2}",
            r + 1,
            got.worker.msg_per_s,
            got.worker.seconds,
            got.worker.before_ready,
            got.worker.peak_rss_mib,
            got.worker.cpu_us_per_msg,
            got.worker.worker_cpu_us_per_msg,
            got.raw_per_s,
            got.raw_cpu_us,
            got.worker.msg_per_s / got.raw_per_s.max(1e-9),
            got.load1
        ));
        out.push(got);
    }
    Ok(out)
}
