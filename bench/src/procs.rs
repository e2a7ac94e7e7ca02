//! Processes, scratch databases, the SMTP sink and machine readings.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

pub type Res<T> = Result<T, String>;

/// The binaries and the folder a run keeps its logs, configs and SQLite files in.
pub struct Env {
    pub rebound: PathBuf,
    pub raw_lettre: PathBuf,
    pub bare_insert: PathBuf,
    pub run_dir: PathBuf,
}

impl Env {
    pub fn log(&self, name: &str) -> PathBuf {
        self.run_dir.join(format!("{name}.log"))
    }
}

/// A child process with its stderr in a log file; killed when dropped.
pub struct Proc {
    child: Child,
    pub name: String,
    log: PathBuf,
}

impl Proc {
    pub fn spawn(mut cmd: Command, name: &str, log: PathBuf) -> Res<Self> {
        let file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(file))
            .kill_on_drop(true);
        let child = cmd.spawn().map_err(|e| format!("start {name}: {e}"))?;
        Ok(Self {
            child,
            name: name.to_string(),
            log,
        })
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// `VmHWM` (peak resident set) from `/proc/PID/status`, in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    }

    /// CPU time (user + system) the process has used so far, from `/proc/PID/stat`.
    pub fn cpu_time(&self) -> Duration {
        let Some(pid) = self.pid() else {
            return Duration::ZERO;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Fields after the `(comm)`, which may hold spaces: state is the 3rd
        // field, utime and stime the 14th and 15th.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let f: Vec<u64> = rest
            .split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|v| v.parse().ok())
            .collect();
        // USER_HZ is 100 on Linux.
        Duration::from_millis(f.iter().sum::<u64>() * 10)
    }

    /// Fails with the end of the log if the process has exited.
    pub fn check_alive(&mut self) -> Res<()> {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(format!(
                "{} exited ({status}): {}",
                self.name,
                log_tail(&self.log)
            )),
            Ok(None) => Ok(()),
            Err(e) => Err(format!("{}: {e}", self.name)),
        }
    }

    /// SIGTERM, up to 30 s to finish, then SIGKILL.
    pub async fn stop(mut self) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
            if tokio::time::timeout(Duration::from_secs(30), self.child.wait())
                .await
                .is_ok()
            {
                return;
            }
        }
        let _ = self.child.kill().await;
    }
}

pub fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(8)..].join(" | ")
}

pub fn free_port() -> Res<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

/// Polls `url` every `every` until it answers 200; the moment it did.
pub async fn wait_ok(
    client: &reqwest::Client,
    url: &str,
    proc: &mut Proc,
    every: Duration,
) -> Res<Instant> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(url).send().await
            && r.status().is_success()
        {
            return Ok(Instant::now());
        }
        proc.check_alive()?;
        if Instant::now() > deadline {
            return Err(format!("{} not ready at {url} within 60 s", proc.name));
        }
        tokio::time::sleep(every).await;
    }
}

pub fn epoch_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// Databases

#[derive(Clone)]
pub enum Backend {
    Sqlite,
    /// The admin URL (its database is where `CREATE DATABASE` is sent).
    Postgres(String),
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// A fresh, empty database for one server run: a new SQLite file in its own
/// folder, or a new PostgreSQL database, dropped by [`Scratch::drop_db`].
pub struct Scratch {
    pub url: String,
    pg: Option<(String, String)>,
    dir: Option<PathBuf>,
}

/// `postgres://u@h:p/db?x` → the same URL naming database `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..host_end])
}

impl Scratch {
    pub async fn create(backend: &Backend, env: &Env, label: &str) -> Res<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = env.run_dir.join(format!("db-{label}"));
                std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                Ok(Self {
                    url: format!("sqlite://{}/rebound.db", dir.display()),
                    pg: None,
                    dir: Some(dir),
                })
            }
            Backend::Postgres(admin) => {
                let name = format!("rebound_bench_{}_{label}", std::process::id())
                    .replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_");
                pg_admin(admin, &format!("CREATE DATABASE {name}")).await?;
                Ok(Self {
                    url: with_database(admin, &name),
                    pg: Some((admin.clone(), name)),
                    dir: None,
                })
            }
        }
    }

    pub async fn drop_db(self) {
        if let Some((admin, name)) = &self.pg {
            let _ = pg_admin(
                admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await;
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

async fn pg_admin(admin: &str, sql: &str) -> Res<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .map_err(|e| format!("connect {admin}: {e}"))?;
    sqlx::query(sql)
        .execute(&mut conn)
        .await
        .map_err(|e| format!("{sql}: {e}"))?;
    let _ = conn.close().await;
    Ok(())
}

/// A read-only look at a server's database while it runs (no checkpoints,
/// one connection, so the process under test does all of its own work).
pub enum Peek {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Peek {
    pub async fn open(url: &str) -> Res<Self> {
        use std::str::FromStr;
        if url.starts_with("sqlite:") {
            let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .map_err(|e| e.to_string())?
                .read_only(true);
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts)
                .await
                .map_err(|e| format!("open {url}: {e}"))?;
            Ok(Peek::Sqlite(pool))
        } else {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .map_err(|e| format!("open {url}: {e}"))?;
            Ok(Peek::Postgres(pool))
        }
    }

    /// One `i64` (a count or a maximum; NULL reads as 0).
    pub async fn scalar(&self, sql: &str) -> Res<i64> {
        let v: Option<i64> = match self {
            Peek::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            Peek::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        }
        .map_err(|e| format!("{sql}: {e}"))?;
        Ok(v.unwrap_or(0))
    }

    pub async fn close(self) {
        match self {
            Peek::Sqlite(p) => p.close().await,
            Peek::Postgres(p) => p.close().await,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The SMTP sink

pub const SMTP_SINK: &str = "/usr/sbin/smtp-sink";

/// Postfix's `smtp-sink` on a free loopback port (backlog 256), killed on drop.
pub struct Sink {
    _proc: Proc,
    pub port: u16,
}

pub async fn start_sink(env: &Env) -> Res<Sink> {
    if !Path::new(SMTP_SINK).exists() {
        return Err(format!("{SMTP_SINK} not found (Debian package `postfix`)"));
    }
    let port = free_port()?;
    let mut cmd = Command::new(SMTP_SINK);
    if running_as_root() {
        // As root it refuses to run without dropping privileges.
        cmd.args(["-u", "postfix"]);
    }
    cmd.args([format!("127.0.0.1:{port}"), "256".to_string()]);
    let mut proc = Proc::spawn(cmd, "smtp-sink", env.log("smtp-sink"))?;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        proc.check_alive()?;
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(Sink { _proc: proc, port });
        }
        if Instant::now() > deadline {
            return Err("smtp-sink did not listen within 5 s".to_string());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
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

// ---------------------------------------------------------------------------------------
// Machine readings

/// The 1-minute load average.
pub fn load1() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// Busy CPU time of the whole machine so far (all cores, from `/proc/stat`).
pub fn machine_busy() -> Duration {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(cpu) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return Duration::ZERO;
    };
    let f: Vec<u64> = cpu
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    let busy: u64 = f
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .take(8)
        .map(|(_, v)| v)
        .sum();
    // USER_HZ is 100 on Linux.
    Duration::from_millis(busy * 10)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn names_the_database_in_the_url() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x1"),
            "postgres://postgres@127.0.0.1:5432/x1"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "x1"),
            "postgres://u@h/x1?sslmode=disable"
        );
    }
}
