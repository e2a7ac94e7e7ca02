//! Signed shop webhooks against a real local receiver that checks every
//! signature with `verify_signature`, on both databases; time moves only on
//! the manual clock.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use engine::config::ShopWebhookConfig;
use engine::shop_webhooks::{self, SignatureError};
use engine::testing::all_backends;
use engine::{Clock, ManualClock};
use std::sync::{Arc, Mutex};

const T0: i64 = 1_800_000_000_000;
const SECRET: &str = "whsec_test_secret";

#[derive(Debug, Clone)]
struct Received {
    verified: Result<(), SignatureError>,
    body: serde_json::Value,
}

#[derive(Clone)]
struct Receiver {
    clock: ManualClock,
    /// Status answered to each request in turn (the last one repeats).
    script: Arc<Vec<u16>>,
    seen: Arc<Mutex<Vec<Received>>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = headers
        .get(shop_webhooks::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let verified =
        shop_webhooks::verify_signature(SECRET, header, &body, r.clock.now_ms() / 1000, 300);
    let ok = verified.is_ok();
    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let n = {
        let mut seen = r.seen.lock().expect("lock");
        seen.push(Received {
            verified,
            body: json,
        });
        seen.len()
    };
    if !ok {
        return StatusCode::UNAUTHORIZED;
    }
    let code = r
        .script
        .get(n - 1)
        .or(r.script.last())
        .copied()
        .unwrap_or(200);
    StatusCode::from_u16(code).unwrap_or(StatusCode::OK)
}

/// Starts a receiver on loopback; returns its URL and what it saw.
async fn receiver(clock: &ManualClock, script: &[u16]) -> (String, Arc<Mutex<Vec<Received>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let state = Receiver {
        clock: clock.clone(),
        script: Arc::new(script.to_vec()),
        seen: seen.clone(),
    };
    let app = Router::new()
        .route("/hooks/rebound", post(receive))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/hooks/rebound",
        listener.local_addr().expect("addr")
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen)
}

fn config(url: &str, secret: &str, max_attempts: i64) -> ShopWebhookConfig {
    ShopWebhookConfig {
        url: Some(url.into()),
        secret: Some(secret.into()),
        max_attempts,
        timeout_seconds: 5,
    }
}

#[tokio::test]
async fn delivered_on_the_second_try_after_the_backoff() {
    for t in all_backends().await {
        let db = &t.db;
        let backend = db.backend_name();
        let clock = ManualClock::new(T0);
        let (url, seen) = receiver(&clock, &[500, 200]).await;
        let cfg = config(&url, SECRET, 8);
        let client = shop_webhooks::http_client(&cfg).expect("client");

        let payload = serde_json::json!({"order_number": "A-1001", "reason": "mailbox_full"});
        let id = shop_webhooks::enqueue(db, clock.now_ms(), "receipt.held", payload.clone())
            .await
            .expect("enqueue");

        // 1st try: the shop answers 500.
        let tries = shop_webhooks::deliver_due(db, clock.now_ms(), &cfg, &client)
            .await
            .expect("deliver");
        assert_eq!(tries, 1, "[{backend}]");
        let e = shop_webhooks::get(db, id)
            .await
            .expect("get")
            .expect("event");
        assert_eq!(e.state, "pending", "[{backend}]");
        assert_eq!(e.attempts, 1);
        assert_eq!(e.next_attempt_at, T0 + 30_000, "[{backend}] 30 s backoff");
        assert!(
            e.last_error.as_deref().is_some_and(|m| m.contains("500")),
            "{e:?}"
        );

        // Not yet due: nothing is sent.
        clock.advance_ms(29_999);
        let tries = shop_webhooks::deliver_due(db, clock.now_ms(), &cfg, &client)
            .await
            .expect("deliver");
        assert_eq!(tries, 0, "[{backend}] retried before the backoff");

        // 2nd try after the backoff: 200.
        clock.advance_ms(1);
        let tries = shop_webhooks::deliver_due(db, clock.now_ms(), &cfg, &client)
            .await
            .expect("deliver");
        assert_eq!(tries, 1);
        let e = shop_webhooks::get(db, id)
            .await
            .expect("get")
            .expect("event");
        assert_eq!(e.state, "delivered", "[{backend}]");
        assert_eq!(e.attempts, 2);
        assert_eq!(e.delivered_at, Some(T0 + 30_000));
        assert_eq!(e.last_error, None);

        // Nothing more to do.
        clock.advance_ms(3_600_000);
        let tries = shop_webhooks::deliver_due(db, clock.now_ms(), &cfg, &client)
            .await
            .expect("deliver");
        assert_eq!(tries, 0);

        let log = shop_webhooks::deliveries(db, id).await.expect("log");
        assert_eq!(log.len(), 2, "[{backend}] {log:?}");
        assert_eq!(
            (log[0].attempt, log[0].status_code, log[0].at),
            (1, Some(500), T0)
        );
        assert!(log[0].error.is_some());
        assert_eq!(
            (log[1].attempt, log[1].status_code, log[1].at),
            (2, Some(200), T0 + 30_000)
        );
        assert_eq!(log[1].error, None);

        let seen = seen.lock().expect("lock").clone();
        assert_eq!(seen.len(), 2);
        for r in &seen {
            assert_eq!(r.verified, Ok(()), "[{backend}] signature");
            assert_eq!(r.body["id"], id);
            assert_eq!(r.body["type"], "receipt.held");
            assert_eq!(r.body["created"], T0 / 1000);
            assert_eq!(r.body["data"], payload);
        }
        t.cleanup().await;
    }
}

