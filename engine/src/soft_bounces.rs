//! Consecutive soft bounces per recipient. A send deferred with a passing
//! (transient) failure, or an asynchronous transient bounce, adds one; a good
//! delivery (a receipt the recipient's side accepted, or an ESP `delivered`
//! event) sets the count back to 0. Staff see it next to the customer's email
//! on the order page: a long run of soft bounces on one address is a mailbox
//! that is full or broken for longer than a retry covers.
//!
//! Reputation blocks (`sender_reputation`) and relay outages (no answer) are
//! about our sender, not the address, so they do not count.

use crate::accounts::normalize_email;
use crate::bounce::BounceClass;
use crate::clock::Millis;
use crate::db::Db;
use crate::error::Result;
use crate::{exec_on_pool, on_pool};

/// Adds one soft bounce for `email` and returns the new count (`None` for an
/// address that is not valid, which has no counter).
pub async fn record(db: &Db, now: Millis, email: &str) -> Result<Option<i64>> {
    let Ok(email) = normalize_email(email) else {
        return Ok(None);
    };
    let sql = format!("{RECORD_SQL} RETURNING count");
    let n: i64 =
        on_pool!(db, p => sqlx::query_scalar(&sql).bind(&email).bind(now).fetch_one(p).await)?;
    Ok(Some(n))
}

/// A good delivery to `email`: its count goes back to 0 (the time of the last
/// soft bounce is kept).
pub async fn reset(db: &Db, email: &str) -> Result<()> {
    let Ok(email) = normalize_email(email) else {
        return Ok(());
    };
    exec_on_pool!(db, p => sqlx::query(RESET_SQL).bind(&email).execute(p).await)?;
    Ok(())
}

/// Soft bounces to `email` since its last good delivery (0 when none).
pub async fn count(db: &Db, email: &str) -> Result<i64> {
    let Ok(email) = normalize_email(email) else {
        return Ok(0);
    };
    let n: Option<i64> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT count FROM soft_bounces WHERE email = $1"
    ).bind(&email).fetch_optional(p).await)?;
    Ok(n.unwrap_or(0))
}

/// One more soft bounce for a normalised address (`$1`) at `$2`.
pub(crate) const RECORD_SQL: &str = "INSERT INTO soft_bounces (email, count, last_at) VALUES ($1, 1, $2) \
     ON CONFLICT (email) DO UPDATE SET count = soft_bounces.count + 1, last_at = $2";

/// A good delivery to a normalised address (`$1`).
pub(crate) const RESET_SQL: &str =
    "UPDATE soft_bounces SET count = 0 WHERE email = $1 AND count <> 0";

/// Good deliveries to many normalised addresses (`$1`: a JSON list).
pub(crate) fn reset_many_sql(db: &crate::db::Db) -> String {
    format!(
        "UPDATE soft_bounces SET count = 0 WHERE {} AND count <> 0",
        crate::db::dialect::in_json_list(db, "email", 1, crate::db::dialect::JsonType::Text)
    )
}

/// What a synchronous send attempt's outcome does to the count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    Reset,
    Record,
}

