use super::charts::{self, ChartKind};
use super::*;
use crate::delivery::pools::{self, NewPool};
use crate::orders::{self, OrderInput};

const T0: Millis = 1_800_000_000_000; // 08:00 UTC
const LOOKBACK: i64 = 70 * 60_000;

#[test]
fn providers_from_the_domain() {
    assert_eq!(provider_of("a@gmail.com"), "gmail");
    assert_eq!(provider_of("a@GoogleMail.com"), "gmail");
    assert_eq!(provider_of("a@yahoo.co.uk"), "yahoo");
    assert_eq!(provider_of("a@aol.com"), "yahoo");
    assert_eq!(provider_of("a@hotmail.de"), "microsoft");
    assert_eq!(provider_of("a@outlook.com"), "microsoft");
    assert_eq!(provider_of("a@gmail.com.example.org"), "other");
    assert_eq!(provider_of("a@example.org"), "other");
    assert_eq!(provider_of("no-at-sign"), "other");
}

#[test]
fn quantiles_from_the_histogram() {
    let mut h = [0i64; TTR_BUCKETS];
    assert_eq!(ttr_quantile(&h, 0.5), None);
    h[2] = 10; // 2–5 min
    let m = ttr_quantile(&h, 0.5).expect("median");
    assert!((m.minutes - 3.5).abs() < 1e-9 && !m.open, "{m:?}");
    assert_eq!(m.text(), "4 min");
    h[12] = 90; // 3 days or more
    let p90 = ttr_quantile(&h, 0.9).expect("p90");
    assert!(p90.open);
    assert_eq!(p90.text(), "3 days or more");
    let p05 = ttr_quantile(&h, 0.05).expect("p05");
    assert!((p05.minutes - 3.5).abs() < 1e-9, "{p05:?}");
    assert_eq!(
        Ttr {
            minutes: 0.5,
            open: false
        }
        .text(),
        "30 s"
    );
    assert_eq!(
        Ttr {
            minutes: 300.0,
            open: false
        }
        .text(),
        "5.0 h"
    );
}

#[test]
fn levels_against_the_thresholds() {
    assert_eq!(bounce_level(None), Level::Ok);
    assert_eq!(bounce_level(Some(0.049)), Level::Ok);
    assert_eq!(bounce_level(Some(0.05)), Level::Warning);
    assert_eq!(bounce_level(Some(0.10)), Level::Critical);
    assert_eq!(complaint_level(Some(0.0009)), Level::Ok);
    assert_eq!(complaint_level(Some(0.001)), Level::Warning);
    assert_eq!(complaint_level(Some(0.003)), Level::Critical);
    assert_eq!(day_text(day_of(T0)), "2027-01-15");
}

async fn order(db: &Db, number: &str, email: &str) -> i64 {
    let input: OrderInput = serde_json::from_value(serde_json::json!({
        "order_number": number, "placed_at": "2027-01-15T07:59:00Z",
        "currency": "EUR", "items": [{ "name": "Mug", "quantity": 1, "unit_price": 500 }],
        "totals": { "subtotal": 500, "total": 500 },
        "customer": { "email": email, "name": "Jane", "account_kind": "guest" }
    }))
    .expect("order json");
    orders::intake(db, T0, input.validate().expect("valid"), None)
        .await
        .expect("intake")
        .order()
        .id
}

#[allow(clippy::too_many_arguments)]
async fn attempt(
    db: &Db,
    order_id: i64,
    no: i64,
    pool_id: i64,
    finished: Millis,
    outcome: &str,
    class: &str,
) -> i64 {
    on_pool!(db, p => sqlx::query_scalar(
        "INSERT INTO delivery_attempts (order_id, attempt_no, pool_id, message_id, verp_token, started_at,
         finished_at, outcome, class) VALUES ($1, $2, $3, $4, $4, $5, $5, $6, $7) RETURNING id"
    ).bind(order_id).bind(no).bind(pool_id).bind(format!("m{order_id}.{no}")).bind(finished)
    .bind(outcome).bind(class).fetch_one(p).await)
    .expect("attempt")
}

