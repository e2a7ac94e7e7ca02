//! Intake: `wrk` against `rebound serve --role web` and against the bare
//! axum + sqlx insert server, each on a fresh database, alternated round by
//! round.

use std::path::Path;
use std::time::Duration;

use tokio::process::Command;

use crate::procs::{Backend, Env, Proc, Res, Scratch, free_port, load1, machine_busy, wait_ok};
use crate::rebound;

/// How wrk is run: threads, connections, seconds measured (after a warm-up).
#[derive(Clone, Copy)]
pub struct Load {
    pub threads: usize,
    pub connections: usize,
    pub seconds: u64,
    pub warmup_seconds: u64,
}

/// What one wrk run reported.
#[derive(Clone, Debug)]
pub struct WrkResult {
    /// Answers in 2xx/3xx per second.
    pub ok_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Non-2xx/3xx answers, socket errors and timeouts.
    pub errors: u64,
    /// CPU of the server process per answered request, µs.
    pub server_cpu_us: f64,
    /// CPU of the whole machine (server, database, wrk) per answered request, µs.
    pub machine_cpu_us: f64,
}

/// The wrk script: `POST` a realistic order with a unique number (`{prefix}-{thread}-{n}`),
/// four mailbox providers, half of the client IPs from a private range; one `WRK …` line.
fn script(prefix: &str, path: &str, key: Option<&str>) -> String {
    let auth = key
        .map(|k| format!("wrk.headers[\"Authorization\"] = \"Bearer {k}\"\n"))
        .unwrap_or_default();
    format!(
        r#"local counter = 0
local domains = {{"example.com", "gmail.com", "yahoo.com", "outlook.com"}}
wrk.method = "POST"
wrk.path = "{path}"
wrk.headers["Content-Type"] = "application/json"
{auth}
local threads = {{}}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function request()
  counter = counter + 1
  local i = counter * 8 + tid
  local ip
  if i % 2 == 0 then
    ip = string.format("10.%d.%d.7", math.floor(i / 2) % 200, math.floor(i / 400) % 250)
  else
    ip = string.format("198.18.%d.%d", math.floor(i / 250) % 250, i % 250 + 1)
  end
  local body = string.format(
    '{{"order_number":"{prefix}-%d-%d","placed_at":"2026-11-27T21:00:00Z","currency":"EUR",' ..
    '"items":[{{"name":"Enamel mug","quantity":2,"unit_price":1250}},' ..
    '{{"name":"Loose-leaf tea, 100 g","quantity":1,"unit_price":500}}],' ..
    '"totals":{{"subtotal":3000,"shipping":490,"total":3490}},' ..
    '"customer":{{"email":"customer%d@%s","name":"Bench Customer","account_kind":"guest"}},' ..
    '"client_ip":"%s"}}',
    tid, counter, i, domains[(i % 4) + 1], ip)
  return wrk.format(nil, nil, nil, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"#
    )
}

fn field(line: &str, name: &str) -> Res<f64> {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("wrk printed no {name}: {line}"))
}