/// `accepted` resets, a transient refusal counts, anything else leaves the count.
pub(crate) fn effect_of(outcome: &str, class: Option<&str>) -> Option<Effect> {
    match outcome {
        "accepted" => Some(Effect::Reset),
        "deferred" | "rejected" if class == Some(BounceClass::Transient.as_str()) => {
            Some(Effect::Record)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::config::Config;
    use crate::delivery::attempts::attempts;
    use crate::delivery::pools::{self, NewPool};
    use crate::delivery::worker::Worker;
    use crate::orders::{self, OrderInput};
    use crate::testing::smtp_server::{Script, ScriptedSmtpServer};
    use std::sync::Arc;

    const T0: Millis = 1_800_000_000_000;
    const MIN: i64 = 60_000;

    #[tokio::test]
    async fn deferrals_count_and_a_good_delivery_resets() {
        for t in crate::testing::all_backends().await {
            let db = &t.db;
            let smtp = ScriptedSmtpServer::start().await.expect("smtp");
            smtp.script_sequence(
                "Full@Example.com",
                vec![
                    Script::RejectRcpt(452, "4.2.2 Mailbox full"),
                    Script::RejectRcpt(452, "4.2.2 Mailbox full"),
                    Script::Accept,
                ],
            );
            pools::create(
                db,
                T0,
                NewPool {
                    name: "primary",
                    role: crate::delivery::pools::PoolRole::Primary,
                    from_name: "Shop",
                    from_address: "receipts@shop.example",
                    relay_url: &format!("smtp://{}", smtp.addr()),
                    max_per_second: 8,
                    position: 0,
                },
            )
            .await
            .expect("pool");
            let clock = ManualClock::new(T0);
            let mut config = Config::default();
            config.delivery.smtp_timeout_seconds = 5;
            config.delivery.lease_seconds = 60;
            let worker = Worker::new(
                db.clone(),
                Arc::new(clock.clone()) as Arc<dyn Clock>,
                &config,
            )
            .expect("worker");
            let input: OrderInput = serde_json::from_value(serde_json::json!({
                "order_number": "S-1", "placed_at": "2026-11-27T21:00:00Z", "currency": "EUR",
                "items": [{ "name": "Mug", "quantity": 1, "unit_price": 500 }],
                "totals": { "subtotal": 500, "total": 500 },
                "customer": { "email": "Full@Example.com", "name": "Jane", "account_kind": "guest" }
            }))
            .expect("order json");
            let o = orders::intake(db, T0, input.validate().expect("valid"), None)
                .await
                .expect("intake");
            let id = o.order().id;
            assert_eq!(count(db, "full@example.com").await.expect("count"), 0);

            // 1st attempt deferred (452), retried after 5 min, deferred again.
            assert_eq!(worker.run_once().await.expect("run"), 1);
            assert_eq!(count(db, "full@example.com").await.expect("count"), 1);
            clock.advance_ms(5 * MIN);
            assert_eq!(worker.run_once().await.expect("run"), 1);
            let a = attempts(db, id).await.expect("attempts");
            assert_eq!(
                a.iter()
                    .map(|a| (a.outcome.map(|o| o.as_str()), a.class.as_deref()))
                    .collect::<Vec<_>>(),
                vec![
                    (Some("deferred"), Some("transient")),
                    (Some("deferred"), Some("transient"))
                ]
            );
            assert_eq!(count(db, "FULL@example.com").await.expect("count"), 2);

            // The 3rd attempt (after 30 min) is accepted: back to 0.
            clock.advance_ms(30 * MIN);
            assert_eq!(worker.run_once().await.expect("run"), 1);
            assert_eq!(
                orders::get(db, id).await.expect("q").expect("o").state,
                "accepted"
            );
            assert_eq!(count(db, "full@example.com").await.expect("count"), 0);

            // Asynchronous: a transient ESP bounce counts, a `delivered` event resets.
            let policy = crate::delivery::policy::RetryPolicy::default();
            let events = |body: serde_json::Value| {
                crate::bounce::esp::sendgrid::parse_events(body.to_string().as_bytes())
                    .expect("events")
            };
            let deferred = events(serde_json::json!([{
                "email": "full@example.com", "timestamp": 1_800_000_000, "event": "deferred",
                "response": "452 4.2.2 Mailbox full"
            }]));
            for _ in 0..3 {
                crate::bounces::ingest_esp_events(
                    db,
                    clock.now_ms(),
                    crate::bounce::Classifier::shared(),
                    &policy,
                    &deferred,
                    "sendgrid",
                )
                .await
                .expect("ingest");
            }
            assert_eq!(count(db, "full@example.com").await.expect("count"), 3);
            let delivered = events(serde_json::json!([{
                "email": "full@example.com", "timestamp": 1_800_000_000, "event": "delivered",
                "response": "250 2.0.0 OK"
            }]));
            crate::bounces::ingest_esp_events(
                db,
                clock.now_ms(),
                crate::bounce::Classifier::shared(),
                &policy,
                &delivered,
                "sendgrid",
            )
            .await
            .expect("ingest");
            assert_eq!(count(db, "full@example.com").await.expect("count"), 0);

            // Invalid addresses have no counter and are no error.
            assert_eq!(record(db, T0, "not an address").await.expect("q"), None);
            assert_eq!(count(db, "not an address").await.expect("q"), 0);
            t.cleanup().await;
        }
    }
}