#[tokio::test]
async fn a_wrong_secret_fails_verification_and_the_event_is_given_up() {
    for t in all_backends().await {
        let db = &t.db;
        let backend = db.backend_name();
        let clock = ManualClock::new(T0);
        let (url, seen) = receiver(&clock, &[200]).await;
        let cfg = config(&url, "not-the-shops-secret", 2);
        let client = shop_webhooks::http_client(&cfg).expect("client");
        let id = shop_webhooks::enqueue(db, T0, "receipt.held", serde_json::json!({}))
            .await
            .expect("enqueue");

        shop_webhooks::deliver_due(db, clock.now_ms(), &cfg, &client)
            .await
            .expect("deliver");
        clock.advance_ms(shop_webhooks::retry_delay_ms(1));
        shop_webhooks::deliver_due(db, clock.now_ms(), &cfg, &client)
            .await
            .expect("deliver");

        let seen = seen.lock().expect("lock").clone();
        assert_eq!(seen.len(), 2);
        assert!(
            seen.iter()
                .all(|r| r.verified == Err(SignatureError::Mismatch)),
            "[{backend}] {seen:?}"
        );
        let e = shop_webhooks::get(db, id)
            .await
            .expect("get")
            .expect("event");
        assert_eq!(e.state, "failed", "[{backend}] given up after max_attempts");
        assert_eq!(e.attempts, 2);
        let log = shop_webhooks::deliveries(db, id).await.expect("log");
        assert_eq!(
            log.iter().map(|d| d.status_code).collect::<Vec<_>>(),
            vec![Some(401), Some(401)]
        );
        clock.advance_ms(10 * 3_600_000);
        assert_eq!(
            shop_webhooks::deliver_due(db, clock.now_ms(), &cfg, &client)
                .await
                .expect("deliver"),
            0,
            "a failed event is not tried again"
        );
        t.cleanup().await;
    }
}

#[tokio::test]
async fn unreachable_shop_is_retried_and_no_url_keeps_events_pending() {
    for t in all_backends().await {
        let db = &t.db;
        let backend = db.backend_name();
        let id = shop_webhooks::enqueue(db, T0, "receipt.held", serde_json::json!({"n": 1}))
            .await
            .expect("enqueue");

        // No URL: stored, pending, nothing tried.
        let off = ShopWebhookConfig::default();
        let client = shop_webhooks::http_client(&off).expect("client");
        assert_eq!(
            shop_webhooks::deliver_due(db, T0, &off, &client)
                .await
                .expect("deliver"),
            0
        );
        let e = shop_webhooks::get(db, id)
            .await
            .expect("get")
            .expect("event");
        assert_eq!((e.state.as_str(), e.attempts), ("pending", 0));

        // A port nobody listens on: the try is logged without a status.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/x", listener.local_addr().expect("addr"));
        drop(listener);
        let cfg = config(&url, SECRET, 8);
        assert_eq!(
            shop_webhooks::deliver_due(db, T0, &cfg, &client)
                .await
                .expect("deliver"),
            1
        );
        let e = shop_webhooks::get(db, id)
            .await
            .expect("get")
            .expect("event");
        assert_eq!(e.state, "pending", "[{backend}]");
        assert_eq!(e.next_attempt_at, T0 + 30_000);
        let log = shop_webhooks::deliveries(db, id).await.expect("log");
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].status_code, None);
        assert!(log[0].error.is_some());

        assert!(
            shop_webhooks::enqueue(db, T0, "bad type!", serde_json::json!({}))
                .await
                .is_err()
        );
        t.cleanup().await;
    }
}

#[tokio::test]
async fn two_deliverers_never_send_an_event_twice() {
    for t in all_backends().await {
        let db = &t.db;
        let backend = db.backend_name();
        let clock = ManualClock::new(T0);
        let (url, seen) = receiver(&clock, &[200]).await;
        let cfg = config(&url, SECRET, 8);
        let a = shop_webhooks::http_client(&cfg).expect("client");
        let b = shop_webhooks::http_client(&cfg).expect("client");
        for n in 0..40 {
            shop_webhooks::enqueue(db, T0, "receipt.held", serde_json::json!({ "n": n }))
                .await
                .expect("enqueue");
        }
        // Several rounds of two concurrent deliverers until nothing is due.
        for _ in 0..10 {
            let (x, y) = tokio::join!(
                shop_webhooks::deliver_due(db, T0, &cfg, &a),
                shop_webhooks::deliver_due(db, T0, &cfg, &b),
            );
            if x.expect("a") + y.expect("b") == 0 {
                break;
            }
        }
        let seen = seen.lock().expect("lock").clone();
        let mut ids: Vec<i64> = seen
            .iter()
            .map(|r| r.body["id"].as_i64().expect("id"))
            .collect();
        ids.sort();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "[{backend}] an event was sent twice");
        assert_eq!(ids.len(), 40, "[{backend}] every event sent");
        let delivered = shop_webhooks::list(db, Some("delivered"), None, 100)
            .await
            .expect("list");
        assert_eq!(delivered.len(), 40);
        t.cleanup().await;
    }
}
