//! Abuse (the proof suite's input half): the shop API and every server
//! function fed malformed, oversized and hostile input generated with
//! proptest, through the real router on both databases. Never a 5xx, never a
//! panic; every refusal is a 4xx with a body that says what was wrong (JSON
//! with `error` on the API).

mod support;

use engine::accounts::Role;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde_json::{Value, json};
use support::{PASSWORD, TestServer, servers, test_config};

/// Every argument name the server functions take (from `app/src/server_fns`).
const ARG_NAMES: &[&str] = &[
    "after",
    "before",
    "days",
    "disabled",
    "display_name",
    "email",
    "enabled",
    "from_address",
    "from_name",
    "id",
    "key_id",
    "max_per_second",
    "min_score",
    "name",
    "network",
    "next",
    "note",
    "order_number",
    "outcome",
    "password",
    "pool_id",
    "position",
    "provider",
    "q",
    "reached",
    "relay_url",
    "role",
    "search",
    "sort",
    "state",
    "state_filter",
    "token",
    "user_id",
];

/// Strings an attacker or a broken client sends.
fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z0-9@._+-]{0,40}",
        Just(String::new()),
        Just("-1".to_string()),
        Just("9223372036854775808".to_string()),
        Just("1e309".to_string()),
        Just("NaN".to_string()),
        Just("<script>alert(1)</script>".to_string()),
        Just("' OR 1=1 --".to_string()),
        Just("\u{0}\u{202e}\u{fffd}".to_string()),
        Just("../../etc/passwd".to_string()),
        Just("a@b.co,x@y.z".to_string()),
        Just("Jane <jane@example.com>".to_string()),
        Just("jörg@bücher.example".to_string()),
        Just("Ja\u{1}ne\u{1b}[2J".to_string()),
        Just("%00%ff%".to_string()),
        Just("true".to_string()),
        Just("0".to_string()),
        (1usize..300_000).prop_map(|n| "A".repeat(n)),
    ]
}

/// Any JSON, nested a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        hostile_string().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn valid_order(number: &str) -> Value {
    json!({
        "order_number": number, "placed_at": "2026-11-27T21:00:00Z", "currency": "EUR",
        "items": [{ "name": "Mug", "quantity": 2, "unit_price": 1500 }],
        "totals": { "subtotal": 3000, "tax": 0, "shipping": 0, "discount": 0, "total": 3000 },
        "customer": { "email": "ann@example.com", "name": "Ann", "phone": "+4915112345678",
                      "account_kind": "guest", "customer_ref": "c-1" },
        "client_ip": "192.0.2.1",
        "billing_address": { "lines": ["1 Main St", "10115 Berlin"], "country": "DE" }
    })
}

/// Fields of an order a mutation may replace or remove.
const ORDER_FIELDS: &[&str] = &[
    "/billing_address/lines",
    "/billing_address/country",
    "/order_number",
    "/placed_at",
    "/currency",
    "/items",
    "/items/0",
    "/items/0/name",
    "/items/0/quantity",
    "/items/0/unit_price",
    "/totals",
    "/totals/subtotal",
    "/totals/total",
    "/totals/tax",
    "/customer",
    "/customer/email",
    "/customer/name",
    "/customer/phone",
    "/customer/account_kind",
    "/customer/customer_ref",
    "/client_ip",
    "/billing_address",
];

/// A valid order with some fields replaced by hostile values or removed.
fn mutated_order() -> impl Strategy<Value = Value> {
    let edit = (
        prop::sample::select(ORDER_FIELDS),
        prop::option::weighted(0.9, json_value()),
    );
    ("[A-Z0-9-]{1,20}", prop::collection::vec(edit, 1..4)).prop_map(|(number, edits)| {
        let mut order = valid_order(&number);
        for (path, value) in edits {
            let (parent, key) = path.rsplit_once('/').unwrap_or(("", path));
            let Some(target) = order.pointer_mut(parent) else {
                continue;
            };
            match (target, value) {
                (Value::Object(m), Some(v)) => {
                    m.insert(key.to_string(), v);
                }
                (Value::Object(m), None) => {
                    m.remove(key);
                }
                (Value::Array(a), v) => {
                    if let (Ok(i), Some(v)) = (key.parse::<usize>(), v)
                        && i < a.len()
                    {
                        a[i] = v;
                    }
                }
                _ => {}
            }
        }
        order
    })
}