/// One wrk run of `seconds` against `url` with the script for `prefix`.
async fn wrk(
    env: &Env,
    load: Load,
    seconds: u64,
    url: &str,
    path: &str,
    key: Option<&str>,
    prefix: &str,
) -> Res<WrkResult> {
    let lua = env.run_dir.join(format!("{prefix}.lua"));
    std::fs::write(&lua, script(prefix, path, key)).map_err(|e| e.to_string())?;
    let out = Command::new("wrk")
        .args([
            &format!("-t{}", load.threads),
            &format!("-c{}", load.connections),
            &format!("-d{seconds}s"),
            "--timeout",
            "5s",
            "-s",
        ])
        .arg(&lua)
        .arg(url)
        .output()
        .await
        .map_err(|e| format!("wrk: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("WRK "))
        .ok_or_else(|| {
            format!(
                "wrk printed no result ({}): {} {}",
                out.status,
                stdout.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            )
        })?;
    let requests = field(line, "requests")?;
    let errors = field(line, "errors")?;
    let secs = field(line, "duration_us")? / 1e6;
    Ok(WrkResult {
        ok_per_s: (requests - errors).max(0.0) / secs.max(1e-9),
        p50_ms: field(line, "p50_us")? / 1000.0,
        p99_ms: field(line, "p99_us")? / 1000.0,
        errors: errors as u64,
        server_cpu_us: 0.0,
        machine_cpu_us: 0.0,
    })
}

/// Warm-up run (discarded), then the measured run, with the CPU the server
/// process and the machine spent on it.
async fn measure(
    env: &Env,
    load: Load,
    server: &Proc,
    base: &str,
    path: &str,
    key: Option<&str>,
    label: &str,
) -> Res<WrkResult> {
    let url = format!("{base}{path}");
    wrk(
        env,
        load,
        load.warmup_seconds,
        &url,
        path,
        key,
        &format!("{label}w"),
    )
    .await?;
    let (cpu0, machine0) = (server.cpu_time(), machine_busy());
    let mut r = wrk(
        env,
        load,
        load.seconds,
        &url,
        path,
        key,
        &format!("{label}m"),
    )
    .await?;
    let answered = (r.ok_per_s * load.seconds as f64).max(1.0);
    r.server_cpu_us = server.cpu_time().saturating_sub(cpu0).as_secs_f64() * 1e6 / answered;
    r.machine_cpu_us = machine_busy().saturating_sub(machine0).as_secs_f64() * 1e6 / answered;
    Ok(r)
}

/// `rebound serve --role web` on a fresh database, measured.
async fn rebound_run(
    env: &Env,
    client: &reqwest::Client,
    backend: &Backend,
    config: &Path,
    load: Load,
    label: &str,
) -> Res<WrkResult> {
    let db = Scratch::create(backend, env, label).await?;
    let result = async {
        let key = rebound::prepare(env, &db.url, config).await?;
        let (proc, base) = rebound::serve_ready(env, client, &db.url, config, "web", label).await?;
        let r = measure(env, load, &proc, &base, "/api/v1/orders", Some(&key), label).await;
        proc.stop().await;
        r
    }
    .await;
    db.drop_db().await;
    result
}

/// The bare insert server on a fresh database, measured.
async fn bare_run(
    env: &Env,
    client: &reqwest::Client,
    backend: &Backend,
    load: Load,
    label: &str,
) -> Res<WrkResult> {
    let db = Scratch::create(backend, env, label).await?;
    let result = async {
        let port = free_port()?;
        let mut cmd = Command::new(&env.bare_insert);
        cmd.args(["--db", &db.url, "--bind", &format!("127.0.0.1:{port}")]);
        let mut proc = Proc::spawn(cmd, "bare-insert", env.log(label))?;
        let base = format!("http://127.0.0.1:{port}");
        wait_ok(
            client,
            &format!("{base}/healthz"),
            &mut proc,
            Duration::from_millis(20),
        )
        .await?;
        let r = measure(env, load, &proc, &base, "/bare/orders", None, label).await;
        proc.stop().await;
        r
    }
    .await;
    db.drop_db().await;
    result
}

/// One intake round: (Rebound, bare, load average at the start).
pub struct Round {
    pub rebound: WrkResult,
    pub bare: WrkResult,
    pub load1: f64,
}

/// `rounds` alternated pairs (even rounds Rebound first, odd rounds bare first).
pub async fn run(
    env: &Env,
    client: &reqwest::Client,
    backend: &Backend,
    config: &Path,
    load: Load,
    rounds: usize,
) -> Res<Vec<Round>> {
    let mut out = Vec::new();
    let name = backend.name();
    for round in 0..rounds {
        let load_avg = load1();
        let (rl, bl) = (format!("i{name}{round}r"), format!("i{name}{round}b"));
        let (rebound, bare) = if round % 2 == 0 {
            let r = rebound_run(env, client, backend, config, load, &rl).await?;
            (r, bare_run(env, client, backend, load, &bl).await?)
        } else {
            let b = bare_run(env, client, backend, load, &bl).await?;
            (
                rebound_run(env, client, backend, config, load, &rl).await?,
                b,
            )
        };
        crate::progress(&format!(
            "intake {name} round {}/{rounds}: Rebound {:.0} req/s (p99 {:.1} ms, {} errors, CPU/req server {:.0} us, machine {:.0} us), bare {:.0} req/s (p99 {:.1} ms, {} errors, CPU/req server {:.0} us, machine {:.0} us): {:.2}x; load {load_avg:.2}",
            round + 1,
            rebound.ok_per_s,
            rebound.p99_ms,
            rebound.errors,
            rebound.server_cpu_us,
            rebound.machine_cpu_us,
            bare.ok_per_s,
            bare.p99_ms,
            bare.errors,
            bare.server_cpu_us,
            bare.machine_cpu_us,
            rebound.ok_per_s / bare.ok_per_s.max(1e-9)
        ));
        out.push(Round {
            rebound,
            bare,
            load1: load_avg,
        });
    }
    Ok(out)
}
