//! SMTPUTF8 (RFC 6531) end to end on both databases, against scripted SMTP
//! servers on loopback (issue 31): a customer address with a non-ASCII local
//! part is accepted at intake only when a sender pool of the chain offers
//! SMTPUTF8, is sent only through such a pool, and goes out with the
//! `SMTPUTF8` MAIL parameter to a relay that advertises it.

use engine::config::Config;
use engine::delivery::pools::{self, NewPool};
use engine::delivery::worker::Worker;
use engine::orders::{self, OrderInput};
use engine::testing::all_backends;
use engine::testing::smtp_server::ScriptedSmtpServer;
use engine::{Clock, Db, ManualClock};
use std::sync::Arc;
use std::time::Duration;

const T0: i64 = 1_800_000_000_000;

/// An order as a shop posts it (JSON, so fields added later keep their defaults).
fn input(number: &str, email: &str) -> OrderInput {
    serde_json::from_value(serde_json::json!({
        "order_number": number,
        "placed_at": "2026-11-27T21:00:00Z",
        "currency": "EUR",
        "items": [{ "name": "Teapot", "quantity": 1, "unit_price": 4200 }],
        "totals": { "subtotal": 4200, "tax": 0, "shipping": 0, "discount": 0, "total": 4200 },
        "customer": { "email": email, "name": "Jörg Bücher", "account_kind": "guest" }
    }))
    .expect("an order")
}

async fn pool(db: &Db, name: &str, server: &ScriptedSmtpServer, position: i64) -> i64 {
    pools::create(
        db,
        T0,
        NewPool {
            name,
            role: engine::delivery::pools::PoolRole::Primary,
            from_name: "Shop",
            from_address: &format!("{name}@shop.example"),
            relay_url: &format!("smtp://{}", server.addr()),
            max_per_second: 8,
            position,
        },
    )
    .await
    .expect("pool")
    .id
}

/// What the shop API does: ask the pools only for a non-ASCII local part.
async fn validate(db: &Db, input: OrderInput) -> Result<orders::ValidOrder, Vec<String>> {
    let smtputf8 = orders::needs_smtputf8(&input.customer.email)
        && pools::chain_offers_smtputf8(db).await.expect("pools");
    input.validate_for(smtputf8).map_err(|errs| {
        errs.into_iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect()
    })
}

#[tokio::test]
async fn a_non_ascii_local_part_goes_only_through_a_pool_with_smtputf8() {
    for t in all_backends().await {
        let db = t.db.clone();
        // The first pool of the chain has no SMTPUTF8; its relay does not offer it.
        let plain = ScriptedSmtpServer::start().await.expect("smtp");
        let utf8 = ScriptedSmtpServer::start().await.expect("smtp");
        utf8.set_smtputf8(true);
        pool(&db, "plain", &plain, 0).await;

        // No pool offers it: refused, naming the field and why.
        let errs = validate(&db, input("U-1", "jörg@bücher.example"))
            .await
            .expect_err("refused without SMTPUTF8");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with("customer.email: ") && errs[0].contains("SMTPUTF8"),
            "{errs:?}"
        );

        // A second pool says its relay path carries SMTPUTF8: accepted.
        let utf8_id = pool(&db, "utf8", &utf8, 1).await;
        pools::set_smtputf8(&db, utf8_id, true).await.expect("flag");
        let valid = validate(&db, input("U-1", "Jörg@Bücher.Example"))
            .await
            .expect("accepted with a pool that offers SMTPUTF8");
        assert_eq!(valid.customer_email, "jörg@xn--bcher-kva.example");
        // An ASCII address never asks the pools and goes the usual way.
        let ascii = validate(&db, input("A-1", "jane@example.com"))
            .await
            .expect("valid");
        orders::intake(&db, T0, valid, None).await.expect("intake");
        orders::intake(&db, T0, ascii, None).await.expect("intake");

        let clock = ManualClock::new(T0);
        let mut config = Config::default();
        config.delivery.smtp_timeout_seconds = 5;
        let worker = Worker::new(
            db.clone(),
            Arc::new(clock.clone()) as Arc<dyn Clock>,
            &config,
        )
        .expect("worker");
        worker.run_once().await.expect("send");
        engine::periodic::Periodic::for_worker(&worker)
            .tick()
            .await
            .expect("periodic round");
        let got = utf8.wait_for(1, Duration::from_secs(5)).await;
        assert_eq!(got.len(), 1, "{}", t.url);
        assert_eq!(
            got[0].rcpt_to,
            vec!["jörg@xn--bcher-kva.example".to_string()]
        );
        assert!(
            got[0]
                .mail_params
                .split_ascii_whitespace()
                .any(|p| p == "SMTPUTF8"),
            "MAIL without SMTPUTF8: {:?}",
            got[0].mail_params
        );
        let plain_got = plain.wait_for(1, Duration::from_secs(5)).await;
        assert_eq!(
            plain_got
                .iter()
                .map(|m| m.rcpt_to.join(","))
                .collect::<Vec<_>>(),
            vec!["jane@example.com".to_string()],
            "only the ASCII address goes through the pool without SMTPUTF8"
        );
        assert!(
            plain_got[0].mail_params.is_empty() || !plain_got[0].mail_params.contains("SMTPUTF8"),
            "{:?}",
            plain_got[0].mail_params
        );
        let o = orders::find_by_number(&db, "U-1")
            .await
            .expect("query")
            .expect("order");
        assert_eq!(o.state, "accepted", "{}", t.url);
        t.cleanup().await;
    }
}