/// What one request to the API may answer: accepted or a clear JSON 4xx.
fn check_api(what: &str, status: u16, body: &str) -> Result<(), TestCaseError> {
    prop_assert!(status < 500, "{what}: {status} {body}");
    if status >= 400 {
        let v: Value = serde_json::from_str(body).map_err(|e| {
            TestCaseError::fail(format!("{what}: {status} body is not JSON ({e}): {body}"))
        })?;
        prop_assert!(
            v["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{what}: {status} without an error message: {body}"
        );
    }
    Ok(())
}

/// An answer to `POST /api/v1/orders`: besides [`check_api`], a 400 or 422
/// names every field it refuses.
fn check_order_answer(what: &str, status: u16, body: &str) -> Result<(), TestCaseError> {
    check_api(what, status, body)?;
    if status == 400 || status == 422 {
        let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let fields = v["fields"].as_array().cloned().unwrap_or_default();
        prop_assert!(
            !fields.is_empty(),
            "{what}: {status} names no field: {body}"
        );
        for f in fields {
            prop_assert!(
                f["field"].as_str().is_some_and(|s| !s.is_empty())
                    && f["message"].as_str().is_some_and(|s| !s.is_empty()),
                "{what}: {status} with an unnamed refusal: {body}"
            );
        }
    }
    Ok(())
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    })
}

async fn api_key(srv: &TestServer) -> String {
    engine::apikeys::create(&srv.state.db, srv.clock_now(), "abuse", "test")
        .await
        .expect("key")
        .secret
}

#[test]
fn the_shop_api_answers_hostile_input_with_clear_4xx() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for srv in rt.block_on(servers(test_config())) {
        let b = srv.backend();
        let key = rt.block_on(api_key(&srv));
        let http = reqwest::Client::new();
        let post = |body: Vec<u8>, content_type: &str| {
            let send = || {
                rt.block_on(
                    http.post(format!("{}/api/v1/orders", srv.base))
                        .bearer_auth(&key)
                        .header("content-type", content_type)
                        .body(body.clone())
                        .send(),
                )
            };
            // A kept-alive connection the server closed just as the next
            // request went out fails without an answer (seen once in CI, not
            // reproducible in 25 runs): that request is sent once more. A
            // handler that panics or hangs fails both times.
            let res = match send() {
                Err(e) if e.is_request() => send(),
                other => other,
            };
            let res = res.map_err(|e| TestCaseError::fail(format!("request failed: {e:?}")))?;
            let status = res.status().as_u16();
            let text = rt.block_on(res.text()).unwrap_or_default();
            Ok::<_, TestCaseError>((status, text))
        };

        // The order the mutations start from is itself accepted.
        let (status, body) = post(
            valid_order("BASE-1").to_string().into_bytes(),
            "application/json",
        )
        .expect("request");
        assert_eq!(status, 202, "[{b}] the base order: {body}");
        // Valid orders with hostile fields.
        runner(300)
            .run(&mutated_order(), |order| {
                let (status, body) = post(order.to_string().into_bytes(), "application/json")?;
                check_order_answer(&format!("[{b}] order {order}"), status, &body)
            })
            .unwrap_or_else(|e| panic!("[{b}] {e}"));
        // Any JSON at all.
        runner(150)
            .run(&json_value(), |v| {
                let (status, body) = post(v.to_string().into_bytes(), "application/json")?;
                prop_assert!(status != 202, "[{b}] accepted {v}");
                check_order_answer(&format!("[{b}] json {v}"), status, &body)
            })
            .unwrap_or_else(|e| panic!("[{b}] {e}"));
        // Not JSON: random bytes, under any content type.
        let bytes = (
            prop::collection::vec(any::<u8>(), 0..4096),
            prop::sample::select(vec![
                "application/json",
                "text/plain",
                "",
                "application/json; charset=latin1",
            ]),
        );
        runner(100)
            .run(&bytes, |(body, ct)| {
                let (status, text) = post(body, ct)?;
                prop_assert!(status != 202, "[{b}] accepted bytes");
                check_order_answer(&format!("[{b}] bytes as {ct:?}"), status, &text)
            })
            .unwrap_or_else(|e| panic!("[{b}] {e}"));
        // A valid order with anything after it: one JSON document or a 400.
        let tail = ("[A-Z0-9]{1,12}", prop::collection::vec(any::<u8>(), 1..64));
        runner(100)
            .run(&tail, |(number, tail)| {
                let mut body = valid_order(&format!("T-{number}")).to_string().into_bytes();
                let blank = tail.iter().all(|c| b" \t\r\n".contains(c));
                body.extend_from_slice(&tail);
                let (status, text) = post(body, "application/json")?;
                let expected = if blank { 202 } else { 400 };
                prop_assert_eq!(status, expected, "[{}] tail {:?}: {}", b, tail, text);
                check_order_answer(&format!("[{b}] tail {tail:?}"), status, &text)
            })
            .unwrap_or_else(|e| panic!("[{b}] {e}"));
        // Fixed monsters: oversized, deeply nested, huge numbers.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let big = json!({ "order_number": "A".repeat(400 * 1024) }).to_string();
        for (what, body) in [("deep", deep), ("oversized", big)] {
            let (status, text) = post(body.into_bytes(), "application/json").expect("request");
            assert!(
                (400..500).contains(&status),
                "[{b}] {what}: {status} {text}"
            );
            check_api(what, status, &text).unwrap_or_else(|e| panic!("[{b}] {e}"));
        }

        // Every keyed GET/POST/DELETE route with hostile path segments.
        let segment = hostile_string().prop_filter("fits a URL", |s| s.len() < 2_000);
        runner(100)
            .run(&(segment, 0usize..6), |(seg, route)| {
                let enc: String = url_escape(&seg);
                let (method, path) = [
                    (reqwest::Method::GET, format!("/api/v1/orders/{enc}")),
                    (
                        reqwest::Method::GET,
                        format!("/api/v1/orders/{enc}/receipt"),
                    ),
                    (
                        reqwest::Method::GET,
                        format!("/api/v1/orders/{enc}/receipt.pdf"),
                    ),
                    (
                        reqwest::Method::POST,
                        format!("/api/v1/orders/{enc}/report-missing"),
                    ),
                    (
                        reqwest::Method::GET,
                        format!("/api/v1/customers/{enc}/notifications"),
                    ),
                    (
                        reqwest::Method::DELETE,
                        format!("/api/v1/suppressions/{enc}"),
                    ),
                ][route]
                    .clone();
                let res = rt
                    .block_on(
                        http.request(method.clone(), format!("{}{path}", srv.base))
                            .bearer_auth(&key)
                            .send(),
                    )
                    .map_err(|e| TestCaseError::fail(format!("request failed: {e}")))?;
                let status = res.status().as_u16();
                let text = rt.block_on(res.text()).unwrap_or_default();
                check_api(&format!("[{b}] {method} {path}"), status, &text)
            })
            .unwrap_or_else(|e| panic!("[{b}] {e}"));
        rt.block_on(srv.stop());
    }
}

