//! The shop API through the real HTTP server: API keys, validation with
//! per-field errors, idempotency, the order timeline.

mod support;

use serde_json::{Value, json};
use support::{servers, test_config};

fn good_order(number: &str) -> Value {
    json!({
        "order_number": number,
        "placed_at": "2026-11-27T21:00:00Z",
        "currency": "EUR",
        "items": [{ "name": "Mug", "quantity": 2, "unit_price": 1250 }],
        "totals": { "subtotal": 2500, "tax": 475, "shipping": 0, "discount": 0, "total": 2975 },
        "customer": { "email": "jane@example.com", "name": "Jane", "account_kind": "guest" },
        "client_ip": "203.0.113.9"
    })
}

#[tokio::test]
async fn orders_need_a_key_validate_and_are_idempotent() {
    for srv in servers(test_config()).await {
        let key = engine::apikeys::create(&srv.state.db, srv.clock_now(), "test shop", "test")
            .await
            .expect("key");
        let c = srv.client();
        let url = format!("{}/api/v1/orders", srv.base);

        let res = c
            .post(&url)
            .json(&good_order("K-1"))
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 401);
        assert!(
            res.text()
                .await
                .unwrap_or_default()
                .contains("missing API key")
        );
        let res = c
            .post(&url)
            .bearer_auth("rbk_not_a_real_key")
            .json(&good_order("K-1"))
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 401);

        let res = c
            .post(&url)
            .bearer_auth(&key.secret)
            .json(&good_order("K-1"))
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 202);
        let first: Value = res.json().await.expect("json");
        assert_eq!(first["status"], "queued");
        assert_eq!(first["duplicate"], false);

        // Same order number again: the original answer, no second receipt.
        let res = c
            .post(&url)
            .bearer_auth(&key.secret)
            .json(&good_order("K-1"))
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 202);
        let again: Value = res.json().await.expect("json");
        assert_eq!(
            (again["id"].clone(), again["duplicate"].clone()),
            (first["id"].clone(), json!(true))
        );
        // Same Idempotency-Key with another number: also the original.
        let res = c
            .post(&url)
            .bearer_auth(&key.secret)
            .header("idempotency-key", "abc")
            .json(&good_order("K-2"))
            .send()
            .await
            .expect("post");
        let k2: Value = res.json().await.expect("json");
        let res = c
            .post(&url)
            .bearer_auth(&key.secret)
            .header("idempotency-key", "abc")
            .json(&good_order("K-3"))
            .send()
            .await
            .expect("post");
        let k3: Value = res.json().await.expect("json");
        assert_eq!(k2["id"], k3["id"]);
        let jobs = engine::delivery::queue::depth(&srv.state.db)
            .await
            .expect("depth");
        assert_eq!(
            jobs,
            vec![("queued".to_string(), 2)],
            "one send job per distinct order"
        );

        // Validation: every bad field named, nothing stored.
        let mut bad = good_order("K-9");
        bad["currency"] = json!("XYZ");
        bad["customer"]["email"] = json!("nope");
        bad["totals"]["total"] = json!(1);
        let res = c
            .post(&url)
            .bearer_auth(&key.secret)
            .json(&bad)
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 422);
        let body: Value = res.json().await.expect("json");
        let fields: Vec<String> = body["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| f["field"].as_str().unwrap_or_default().to_string())
            .collect();
        for f in ["currency", "customer.email", "totals.total"] {
            assert!(fields.contains(&f.to_string()), "{f} not in {fields:?}");
        }
        // Wrong types name the path too.
        let mut typed = good_order("K-10");
        typed["items"][0]["quantity"] = json!("two");
        let res = c
            .post(&url)
            .bearer_auth(&key.secret)
            .json(&typed)
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 422);
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["fields"][0]["field"], "items[0].quantity");
        // Not JSON at all, and oversized bodies.
        let res = c
            .post(&url)
            .bearer_auth(&key.secret)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 422);
        let res = c
            .post(&url)
            .bearer_auth(&key.secret)
            .header("content-type", "application/json")
            .body(vec![b' '; 300 * 1024])
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 413);
        assert!(
            engine::orders::find_by_number(&srv.state.db, "K-9")
                .await
                .expect("q")
                .is_none()
        );

        // Status and timeline.
        let res = c
            .get(format!("{}/api/v1/orders/K-1", srv.base))
            .bearer_auth(&key.secret)
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["status"], "queued");
        assert_eq!(body["timeline"][0]["kind"], "intake");
        let res = c
            .get(format!("{}/api/v1/orders/NOPE", srv.base))
            .bearer_auth(&key.secret)
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 404);

        // A revoked key stops working.
        engine::apikeys::revoke(&srv.state.db, key.key.id, srv.clock_now())
            .await
            .expect("revoke");
        let res = c
            .post(&url)
            .bearer_auth(&key.secret)
            .json(&good_order("K-4"))
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 401);
        srv.stop().await;
    }
}

