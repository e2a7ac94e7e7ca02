//! `rebound demo seed` / `rebound demo clear` / `rebound demo live`, run as
//! real processes.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use engine::testing::TestDb;
use support::serve::{Serve, count_states};

fn rebound(db: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rebound"))
        .args(args)
        .env("DATABASE_URL", db)
        .output()
        .expect("run");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn demo_history_is_seeded_counted_and_cleared() {
    let dir = std::env::temp_dir().join(format!("rebound-demo-cli-{}", std::process::id()));
    let db = format!("sqlite://{}/demo.db", dir.display());

    let (ok, out, err) = rebound(
        &db,
        &[
            "demo",
            "seed",
            "--orders",
            "400",
            "--days",
            "14",
            "--if-empty",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("seeded 400 demo orders over 14 days"), "{out}");
    // `make run` on its second start: the database has orders, nothing is added.
    let (ok, out, err) = rebound(&db, &["demo", "seed", "--orders", "50", "--if-empty"]);
    assert!(ok, "{err}");
    assert!(out.contains("already has orders"), "{out}");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let db = engine::Db::connect(&db).await.expect("db");
        assert_eq!(engine::demo::count(&db).await.expect("count"), 400);
        // The rollups were refreshed: the dashboard sees the history at once.
        let today = engine::stats::day_of(engine::Clock::now_ms(&engine::SystemClock::new()));
        let total = engine::stats::totals(&db, today - 14, today)
            .await
            .expect("totals");
        assert_eq!(total.orders, 400);
        assert!(total.sent >= 400 && total.reached > 300, "{total:?}");
        db.close().await;
    });

    // The calibration report reads the seeded scores: the riskiest decile's
    // receipts bounced more often than the safest one's.
    let (ok, out, err) = rebound(&db, &["risk", "calibration", "--days", "30"]);
    assert!(ok, "{err}");
    let rates: Vec<(String, f64)> = out
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            let rate = cols.get(3)?.trim_end_matches('%').parse().ok()?;
            Some((cols[0].to_string(), rate))
        })
        .collect();
    let (first, last) = (
        rates.first().expect("a decile"),
        rates.last().expect("a decile"),
    );
    assert_eq!(first.0, "0–9", "{out}");
    let low: i64 = last
        .0
        .split('–')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        low >= 40,
        "VPN orders to big providers score 40 or more: {out}"
    );
    assert!(
        last.1 > 2.0 * first.1,
        "the high-score decile bounces more: {out}"
    );
    let (ok, _, err) = rebound(&db, &["risk", "calibration", "--days", "0"]);
    assert!(!ok && err.contains("--days must be 1 to 3650"), "{err}");

    // A pool that relays real mail stops the seed unless forced.
    runtime.block_on(async {
        let db = engine::Db::connect(&db).await.expect("db");
        engine::delivery::pools::create(
            &db,
            0,
            engine::delivery::pools::NewPool {
                name: "real relay",
                role: engine::delivery::pools::PoolRole::Backup,
                from_name: "Shop",
                from_address: "r@shop.example",
                relay_url: "smtp://relay.shop.example:587",
                max_per_second: 5,
                position: 9,
            },
        )
        .await
        .expect("pool");
        db.close().await;
    });
    let (ok, _, err) = rebound(&db, &["demo", "seed", "--orders", "10"]);
    assert!(!ok && err.contains("relays real mail"), "{err}");

    let (ok, out, err) = rebound(&db, &["demo", "clear"]);
    assert!(ok, "{err}");
    assert!(out.contains("removed 400 demo orders"), "{out}");
    let (ok, out, _) = rebound(&db, &["demo", "clear"]);
    assert!(ok && out.contains("removed 0 demo orders"), "{out}");

    let _ = std::fs::remove_dir_all(&dir);
}

/// `demo live` posts through the real API of a real `rebound serve` (capture
/// pools): every order arrives, the `.invalid` ones bounce hard and are held,
/// the rest are accepted.
#[tokio::test(flavor = "multi_thread")]
async fn demo_live_posts_orders_through_the_api_and_dead_addresses_are_held() {
    let t = TestDb::sqlite().await.expect("sqlite");
    let serve = Serve::start(&t.url, 8).await;
    let (ok, out, err) = rebound(&t.url, &["apikey", "create", "--name", "live"]);
    assert!(ok, "{err}");
    let key = out
        .split_whitespace()
        .find(|w| w.starts_with("rbk_"))
        .unwrap_or_else(|| panic!("a key in {out}"))
        .to_string();
    let (ok, out, err) = rebound(
        &t.url,
        &[
            "demo",
            "live",
            "--url",
            &serve.base,
            "--api-key",
            &key,
            "--per-minute",
            "3000",
            "--count",
            "60",
            "--seed",
            "3",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("posted 60 orders"), "{out}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let states = loop {
        let states = count_states(&t).await;
        let settled =
            states.get("accepted").copied().unwrap_or(0) + states.get("held").copied().unwrap_or(0);
        if settled == 60 || Instant::now() > deadline {
            break states;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let dead: i64 = engine::on_pool!(&t.db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders WHERE customer_email LIKE '%.invalid' AND state = 'held'"
    ).fetch_one(p).await)
    .expect("count");
    let held = states.get("held").copied().unwrap_or(0);
    assert!(
        dead >= 1,
        "seed 3 sends some orders to .invalid: {states:?}"
    );
    assert_eq!(held, dead, "only the dead addresses are held: {states:?}");
    assert_eq!(
        states.get("accepted").copied().unwrap_or(0),
        60 - dead,
        "{states:?}"
    );
    // A wrong key stops at once with the API's answer.
    let (ok, _, err) = rebound(
        &t.url,
        &[
            "demo",
            "live",
            "--url",
            &serve.base,
            "--api-key",
            "rbk_wrong",
            "--count",
            "1",
        ],
    );
    assert!(!ok && err.contains("401"), "{err}");
    serve.kill();
}
