//! Real `rebound serve` processes for the proof suite (`proof.rs`): start,
//! SIGKILL, post orders over HTTP, and count what the loopback SMTP server
//! received per order.

use engine::delivery::pools::{self, NewPool};
use engine::testing::TestDb;
use engine::testing::smtp_server::ScriptedSmtpServer;
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::T0;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub struct Serve {
    child: Child,
    pub base: String,
}

impl Serve {
    pub async fn start(db_url: &str, batch: i64) -> Serve {
        Self::start_with(db_url, batch, &[]).await
    }

    /// With extra `REBOUND_…` settings for this process.
    pub async fn start_with(db_url: &str, batch: i64, env: &[(&str, &str)]) -> Serve {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_rebound"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", db_url)
            .env("REBOUND_DEMO__CREATE_ADMIN", "false")
            .env("REBOUND_DELIVERY__LEASE_SECONDS", "4")
            .env("REBOUND_DELIVERY__SMTP_TIMEOUT_SECONDS", "2")
            .env("REBOUND_DELIVERY__BATCH_SIZE", batch.to_string())
            .env("REBOUND_LOG__LEVEL", "warn")
            // After the defaults above, so a test can override them.
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn rebound serve");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = reqwest::get(format!("{base}/healthz")).await
                && r.status() == 200
            {
                break;
            }
            assert!(Instant::now() < deadline, "rebound serve did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Serve { child, base }
    }

    /// The process id (a worker's lease owner is `worker-<pid>-…`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kill(mut self) {
        // SIGKILL: no graceful shutdown, in-flight jobs are simply abandoned.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn setup(t: &TestDb, smtp: &ScriptedSmtpServer) -> String {
    for (name, role, pos) in [("primary", "primary", 0), ("backup", "backup", 1)] {
        pools::create(
            &t.db,
            T0,
            NewPool {
                name,
                role: role.parse().expect("primary, backup or masked"),
                from_name: "Shop",
                from_address: &format!("{name}@shop.example"),
                relay_url: &format!("smtp://{}", smtp.addr()),
                max_per_second: 8,
                position: pos,
            },
        )
        .await
        .expect("pool");
    }
    engine::apikeys::create(&t.db, T0, "load", "test")
        .await
        .expect("key")
        .secret
}

pub async fn post_orders(bases: &[String], key: &str, prefix: &str, n: usize, email: &str) {
    let client = reqwest::Client::new();
    let mut pending = Vec::new();
    for i in 0..n {
        let base = &bases[i % bases.len()];
        let body = serde_json::json!({
            "order_number": format!("{prefix}-{i}"),
            "placed_at": "2026-11-27T21:00:00Z",
            "currency": "EUR",
            "items": [{ "name": "Mug", "quantity": 1, "unit_price": 1000 }],
            "totals": { "subtotal": 1000, "total": 1000 },
            "customer": { "email": email, "name": "Load", "account_kind": "guest" }
        });
        pending.push(
            client
                .post(format!("{base}/api/v1/orders"))
                .bearer_auth(key)
                .json(&body)
                .send(),
        );
        if pending.len() == 32 || i + 1 == n {
            for r in futures::future::join_all(pending.drain(..)).await {
                assert_eq!(r.expect("post").status(), 202);
            }
        }
    }
}

pub async fn count_states(t: &TestDb) -> HashMap<String, i64> {
    engine::on_pool!(&t.db, p => sqlx::query_as::<_, (String, i64)>("SELECT state, COUNT(*) FROM orders GROUP BY state")
        .fetch_all(p).await)
    .expect("states")
    .into_iter()
    .collect()
}

pub async fn wait_all_accepted(t: &TestDb, n: i64, secs: u64) -> HashMap<String, i64> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let states = count_states(t).await;
        if states.get("accepted").copied().unwrap_or(0) == n || Instant::now() > deadline {
            return states;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Receipts received per order id (from the Message-ID `r<order>.a<attempt>…`).
pub fn per_order(smtp: &ScriptedSmtpServer) -> HashMap<i64, usize> {
    let mut out = HashMap::new();
    for m in smtp.received() {
        let data = String::from_utf8_lossy(&m.data);
        let id = data
            .lines()
            .find_map(|l| {
                l.strip_prefix("Message-ID: <r")
                    .or_else(|| l.strip_prefix("Message-Id: <r"))
            })
            .and_then(|rest| rest.split('.').next())
            .and_then(|n| n.parse::<i64>().ok())
            .expect("Message-ID with the order id");
        *out.entry(id).or_insert(0) += 1;
    }
    out
}