#[tokio::test]
async fn the_openapi_document_describes_what_the_server_accepts() {
    let srv = support::TestServer::start(
        engine::testing::TestDb::sqlite().await.expect("db"),
        test_config(),
    )
    .await;
    let res = srv
        .client()
        .get(format!("{}/api/v1/openapi.json", srv.base))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.expect("json");
    assert!(
        doc["openapi"].as_str().unwrap_or("").starts_with("3."),
        "{doc}"
    );
    assert!(doc["paths"]["/api/v1/orders"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/orders/{number}"]["get"].is_object());
    let input = &doc["components"]["schemas"]["OrderInput"];
    let mut required: Vec<&str> = input["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    required.sort_unstable();
    assert_eq!(
        required,
        vec![
            "currency",
            "customer",
            "items",
            "order_number",
            "placed_at",
            "totals"
        ]
    );
    let totals_required: Vec<&str> = doc["components"]["schemas"]["TotalsInput"]["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(
        totals_required,
        vec!["subtotal", "total"],
        "tax, shipping, discount default to 0"
    );
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
    assert_eq!(
        input["additionalProperties"],
        json!(false),
        "unknown fields are refused"
    );
    // The documented minimal order (required fields only) is really accepted.
    let key = engine::apikeys::create(&srv.state.db, srv.clock_now(), "doc", "test")
        .await
        .expect("key");
    let minimal = json!({
        "order_number": "DOC-1", "placed_at": "2026-11-27T21:00:00Z", "currency": "JPY",
        "items": [{ "name": "Tea", "quantity": 1, "unit_price": 500 }],
        "totals": { "subtotal": 500, "total": 500 },
        "customer": { "email": "a@example.com", "name": "A", "account_kind": "social" }
    });
    let res = srv
        .client()
        .post(format!("{}/api/v1/orders", srv.base))
        .bearer_auth(&key.secret)
        .json(&minimal)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 202);
    // Unknown fields are refused, as the schema's additionalProperties says.
    let mut extra = minimal.clone();
    extra["surprise"] = json!(1);
    let res = srv
        .client()
        .post(format!("{}/api/v1/orders", srv.base))
        .bearer_auth(&key.secret)
        .json(&extra)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 422);
    srv.stop().await;
}

#[tokio::test]
async fn bounces_come_in_through_the_api_and_suppressions_can_be_released() {
    for srv in servers(test_config()).await {
        let key = engine::apikeys::create(&srv.state.db, srv.clock_now(), "mx", "test")
            .await
            .expect("key");
        let c = srv.client();
        let dsn = "From: MAILER-DAEMON@mx.example.net\r\nTo: postmaster@shop.example\r\nSubject: Undelivered Mail\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
--B\r\nContent-Type: text/plain\r\n\r\nFailed.\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\n\
Reporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; dead@example.com\r\nAction: failed\r\n\
Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <dead@example.com>: Recipient address rejected: User unknown\r\n\r\n--B--\r\n";
        // Padded past the 256 KiB order limit: the bounce endpoint takes up to 10 MiB.
        let padded = format!("X-Padding: {}\r\n{dsn}", "x".repeat(400 * 1024));
        let res = c
            .post(format!("{}/api/v1/inbound/bounce", srv.base))
            .bearer_auth(&key.secret)
            .header("content-type", "message/rfc822")
            .body(padded)
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 202);
        let body: Value = res.json().await.expect("json");
        assert_eq!(
            (body["matched"].clone(), body["unmatched"].clone()),
            (json!(0), json!(1))
        );
        let res = c
            .post(format!("{}/api/v1/inbound/bounce", srv.base))
            .bearer_auth(&key.secret)
            .body("")
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 422);
        let res = c
            .post(format!("{}/api/v1/inbound/bounce", srv.base))
            .body(dsn)
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 401);

        let list: Value = c
            .get(format!("{}/api/v1/suppressions?search=dead", srv.base))
            .bearer_auth(&key.secret)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(list[0]["email"], "dead@example.com");
        assert_eq!(list[0]["reason"], "userunknown");
        let res = c
            .delete(format!("{}/api/v1/suppressions/dead@example.com", srv.base))
            .bearer_auth(&key.secret)
            .send()
            .await
            .expect("delete");
        assert_eq!(res.status(), 204);
        let res = c
            .delete(format!("{}/api/v1/suppressions/dead@example.com", srv.base))
            .bearer_auth(&key.secret)
            .send()
            .await
            .expect("delete");
        assert_eq!(res.status(), 404);
        let list: Value = c
            .get(format!("{}/api/v1/suppressions", srv.base))
            .bearer_auth(&key.secret)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(list, json!([]));
        srv.stop().await;
    }
}