/// Percent-encodes everything but unreserved characters.
fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn every_server_function_answers_hostile_arguments_without_a_5xx() {
    let paths: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p.to_string())
        // Logging out ends the session the rest needs; login has its own lockout tests.
        .filter(|p| p != "/fn/auth/logout" && p != "/fn/auth/login")
        .collect();
    assert!(
        paths.len() > 30,
        "found only {} server functions",
        paths.len()
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for srv in rt.block_on(servers(test_config())) {
        let b = srv.backend();
        rt.block_on(srv.add_user("admin@example.com", Role::Admin));
        let client = srv.client();
        let (status, body) = rt.block_on(srv.login(&client, "admin@example.com", PASSWORD));
        assert_eq!(status, 200, "{body}");
        let args = prop::collection::vec((prop::sample::select(ARG_NAMES), hostile_string()), 0..6);
        let calls = std::cell::Cell::new(0);
        for path in &paths {
            runner(32)
                .run(&args, |args| {
                    let form: Vec<(&str, &str)> =
                        args.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    let (status, body) = rt.block_on(srv.call(&client, path, &form));
                    calls.set(calls.get() + 1);
                    prop_assert!(status < 500, "[{b}] {path} {args:?}: {status} {body}");
                    if status >= 400 {
                        prop_assert!(
                            !body.trim().is_empty(),
                            "[{b}] {path}: {status} with no message"
                        );
                    }
                    Ok(())
                })
                .unwrap_or_else(|e| panic!("{e}"));
        }
        // The session survived it all (no function let hostile input end it).
        let (status, _) = rt.block_on(srv.call(&client, "/fn/stats/overview", &[]));
        assert_eq!(status, 200, "[{b}] still signed in after the abuse");
        println!(
            "[{b}] {} hostile server-function calls over {} functions",
            calls.get(),
            paths.len()
        );
        rt.block_on(srv.stop());
    }
}
