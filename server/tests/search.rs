//! Support search through the real server function on both databases: each
//! kind of key, exact matching, newest first, masking for managers, bad input.

mod support;

use engine::accounts::Role;
use engine::testing::fixtures;
use serde_json::Value;
use support::{PASSWORD, servers, test_config};

#[tokio::test]
async fn orders_are_found_by_email_phone_number_and_reference() {
    for srv in servers(test_config()).await {
        let b = srv.backend();
        let db = &srv.state.db;
        let now = srv.clock_now();
        for (number, email, phone, customer_ref) in [
            (
                "R-1001",
                "ann@example.com",
                Some("+4915112345678"),
                Some("cust-7"),
            ),
            ("R-1002", "ann@example.com", None, None),
            (
                "R-2001",
                "bob@example.org",
                Some("+14155550100"),
                Some("R-1001"),
            ),
        ] {
            let mut input = fixtures::order_input(number, email);
            input.customer.phone = phone.map(Into::into);
            input.customer.customer_ref = customer_ref.map(Into::into);
            let order = input.validate().expect("valid");
            engine::orders::intake(db, now, order, None)
                .await
                .expect("intake");
        }
        srv.add_user("agent@example.com", Role::Agent).await;
        srv.add_user("manager@example.com", Role::Manager).await;
        let agent = srv.client();
        assert_eq!(
            srv.login(&agent, "agent@example.com", PASSWORD).await.0,
            200
        );
        let search = |client: reqwest::Client, q: &'static str| {
            let srv = &srv;
            async move {
                let (status, body) = srv.call(&client, "/fn/orders/search", &[("q", q)]).await;
                (status, body)
            }
        };
        let numbers = |body: &str| -> Vec<String> {
            let rows: Vec<Value> = serde_json::from_str(body).unwrap_or_default();
            rows.iter()
                .map(|r| r["order_number"].as_str().unwrap_or_default().to_string())
                .collect()
        };

        // Email: case and spaces do not matter; newest first.
        let (status, body) = search(agent.clone(), "  ANN@example.com ").await;
        assert_eq!(status, 200, "[{b}] {body}");
        assert_eq!(numbers(&body), ["R-1002", "R-1001"], "[{b}]");
        assert!(
            body.contains("ann@example.com"),
            "[{b}] agents see the address"
        );
        // Phone: spaces and dashes are ignored.
        let (_, body) = search(agent.clone(), "+49 151 1234-5678").await;
        assert_eq!(numbers(&body), ["R-1001"], "[{b}]");
        // A reference matches order numbers and customer references alike.
        let (_, body) = search(agent.clone(), "R-1001").await;
        assert_eq!(numbers(&body), ["R-2001", "R-1001"], "[{b}]");
        let (_, body) = search(agent.clone(), "cust-7").await;
        assert_eq!(numbers(&body), ["R-1001"], "[{b}]");
        // Exact only: a prefix is not a match.
        let (status, body) = search(agent.clone(), "R-10").await;
        assert_eq!((status, numbers(&body).len()), (200, 0), "[{b}] {body}");

        // Managers see masked addresses.
        let manager = srv.client();
        assert_eq!(
            srv.login(&manager, "manager@example.com", PASSWORD).await.0,
            200
        );
        let (status, body) = search(manager.clone(), "bob@example.org").await;
        assert_eq!(status, 200, "[{b}] {body}");
        assert_eq!(numbers(&body), ["R-2001"], "[{b}]");
        assert!(!body.contains("bob@example.org"), "[{b}] masked: {body}");

        // Nothing to search for: a 400 that says what to type.
        let (status, body) = search(agent.clone(), "   ").await;
        assert_eq!(status, 400, "[{b}] {body}");
        assert!(body.contains("order number"), "[{b}] {body}");

        // The page itself, server-rendered (works with JavaScript off).
        let page = agent
            .get(format!("{}/search?q=ann%40example.com", srv.base))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(
            page.contains("2 matching orders") && page.contains("R-1002"),
            "[{b}]"
        );
        srv.stop().await;
    }
}
