//! `rebound demo live`: posts believable orders through the real shop API at a
//! steady pace, so a person can watch the dashboard, the flagged list and the
//! held queue move. It is a client of the API like a shop's checkout: it needs
//! an API key (`rebound apikey create`) and a running `rebound serve`.
//!
//! About 8 % of orders come from the demo VPN range (203.0.113.0/24, flagged
//! when `risk-sources/vpn-sample.txt` is in `risk.network_lists`) and about 5 %
//! go to an address under `.invalid`, which the development capture pool
//! refuses as a real relay would: those orders bounce hard, are held and take
//! their fallback.

use std::time::Duration;

use anyhow::Context;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// What to post, and how fast.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// The server's base URL, e.g. `http://127.0.0.1:3000`.
    pub url: String,
    pub api_key: String,
    pub per_minute: f64,
    /// Stop after this many orders (runs until Ctrl-C without).
    pub count: Option<u64>,
    pub seed: u64,
}

const FIRST: [&str; 12] = [
    "Ada", "Ben", "Chloé", "Dario", "Emma", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kemal",
    "Lena",
];
const LAST: [&str; 10] = [
    "Novak", "Okafor", "Petit", "Quinn", "Rossi", "Schmidt", "Tanaka", "Usman", "Varga", "Weber",
];
const PROVIDERS: [(&str, u32); 4] = [
    ("gmail.com", 45),
    ("outlook.com", 25),
    ("yahoo.com", 12),
    ("posteo.de", 18),
];
const ITEMS: [(&str, i64); 6] = [
    ("Merino socks", 1_490),
    ("Canvas tote", 2_400),
    ("Enamel mug", 1_800),
    ("Notebook, dotted", 990),
    ("Beeswax wrap set", 1_650),
    ("Wool beanie", 3_200),
];

/// One believable order, numbered `LIVE-<run>-<i>`.
pub fn order(rng: &mut StdRng, run: &str, i: u64, placed_at: &str) -> Value {
    let first = FIRST[rng.random_range(0..FIRST.len())];
    let last = LAST[rng.random_range(0..LAST.len())];
    let local = format!(
        "{}.{}{}",
        first.to_lowercase().replace('é', "e"),
        last.to_lowercase(),
        rng.random_range(1..100)
    );
    let dead = rng.random_bool(0.05);
    let domain = if dead {
        "mailbox.invalid".to_string()
    } else {
        let mut pick = rng.random_range(0..100);
        PROVIDERS
            .iter()
            .find(|(_, w)| {
                let hit = pick < *w;
                pick = pick.saturating_sub(*w);
                hit
            })
            .map_or("gmail.com", |(d, _)| d)
            .to_string()
    };
    let vpn = rng.random_bool(0.08);
    let ip = if vpn {
        format!("203.0.113.{}", rng.random_range(1..255))
    } else {
        format!("198.51.100.{}", rng.random_range(1..255))
    };
    let kind = match rng.random_range(0..100) {
        0..50 => "logged_in",
        50..85 => "guest",
        _ => "social",
    };
    let lines = rng.random_range(1..=3);
    let mut items = Vec::new();
    let mut subtotal = 0;
    for _ in 0..lines {
        let (name, price) = ITEMS[rng.random_range(0..ITEMS.len())];
        let quantity: i64 = rng.random_range(1..=3);
        subtotal += price * quantity;
        items.push(json!({ "name": name, "quantity": quantity, "unit_price": price }));
    }
    let tax = subtotal * 19 / 100;
    let shipping = if subtotal >= 5_000 { 0 } else { 490 };
    let mut customer = json!({
        "email": format!("{local}@{domain}"),
        "name": format!("{first} {last}"),
        "account_kind": kind,
    });
    if kind == "logged_in" {
        customer["customer_ref"] = json!(format!("CUST-{}", rng.random_range(1_000..9_999)));
    }
    json!({
        "order_number": format!("LIVE-{run}-{i}"),
        "placed_at": placed_at,
        "currency": "EUR",
        "items": items,
        "totals": {
            "subtotal": subtotal, "tax": tax, "shipping": shipping, "discount": 0,
            "total": subtotal + tax + shipping
        },
        "customer": customer,
        "client_ip": ip,
    })
}

/// Posts orders until `count` is reached or the process is stopped, printing
/// one line per order. Stops at the first refusal that is not the server
/// being briefly unavailable (a wrong key or URL will not fix itself).
pub async fn run(opts: LiveOptions) -> anyhow::Result<()> {
    if !(opts.per_minute > 0.0 && opts.per_minute <= 6_000.0) {
        anyhow::bail!("--per-minute must be above 0 and at most 6000");
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .context("HTTP client")?;
    let endpoint = format!("{}/api/v1/orders", opts.url.trim_end_matches('/'));
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    };
    let run = format!("{:x}", now_ms() / 1000);
    let mut every = tokio::time::interval(Duration::from_secs_f64(60.0 / opts.per_minute));
    println!(
        "posting orders to {endpoint} ({} a minute); Ctrl-C stops",
        opts.per_minute
    );
    let mut i = 0u64;
    while opts.count.is_none_or(|n| i < n) {
        every.tick().await;
        i += 1;
        let placed_at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .context("clock")?;
        let body = order(&mut rng, &run, i, &placed_at);
        let number = body["order_number"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let res = client
            .post(&endpoint)
            .bearer_auth(&opts.api_key)
            .json(&body)
            .send()
            .await;
        match res {
            Ok(r) if r.status().is_success() => {
                let v: Value = r.json().await.unwrap_or(Value::Null);
                println!(
                    "{number}: {} (risk {}, {})",
                    v["status"].as_str().unwrap_or("?"),
                    v["risk"]["score"],
                    body["client_ip"].as_str().unwrap_or_default()
                );
            }
            Ok(r) if r.status().is_server_error() => {
                println!("{number}: the server answered {}; going on", r.status());
            }
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                anyhow::bail!("{number}: refused with {status}: {text}");
            }
            Err(e) => println!("{number}: no answer ({e}); going on"),
        }
    }
    println!("posted {i} orders");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_are_valid_and_the_mix_is_believable() {
        let mut rng = StdRng::seed_from_u64(7);
        let (mut vpn, mut dead) = (0, 0);
        for i in 0..1_000 {
            let v = order(&mut rng, "t", i, "2026-11-29T09:00:00Z");
            let input: engine::orders::OrderInput =
                serde_json::from_value(v.clone()).expect("the API's order shape");
            assert!(input.validate().is_ok(), "{v}");
            vpn += usize::from(
                v["client_ip"]
                    .as_str()
                    .is_some_and(|ip| ip.starts_with("203.")),
            );
            dead += usize::from(
                v["customer"]["email"]
                    .as_str()
                    .is_some_and(|e| e.ends_with(".invalid")),
            );
        }
        assert!((40..=130).contains(&vpn), "{vpn} VPN orders of 1000");
        assert!((20..=90).contains(&dead), "{dead} dead addresses of 1000");
    }
}
