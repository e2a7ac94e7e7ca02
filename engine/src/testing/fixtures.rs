//! Builders the test suites share: a valid order, a sender pool pointed at a
//! test SMTP server, a rollup row.

use std::net::SocketAddr;

use crate::clock::Millis;
use crate::db::Db;
use crate::delivery::pools::{self, NewPool};
use crate::exec_on_pool;
use crate::orders::{AccountKind, CustomerInput, ItemInput, OrderInput, TotalsInput, ValidOrder};

/// A valid guest order for one €15 mug.
pub fn order(number: &str, email: &str) -> ValidOrder {
    order_from(number, email, None)
}

/// [`order`] placed from `client_ip`.
pub fn order_from(number: &str, email: &str, client_ip: Option<&str>) -> ValidOrder {
    let mut input = order_input(number, email);
    input.client_ip = client_ip.map(Into::into);
    input.validate().expect("the fixture order is valid")
}

/// The order of [`order`] before validation, for tests that change a field.
pub fn order_input(number: &str, email: &str) -> OrderInput {
    OrderInput {
        order_number: number.into(),
        placed_at: "2026-11-27T21:00:00Z".into(),
        currency: "EUR".into(),
        items: vec![ItemInput {
            name: "Mug".into(),
            quantity: 1,
            unit_price: 1500,
        }],
        totals: TotalsInput {
            subtotal: 1500,
            tax: 0,
            shipping: 0,
            discount: 0,
            total: 1500,
        },
        customer: CustomerInput {
            email: email.into(),
            name: "Ann".into(),
            phone: None,
            account_kind: AccountKind::Guest,
            customer_ref: None,
            whatsapp_opt_in: false,
            locale: None,
        },
        client_ip: None,
        billing_address: None,
    }
}

/// A sender pool named `name` relaying to `smtp` (plain SMTP); returns its id.
pub async fn smtp_pool(
    db: &Db,
    now: Millis,
    name: &str,
    role: &str,
    smtp: SocketAddr,
    position: i64,
) -> i64 {
    pools::create(
        db,
        now,
        NewPool {
            name,
            role: role.parse().expect("primary, backup or masked"),
            from_name: "Shop",
            from_address: &format!("{name}@shop.example"),
            relay_url: &format!("smtp://{smtp}"),
            max_per_second: 8,
            position,
        },
    )
    .await
    .expect("create the test pool")
    .id
}

/// One rollup row as `stats::refresh` would write it: `sent` sends of `pool` to
/// `provider` from `network` orders on `day`, `bounced` of them blocked for reputation.
pub async fn seed_rollup(
    db: &Db,
    day: i64,
    pool: i64,
    provider: &str,
    network: &str,
    sent: i64,
    bounced: i64,
) {
    exec_on_pool!(db, p => sqlx::query(
        "INSERT INTO stats_daily (day, pool_id, provider, network, sent, accepted, bounced_sender_reputation)
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ).bind(day).bind(pool).bind(provider).bind(network).bind(sent).bind(sent - bounced).bind(bounced)
    .execute(p).await)
    .expect("insert the rollup row");
}
