//! `rebound demo seed` / `rebound demo clear`, run as a real process.

use std::process::Command;

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

    let (ok, out, err) = rebound(&db, &["demo", "seed", "--orders", "400", "--days", "14"]);
    assert!(ok, "{err}");
    assert!(out.contains("seeded 400 demo orders over 14 days"), "{out}");

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
                role: "backup",
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
