//! What the shop API refuses at intake, through the real HTTP server on both
//! databases: addresses that are not one deliverable mailbox, data after the
//! JSON object, control characters in text. Every refusal names its field,
//! nothing refused is stored, and the answers are the same on both backends.

mod support;

use serde_json::{Value, json};
use support::shop_api::ShopApi;
use support::{TestServer, servers, test_config};

fn order(number: &str) -> Value {
    json!({
        "order_number": number,
        "placed_at": "2026-11-27T21:00:00Z",
        "currency": "EUR",
        "items": [{ "name": "Mug", "quantity": 2, "unit_price": 1250 }],
        "totals": { "subtotal": 2500, "tax": 0, "shipping": 0, "discount": 0, "total": 2500 },
        "customer": { "email": "jane@example.com", "name": "Jane", "account_kind": "guest",
                      "customer_ref": "c-1" },
        "billing_address": { "lines": ["1 Main St", "10115 Berlin"], "country": "DE" }
    })
}

/// The message the answer gives for `field`, if it names it.
fn message_for<'a>(body: &'a Value, field: &str) -> Option<&'a str> {
    body["fields"]
        .as_array()?
        .iter()
        .find(|f| f["field"] == field)
        .and_then(|f| f["message"].as_str())
}

async fn stored(srv: &TestServer, number: &str) -> Option<engine::orders::Order> {
    engine::orders::find_by_number(&srv.state.db, number)
        .await
        .expect("read")
}

#[tokio::test]
async fn an_address_must_be_one_deliverable_mailbox() {
    for srv in servers(test_config()).await {
        let b = srv.backend();
        let api = ShopApi::new(&srv, "intake").await;
        let long_local = format!("{}@example.com", "a".repeat(65));
        let too_long = format!(
            "aaaaaaaaaa@{}.{}.{}.{}.com",
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(63),
            "e".repeat(51)
        );
        let refused: Vec<(&str, &str)> = vec![
            ("a@b.co,x@y.z", "exactly one address"),
            ("a@b.co>x@y.z", "exactly one address"),
            ("a@b@y.z", "exactly one address"),
            ("a@b.co;x@y.z", "exactly one address"),
            ("Jane <jane@example.com>", "exactly one address"),
            ("jane@example.com (Jane)", "exactly one address"),
            ("\"jane doe\"@example.com", "exactly one address"),
            ("jane@example.com\r\nBcc: x@y.z", "exactly one address"),
            ("jörg@bücher.example", "SMTPUTF8"),
            ("ja..ne@example.com", "single dots"),
            (&long_local, "at most 64"),
            (&too_long, "at most 254"),
            ("jane@localhost", "at least one dot"),
            ("jane@exa_mple.com", "at least one dot"),
        ];
        for (i, (address, why)) in refused.iter().enumerate() {
            let number = format!("ADDR-{i}");
            let mut o = order(&number);
            o["customer"]["email"] = json!(address);
            let (status, body) = api.post(&o).await;
            assert_eq!(status, 422, "[{b}] {address:?}: {body}");
            let message = message_for(&body, "customer.email")
                .unwrap_or_else(|| panic!("[{b}] {address:?} not named: {body}"));
            assert!(message.contains(why), "[{b}] {address:?}: {message}");
            assert!(
                stored(&srv, &number).await.is_none(),
                "[{b}] {address:?} stored"
            );
        }

        // An IDN domain is stored (and so sent) as A-labels, shown in Unicode.
        let mut o = order("ADDR-IDN");
        o["customer"]["email"] = json!("Jorg@Bücher.Example");
        let (status, body) = api.post(&o).await;
        assert_eq!(status, 202, "[{b}] {body}");
        let kept = stored(&srv, "ADDR-IDN").await.expect("stored");
        assert_eq!(kept.customer_email, "jorg@xn--bcher-kva.example", "[{b}]");
        assert_eq!(
            engine::orders::display_email(&kept.customer_email),
            "jorg@bücher.example"
        );
        // Staff find it by either spelling.
        let key = engine::orders::SearchKey::parse("jorg@bücher.example").expect("key");
        let found = engine::orders::search(&srv.state.db, &key, 10)
            .await
            .expect("search");
        assert_eq!(found.len(), 1, "[{b}] search by Unicode domain");
        // Staff read it in Unicode, searching by either spelling.
        srv.add_user("staff@example.com", engine::accounts::Role::Admin)
            .await;
        let staff = srv.client();
        assert_eq!(
            srv.login(&staff, "staff@example.com", support::PASSWORD)
                .await
                .0,
            200
        );
        for q in ["jorg@bücher.example", "jorg@xn--bcher-kva.example"] {
            let (status, rows) = srv.call(&staff, "/fn/orders/search", &[("q", q)]).await;
            assert_eq!(status, 200, "[{b}] {rows}");
            assert!(rows.contains("jorg@bücher.example"), "[{b}] {q}: {rows}");
        }

        // An address literal is a mailbox too.
        let mut o = order("ADDR-LIT");
        o["customer"]["email"] = json!("jane@[192.0.2.1]");
        let (status, body) = api.post(&o).await;
        assert_eq!(status, 202, "[{b}] {body}");
        srv.stop().await;
    }
}

