//! `rebound serve --role web|worker|all` as real processes on one database:
//! a web process takes orders but sends nothing, a worker process sends them
//! and serves only the operations endpoints, and SIGTERM stops a worker
//! cleanly, leaving no job leased to it.

use engine::delivery::pools::{self, NewPool};
use engine::testing::all_backends;
use engine::testing::smtp_server::{Script, ScriptedSmtpServer};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const T0: i64 = 1_800_000_000_000;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

struct Serve {
    child: Child,
    base: String,
}

impl Serve {
    async fn start(db_url: &str, role: &str) -> Serve {
        Self::start_with(db_url, role, &[]).await
    }

    async fn start_with(db_url: &str, role: &str, env: &[(&str, &str)]) -> Serve {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_rebound"))
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--role",
                role,
            ])
            .envs(env.iter().copied())
            .env("DATABASE_URL", db_url)
            .env("REBOUND_DEMO__CREATE_ADMIN", "false")
            .env("REBOUND_LOG__LEVEL", "warn")
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
            assert!(
                Instant::now() < deadline,
                "rebound serve --role {role} did not come up"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Serve { child, base }
    }

    async fn status(&self, path: &str) -> (u16, String) {
        let r = reqwest::get(format!("{}{path}", self.base))
            .await
            .expect("get");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    }

    /// SIGTERM, then waits for the exit; true when it exited successfully in time.
    fn terminate(mut self, within: Duration) -> bool {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn count(db: &engine::Db, sql: &str) -> i64 {
    engine::on_pool!(db, p => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await).expect(sql)
}

async fn states(db: &engine::Db) -> Vec<(String, i64)> {
    engine::on_pool!(db, p => sqlx::query_as::<_, (String, i64)>(
        "SELECT state, COUNT(*) FROM orders GROUP BY state ORDER BY state"
    ).fetch_all(p).await)
    .expect("states")
}

#[tokio::test]
async fn web_takes_orders_workers_send_them_and_stop_on_sigterm() {
    for t in all_backends().await {
        let b = t.db.backend_name();
        let smtp = ScriptedSmtpServer::start().await.expect("smtp");
        pools::create(
            &t.db,
            T0,
            NewPool {
                name: "primary",
                role: engine::delivery::pools::PoolRole::Primary,
                from_name: "Shop",
                from_address: "primary@shop.example",
                relay_url: &format!("smtp://{}", smtp.addr()),
                max_per_second: 8,
                position: 0,
            },
        )
        .await
        .expect("pool");
        let key = engine::apikeys::create(&t.db, T0, "shop", "test")
            .await
            .expect("key")
            .secret;
        let web = Serve::start(&t.url, "web").await;
        let (status, body) = web.status("/readyz").await;
        assert_eq!(status, 200, "[{b}] {body}");
        assert!(
            body.contains("\"workers\":\"not run by this process\""),
            "[{b}] {body}"
        );
        let client = reqwest::Client::new();
        let post = |number: String, email: String| {
            client
                .post(format!("{}/api/v1/orders", web.base))
                .bearer_auth(&key)
                .json(&serde_json::json!({
                    "order_number": number,
                    "placed_at": "2026-11-27T21:00:00Z",
                    "currency": "EUR",
                    "items": [{ "name": "Mug", "quantity": 1, "unit_price": 1000 }],
                    "totals": { "subtotal": 1000, "total": 1000 },
                    "customer": { "email": email, "name": "R", "account_kind": "guest" }
                }))
                .send()
        };
        for i in 0..5 {
            let res = post(format!("R-{i}"), format!("r{i}@example.com"))
                .await
                .expect("post");
            assert_eq!(res.status(), 202);
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(
            smtp.received().is_empty(),
            "[{b}] a web process sends nothing"
        );
        assert_eq!(
            states(&t.db).await,
            vec![("queued".to_string(), 5)],
            "[{b}]"
        );

        let worker = Serve::start_with(
            &t.url,
            "worker",
            &[
                ("REBOUND_DELIVERY__SHUTDOWN_GRACE_SECONDS", "1"),
                ("REBOUND_DELIVERY__SMTP_TIMEOUT_SECONDS", "50"),
                ("REBOUND_DELIVERY__LEASE_SECONDS", "300"),
            ],
        )
        .await;
        assert_eq!(
            smtp.wait_for(5, Duration::from_secs(20)).await.len(),
            5,
            "[{b}] the worker sends what the web process queued"
        );
        let (status, body) = worker.status("/readyz").await;
        assert_eq!(status, 200, "[{b}] {body}");
        assert!(body.contains("\"workers\":\"running\""), "[{b}] {body}");
        // The relay has the messages a moment before the worker has recorded
        // its 250s (outcomes are written in groups): wait for the count.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let (status, body) = loop {
            let (status, body) = worker.status("/metrics").await;
            let counted =
                body.contains("rebound_sends_total{pool=\"primary\",outcome=\"accepted\"} 5");
            if counted || std::time::Instant::now() > deadline {
                break (status, body);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(status, 200, "[{b}] {body}");
        assert!(
            body.contains("rebound_sends_total{pool=\"primary\",outcome=\"accepted\"} 5"),
            "[{b}] {body}"
        );
        assert_eq!(
            worker.status("/login").await.0,
            404,
            "[{b}] no pages on a worker"
        );
        assert_eq!(
            worker.status("/api/v1/openapi.json").await.0,
            404,
            "[{b}] no API on a worker"
        );

        // Two sends that hang mid-conversation, then SIGTERM: after the 1 s grace the
        // worker exits and puts both jobs back (not leased for the 300 s lease).
        for i in 0..2 {
            let email = format!("slow{i}@example.com");
            smtp.script(&email, Script::DelayGreeting(Duration::from_secs(40)));
            let res = post(format!("SLOW-{i}"), email).await.expect("post");
            assert_eq!(res.status(), 202);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while count(&t.db, "SELECT COUNT(*) FROM jobs WHERE state = 'running'").await < 2 {
            assert!(
                Instant::now() < deadline,
                "[{b}] the slow sends were claimed"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let stopping = Instant::now();
        assert!(
            worker.terminate(Duration::from_secs(15)),
            "[{b}] SIGTERM: clean exit"
        );
        assert!(
            stopping.elapsed() < Duration::from_secs(8),
            "[{b}] the grace period, not the 40 s sends: {:?}",
            stopping.elapsed()
        );
        assert_eq!(
            count(
                &t.db,
                "SELECT COUNT(*) FROM jobs WHERE state = 'running' OR lease_owner IS NOT NULL"
            )
            .await,
            0,
            "[{b}] no job left leased to the stopped worker"
        );
        assert_eq!(
            count(&t.db, "SELECT COUNT(*) FROM jobs WHERE state = 'queued'").await,
            2,
            "[{b}] both put back for the next worker"
        );
        assert!(
            web.terminate(Duration::from_secs(15)),
            "[{b}] web exits on SIGTERM"
        );
        smtp.shutdown();
        t.cleanup().await;
    }
}