/// Concurrent checkouts share a commit (the intake writer): the same order
/// posted 16 times at once is stored once with one send job, every post
/// answers with it, and 32 different orders posted at once are all stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_posts_are_grouped_and_stay_idempotent() {
    for srv in servers(test_config()).await {
        let key = engine::apikeys::create(&srv.state.db, srv.clock_now(), "test shop", "test")
            .await
            .expect("key");
        let c = srv.client();
        let url = format!("{}/api/v1/orders", srv.base);
        let post = |body: Value| {
            let (c, url, key) = (c.clone(), url.clone(), key.secret.clone());
            async move {
                let res = c.post(&url).bearer_auth(&key).json(&body).send().await;
                let res = res.expect("post");
                (
                    res.status().as_u16(),
                    res.json::<Value>().await.expect("json"),
                )
            }
        };
        let same = futures::future::join_all((0..16).map(|_| post(good_order("C-SAME")))).await;
        assert!(same.iter().all(|(s, _)| *s == 202), "{same:?}");
        let created = same.iter().filter(|(_, v)| v["duplicate"] == false).count();
        assert_eq!(created, 1, "exactly one post created it: {same:?}");
        let ids: std::collections::HashSet<i64> =
            same.iter().filter_map(|(_, v)| v["id"].as_i64()).collect();
        assert_eq!(ids.len(), 1, "{same:?}");

        let many =
            futures::future::join_all((0..32).map(|i| post(good_order(&format!("C-{i}"))))).await;
        assert!(
            many.iter()
                .all(|(s, v)| *s == 202 && v["duplicate"] == false),
            "{many:?}"
        );
        let (orders, jobs): (i64, i64) = engine::on_pool!(&srv.state.db, p => sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM orders WHERE order_number LIKE 'C-%'),
                    (SELECT COUNT(*) FROM jobs JOIN orders ON orders.id = jobs.order_id
                     WHERE order_number LIKE 'C-%')"
        ).fetch_one(p).await)
        .expect("counts");
        assert_eq!((orders, jobs), (33, 33), "[{}]", srv.backend());
        srv.stop().await;
    }
}