#[tokio::test]
async fn data_after_the_json_object_is_a_400() {
    for srv in servers(test_config()).await {
        let b = srv.backend();
        let api = ShopApi::new(&srv, "intake").await;
        let one = order("TRAIL-1").to_string();
        let two = order("TRAIL-2").to_string();
        for (what, body) in [
            ("xyz", format!("{one}xyz")),
            ("two objects", format!("{one}{two}")),
            ("two objects, spaced", format!("{one}\n{two}")),
            ("a NUL", format!("{one}\0")),
            ("a bracket", format!("{one}]")),
        ] {
            let (status, answer) = api.post_bytes(body.into_bytes()).await;
            assert_eq!(status, 400, "[{b}] {what}: {answer}");
            assert!(
                message_for(&answer, "(body)").is_some_and(|m| m.contains("after the JSON")),
                "[{b}] {what}: {answer}"
            );
        }
        assert!(stored(&srv, "TRAIL-1").await.is_none(), "[{b}]");
        assert!(stored(&srv, "TRAIL-2").await.is_none(), "[{b}]");
        // Trailing whitespace is still one JSON document.
        let (status, answer) = api.post_bytes(format!("{one}\r\n \t").into_bytes()).await;
        assert_eq!(status, 202, "[{b}] {answer}");
        srv.stop().await;
    }
}

#[tokio::test]
async fn control_characters_in_text_are_refused_alike_on_both_backends() {
    let mut answers = Vec::new();
    for srv in servers(test_config()).await {
        let b = srv.backend();
        let api = ShopApi::new(&srv, "intake").await;
        let mut seen = Vec::new();
        for (i, (pointer, field)) in [
            ("/customer/name", "customer.name"),
            ("/customer/customer_ref", "customer.customer_ref"),
            ("/items/0/name", "items[0].name"),
            ("/billing_address/lines/1", "billing_address.lines[1]"),
        ]
        .into_iter()
        .enumerate()
        {
            for (j, control) in ["\0", "\u{1}", "\u{8}", "\u{1b}[31m", "\u{1f}"]
                .into_iter()
                .enumerate()
            {
                let number = format!("CTL-{i}-{j}");
                let mut o = order(&number);
                let target = o.pointer_mut(pointer).expect("field");
                *target = json!(format!("Ja{control}ne"));
                let (status, body) = api.post(&o).await;
                assert_eq!(status, 422, "[{b}] {field} with {control:?}: {body}");
                let message = message_for(&body, field)
                    .unwrap_or_else(|| panic!("[{b}] {field} not named: {body}"));
                assert!(message.contains("control characters"), "[{b}] {message}");
                assert!(
                    stored(&srv, &number).await.is_none(),
                    "[{b}] {number} stored"
                );
                seen.push((status, body));
            }
        }
        // TAB, CR and LF are text.
        let mut o = order("CTL-OK");
        o["billing_address"]["lines"][1] = json!("10115 Berlin\r\nGermany\t(DE)");
        o["items"][0]["name"] = json!("Mug\tblue");
        let (status, body) = api.post(&o).await;
        assert_eq!(status, 202, "[{b}] {body}");
        let kept = stored(&srv, "CTL-OK").await.expect("stored");
        let billing: Value =
            serde_json::from_str(kept.billing_json.as_deref().unwrap_or("null")).expect("json");
        assert_eq!(
            billing["lines"][1], "10115 Berlin\r\nGermany\t(DE)",
            "[{b}]"
        );
        answers.push(seen);
        srv.stop().await;
    }
    // With PostgreSQL configured: the same answers, byte for byte.
    if let [sqlite, postgres] = answers.as_slice() {
        assert_eq!(sqlite, postgres);
    }
}
