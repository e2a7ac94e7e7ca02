//! `cargo bench --bench link_lookup`: how long `links::lookup` takes for a
//! valid, an expired and an unknown token on SQLite (and PostgreSQL when
//! REBOUND_TEST_POSTGRES_URL is set). Expired and unknown tokens must cost the
//! same (no timing oracle: both are one indexed lookup of the token's hash);
//! the table prints their ratio. Interleaved rounds so machine noise hits all
//! three alike.

use std::time::{Duration, Instant};

use engine::links::{self, Lookup};
use engine::orders::{self, AccountKind, CustomerInput, ItemInput, OrderInput, TotalsInput};
use engine::testing::all_backends;

const T0: i64 = 1_800_000_000_000;
const ROUNDS: usize = 3_000;

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!("| backend | token | p50 µs | p99 µs | mean µs |");
    println!("|---|---|---|---|---|");
    for t in all_backends().await {
        let order = orders::intake(
            &t.db,
            T0,
            OrderInput {
                order_number: "BENCH-1".into(),
                placed_at: "2026-11-27T21:00:00Z".into(),
                currency: "EUR".into(),
                items: vec![ItemInput {
                    name: "Mug".into(),
                    quantity: 1,
                    unit_price: 500,
                }],
                totals: TotalsInput {
                    subtotal: 500,
                    tax: 0,
                    shipping: 0,
                    discount: 0,
                    total: 500,
                },
                customer: CustomerInput {
                    email: "bench@example.com".into(),
                    name: "Bench".into(),
                    phone: None,
                    account_kind: AccountKind::Guest,
                    customer_ref: None,
                    whatsapp_opt_in: false,
                    locale: None,
                },
                client_ip: None,
                billing_address: None,
            }
            .validate()
            .expect("valid"),
            None,
        )
        .await
        .expect("intake")
        .order()
        .clone();
        let valid = links::issue(&t.db, T0, &order, "bench", "bench", 3_600_000)
            .await
            .expect("issue");
        let expired = links::issue(&t.db, T0 - 7_200_000, &order, "bench", "bench", 3_600_000)
            .await
            .expect("issue");
        // Some other links so the index is not trivially small.
        for _ in 0..2_000 {
            links::issue(&t.db, T0, &order, "bench", "bench", 3_600_000)
                .await
                .expect("issue");
        }
        let unknown = "Q".repeat(43);
        let mut times: [Vec<Duration>; 3] = Default::default();
        for round in 0..ROUNDS {
            for (k, token) in [&valid.token, &expired.token, &unknown]
                .into_iter()
                .enumerate()
            {
                let start = Instant::now();
                let got = links::lookup(&t.db, T0, token).await.expect("lookup");
                times[k].push(start.elapsed());
                if round == 0 {
                    let ok = matches!(
                        (k, &got),
                        (0, Lookup::Valid { .. })
                            | (1, Lookup::Stale { .. })
                            | (2, Lookup::Unknown)
                    );
                    assert!(ok, "token {k} resolved to {got:?}");
                }
            }
        }
        let mut means = [0.0f64; 3];
        for (k, name) in ["valid (loads the order too)", "expired", "unknown"]
            .into_iter()
            .enumerate()
        {
            times[k].sort();
            means[k] = times[k].iter().map(Duration::as_secs_f64).sum::<f64>()
                / times[k].len() as f64
                * 1e6;
            println!(
                "| {} | {name} | {:.1} | {:.1} | {:.1} |",
                t.db.backend_name(),
                pct(&times[k], 0.5),
                pct(&times[k], 0.99),
                means[k]
            );
        }
        println!(
            "| {} | expired ÷ unknown (p50) | {:.2}x | | |",
            t.db.backend_name(),
            pct(&times[1], 0.5) / pct(&times[2], 0.5)
        );
        t.cleanup().await;
    }
}