async fn bounce(db: &Db, order_id: i64, attempt_id: i64, at: Millis, class: &str) {
    exec_on_pool!(db, p => sqlx::query(
        "INSERT INTO bounces (received_at, source, order_id, attempt_id, matched_by, reason, class, hard, rule, diagnostic)
         VALUES ($1, 'dsn', $2, $3, 'verp', 'x', $4, FALSE, 'test', 'test')"
    ).bind(at).bind(order_id).bind(attempt_id).bind(class).execute(p).await)
    .expect("bounce");
}

#[tokio::test]
async fn rollups_count_sends_bounces_and_reach_and_refresh_only_what_changed() {
    for t in crate::testing::all_backends().await {
        let db = &t.db;
        let pool = |name: &'static str, role: &'static str, position: i64| NewPool {
            name,
            role: role.parse().expect("primary, backup or masked"),
            from_name: "Shop",
            from_address: "receipts@shop.example",
            relay_url: "capture://",
            max_per_second: 10,
            position,
        };
        let primary = pools::create(db, T0, pool("primary", "primary", 0))
            .await
            .expect("pool")
            .id;
        let backup = pools::create(db, T0, pool("<script>alert(1)</script>", "backup", 1))
            .await
            .expect("pool")
            .id;
        let a = order(db, "S-A", "a@gmail.com").await;
        let b = order(db, "S-B", "b@yahoo.com").await;
        let c = order(db, "S-C", "c@outlook.com").await;
        let d = order(db, "S-D", "d@example.org").await;
        let a1 = attempt(db, a, 1, primary, T0 + 1000, "accepted", "delivered").await;
        attempt(
            db,
            b,
            1,
            primary,
            T0 + 1000,
            "deferred",
            "sender_reputation",
        )
        .await;
        attempt(db, b, 2, backup, T0 + 300_000, "accepted", "delivered").await;
        attempt(
            db,
            c,
            1,
            primary,
            T0 + 1000,
            "rejected",
            "recipient_permanent",
        )
        .await;
        let d1 = attempt(db, d, 1, primary, T0 + 1000, "accepted", "delivered").await;
        bounce(db, d, d1, T0 + 2 * 3_600_000, "complaint").await;
        exec_on_pool!(db, p => sqlx::query(
            "UPDATE orders SET state = 'held', updated_at = $1, fallback_at = $1, fallback_path = 'critical' WHERE id = $2"
        ).bind(T0 + 1000).bind(c).execute(p).await)
        .expect("held");
        crate::reach::mark(db, a, T0 + 90_000, "email")
            .await
            .expect("reach");
        crate::reach::mark(db, d, T0 + 20 * 60_000, "link_opened")
            .await
            .expect("reach");

        let day = day_of(T0);
        assert_eq!(refreshed_at(db).await.expect("state"), None);
        let days = refresh(db, T0 + 3 * 3_600_000, LOOKBACK)
            .await
            .expect("refresh");
        assert_eq!(days, Some(1), "[{}]", db.backend_name());
        assert_eq!(
            refreshed_at(db).await.expect("state"),
            Some(T0 + 3 * 3_600_000)
        );
        let total = totals(db, day, day).await.expect("totals");
        let mut expected = Counts {
            orders: 4,
            sent: 5,
            accepted: 3,
            bounced: [1, 1, 0, 0],
            complaints: 1,
            held: 1,
            reached: 2,
            ..Default::default()
        };
        expected.ttr[1] = 1; // 1.5 min
        expected.ttr[5] = 1; // 20 min
        assert_eq!(total, expected, "[{}]", db.backend_name());
        assert_eq!(total.bounce_rate(), Some(0.4));
        assert_eq!(total.class_rate(1), Some(0.2));
        assert_eq!(total.complaint_rate(), Some(1.0 / 3.0));
        assert_eq!(total.reach_rate(), Some(0.5));
        assert_eq!(held_now(db).await.expect("held"), (1, Some(T0 + 1000)));

        // Per provider and per pool.
        let by_provider = by_day(db, day, day, Group::DayProvider)
            .await
            .expect("by provider");
        let yahoo = &by_provider
            .iter()
            .find(|(_, k, _)| k == "yahoo")
            .expect("yahoo")
            .2;
        assert_eq!((yahoo.orders, yahoo.sent, yahoo.accepted), (1, 2, 1));
        assert_eq!(yahoo.bounced, [0, 1, 0, 0]);
        let by_pool = by_day(db, day, day, Group::DayPool).await.expect("by pool");
        let mut sent_by: Vec<(String, i64)> = by_pool
            .iter()
            .map(|(_, k, c)| (k.clone(), c.sent))
            .collect();
        sent_by.sort();
        let mut expected_by = vec![
            ("0".to_string(), 0),
            (backup.to_string(), 1),
            (primary.to_string(), 4),
        ];
        expected_by.sort();
        assert_eq!(sent_by, expected_by);
        assert_eq!(
            retries(db, day, day).await.expect("retries"),
            vec![(1, 4, 2), (2, 1, 1)]
        );

        // Two days later: C reached by a call (its cohort is the first day), and a late
        // transient bounce for A arrived on the second day.
        let later = T0 + 2 * DAY_MS;
        bounce(db, a, a1, T0 + DAY_MS, "transient").await;
        crate::reach::mark(db, c, later, "support_call")
            .await
            .expect("reach");
        // Another process holds the lease: this one skips.
        exec_on_pool!(db, p => sqlx::query("UPDATE stats_state SET lease_until = $1")
            .bind(later + 1000).execute(p).await)
        .expect("lease");
        assert_eq!(refresh(db, later, LOOKBACK).await.expect("skip"), None);
        exec_on_pool!(db, p => sqlx::query("UPDATE stats_state SET lease_until = 0").execute(p).await)
            .expect("lease");
        // Watermark T0+3h minus the lookback: days 0..=2 plus C's cohort day.
        assert_eq!(
            refresh(db, later + 60_000, LOOKBACK)
                .await
                .expect("refresh"),
            Some(3)
        );
        // A second process a few seconds later finds it fresh.
        assert_eq!(
            refresh_if_stale(db, later + 70_000, LOOKBACK, REFRESH_INTERVAL_MS)
                .await
                .expect("fresh"),
            None
        );
        let first = totals(db, day, day).await.expect("totals");
        assert_eq!((first.reached, first.ttr[11]), (3, 1));
        assert_eq!(held_now(db).await.expect("held"), (0, None));
        let second = totals(db, day + 1, day + 1).await.expect("totals");
        assert_eq!((second.sent, second.bounced), (0, [0, 0, 1, 0]));
        let all = totals(db, day, day + 2).await.expect("totals");
        assert_eq!(all.bounces(), 3);

        // Recomputing is idempotent.
        rebuild(db, day, day + 2).await.expect("rebuild");
        assert_eq!(totals(db, day, day + 2).await.expect("totals"), all);
        // One pass over a range gives, row for row, what a rebuild of each day alone gives.
        let rows = async |db: &Db| {
            (
                by_day(db, day, day + 2, Group::DayPool)
                    .await
                    .expect("rows"),
                by_day(db, day, day + 2, Group::DayProvider)
                    .await
                    .expect("rows"),
                by_day(db, day, day + 2, Group::DayNetwork)
                    .await
                    .expect("rows"),
                retries(db, day, day + 2).await.expect("retries"),
                crate::risk::calibration::deciles_of_days(db, day, day + 3)
                    .await
                    .expect("deciles"),
            )
        };
        let ranged = rows(db).await;
        for d in day..=day + 2 {
            rebuild(db, d, d).await.expect("rebuild a day");
        }
        assert_eq!(rows(db).await, ranged, "[{}]", db.backend_name());
        rebuild(db, day + 2, day)
            .await
            .expect("an empty range is a no-op");
        assert_eq!(rows(db).await, ranged);

        // Chart data: one label per day, a series per class / provider / pool.
        let chart = charts::build(db, ChartKind::BounceClass, day, day + 1)
            .await
            .expect("chart");
        assert_eq!(chart.x, vec!["2027-01-15", "2027-01-16"]);
        assert_eq!(chart.series.len(), 5);
        assert_eq!(chart.series[0].points[0].value, Some(40.0));
        assert_eq!(
            (
                chart.series[3].name.as_str(),
                chart.series[3].points[1].count,
                chart.series[3].points[1].of,
                chart.series[3].points[1].value
            ),
            ("transient", 1, 0, None)
        );
        assert!(
            chart.summary().contains("all classes 60.0 % (3 of 5)"),
            "{}",
            chart.summary()
        );
        let pools_chart = charts::build(db, ChartKind::BouncePool, day, day)
            .await
            .expect("chart");
        assert_eq!(pools_chart.series[1].name, "<script>alert(1)</script>");
        assert_eq!(pools_chart.series[0].points[0].value, Some(50.0));
        let retry = charts::build(db, ChartKind::Retry, day, day)
            .await
            .expect("chart");
        assert_eq!(retry.x, vec!["1", "2"]);
        assert_eq!(retry.series[0].points[0].value, Some(50.0));
        let ttr = charts::build(db, ChartKind::TimeToReceipt, day, day)
            .await
            .expect("chart");
        assert_eq!(ttr.series[0].points[0].count, 3);
        assert!(ttr.series[0].points[0].value.is_some());
        for kind in ChartKind::ALL {
            assert_eq!(ChartKind::parse(kind.name()), Some(kind));
            charts::build(db, kind, day, day + 1)
                .await
                .expect("every chart");
        }

        // The SQL provider expression agrees with provider_of.
        for email in [
            "x@gmail.com",
            "x@GMAIL.com",
            "x@yahoo.fr",
            "x@aol.com",
            "x@live.co.uk",
            "x@example.com",
            "nope",
        ] {
            let sql = format!("SELECT {}", provider_sql(db, "CAST($1 AS TEXT)"));
            let got: String =
                on_pool!(db, p => sqlx::query_scalar(&sql).bind(email).fetch_one(p).await)
                    .expect("provider sql");
            assert_eq!(got, provider_of(email), "{email}");
        }
        t.cleanup().await;
    }
}

#[test]
fn dates_are_read_as_utc_days() {
    assert_eq!(day_from_text("1970-01-01"), Some(0));
    assert_eq!(day_from_text("2026-11-29"), Some(20_786));
    assert_eq!(day_from_text(" 2024-02-29 "), Some(19_782));
    assert_eq!(day_text(20_786), "2026-11-29");
    for bad in ["2023-02-29", "2026-13-01", "2026-11-29T00", "", "soon"] {
        assert_eq!(day_from_text(bad), None, "{bad}");
    }
}

#[test]
fn a_level_needs_evidence_beyond_the_point_estimate() {
    use super::{Worse, evidenced_level, reach_level, wilson_interval};
    let (lo, hi) = wilson_interval(3, 25);
    assert!(
        (lo - 0.0417).abs() < 0.001 && (hi - 0.3003).abs() < 0.001,
        "{lo} {hi}"
    );
    // 12 % of 25: the point is critical, the evidence does not reach 5 %.
    assert_eq!(evidenced_level(3, 25, bounce_level, Worse::Higher), None);
    // 10 % of 200: at least 6.6 %, so the level stands.
    assert_eq!(
        evidenced_level(20, 200, bounce_level, Worse::Higher),
        Some(Level::Critical)
    );
    assert_eq!(
        evidenced_level(1, 200, bounce_level, Worse::Higher),
        Some(Level::Ok)
    );
    // Too few at all.
    assert_eq!(evidenced_level(3, 15, bounce_level, Worse::Higher), None);
    // Reach: low is bad; 18 of 20 (90 %) could be up to 97 %: not enough.
    assert_eq!(evidenced_level(18, 20, reach_level, Worse::Lower), None);
    assert_eq!(
        evidenced_level(850, 1000, reach_level, Worse::Lower),
        Some(Level::Critical)
    );
    // Complaints need volume: 1 of 500 (0.2 %) proves nothing, 30 of 5000 does.
    assert_eq!(
        evidenced_level(1, 500, complaint_level, Worse::Higher),
        None
    );
    assert_eq!(
        evidenced_level(30, 5000, complaint_level, Worse::Higher),
        Some(Level::Critical)
    );
}
