//! The held queue's bulk actions and "re-send via a chosen pool", through the
//! real HTTP server on both databases: what agents may do, what they may not,
//! and what a worker then sends through which pool.

mod support;

use engine::accounts::Role;
use engine::delivery::pools;
use engine::on_pool;
use engine::orders::AccountKind;
use support::{PASSWORD, TestServer, intake, open_critical_case, order, servers, test_config};

async fn held_order(srv: &TestServer, number: &str, email: &str) -> i64 {
    let o = intake(srv, order(number, email, AccountKind::Guest, None)).await;
    open_critical_case(srv, o.id).await;
    o.id
}

async fn queue(srv: &TestServer, c: &reqwest::Client) -> serde_json::Value {
    let (status, body) = srv.call(c, "/fn/support/list", &[]).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("json")
}

fn working_by(list: &serde_json::Value, number: &str) -> Option<String> {
    list.as_array()
        .expect("rows")
        .iter()
        .find(|r| r["order_number"] == number)
        .map(|r| r["working_by"].as_str().unwrap_or("nobody").to_string())
}

#[tokio::test]
async fn bulk_actions_work_order_by_order_and_report_what_failed() {
    for srv in servers(test_config()).await {
        let b = srv.backend();
        held_order(&srv, "BQ-1", "one@example.com").await;
        held_order(&srv, "BQ-2", "two@example.com").await;
        srv.add_user("agent@test.local", Role::Agent).await;
        srv.add_user("manager@test.local", Role::Manager).await;
        let agent = srv.client();
        assert_eq!(srv.login(&agent, "agent@test.local", PASSWORD).await.0, 200);

        // Take both (and one that does not exist): two done, one reported.
        let (status, body) = srv
            .call(
                &agent,
                "/fn/support/bulk",
                &[
                    ("action", "take"),
                    ("order_numbers[0]", "BQ-1"),
                    ("order_numbers[2]", "NOPE-9"),
                    ("order_numbers[5]", "BQ-2"),
                ],
            )
            .await;
        assert_eq!(status, 200, "{b}: {body}");
        let out: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(
            out["done"],
            serde_json::json!(["BQ-1", "BQ-2"]),
            "{b}: {body}"
        );
        assert_eq!(out["failed"][0][0], "NOPE-9", "{b}: {body}");
        assert!(
            out["failed"][0][1]
                .as_str()
                .is_some_and(|m| m.contains("no order NOPE-9")),
            "{b}: {body}"
        );
        let list = queue(&srv, &agent).await;
        assert_eq!(
            working_by(&list, "BQ-1").as_deref(),
            Some("agent@test.local")
        );
        assert_eq!(
            working_by(&list, "BQ-2").as_deref(),
            Some("agent@test.local")
        );

        // Nothing selected, no note for resolve, an unknown action, too many: 422 with why.
        for (form, why) in [
            (vec![("action", "take")], "Select at least one order"),
            (
                vec![("action", "resolve"), ("order_numbers[0]", "BQ-1")],
                "Write a note",
            ),
            (
                vec![("action", "delete"), ("order_numbers[0]", "BQ-1")],
                "Choose what to do",
            ),
        ] {
            let (status, body) = srv.call(&agent, "/fn/support/bulk", &form).await;
            assert_eq!(status, 422, "{b}: {form:?}: {body}");
            assert!(body.contains(why), "{b}: {body}");
        }
        let many: Vec<(String, String)> = (0..101)
            .map(|i| (format!("order_numbers[{i}]"), format!("X-{i}")))
            .collect();
        let mut form: Vec<(&str, &str)> =
            many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        form.push(("action", "take"));
        let (status, body) = srv.call(&agent, "/fn/support/bulk", &form).await;
        assert_eq!(status, 422, "{b}: {body}");
        assert!(body.contains("at most 100"), "{b}: {body}");

        // A manager reads the queue but cannot act on it.
        let manager = srv.client();
        srv.login(&manager, "manager@test.local", PASSWORD).await;
        let (status, _) = srv
            .call(
                &manager,
                "/fn/support/bulk",
                &[("action", "take"), ("order_numbers[0]", "BQ-1")],
            )
            .await;
        assert_eq!(status, 403, "{b}");

        // Resolve both with one note: the queue is empty, each is audited.
        let (status, body) = srv
            .call(
                &agent,
                "/fn/support/bulk",
                &[
                    ("action", "resolve"),
                    ("note", "reached both by phone"),
                    ("order_numbers[0]", "BQ-1"),
                    ("order_numbers[1]", "BQ-2"),
                ],
            )
            .await;
        assert_eq!(status, 200, "{b}: {body}");
        assert_eq!(queue(&srv, &agent).await, serde_json::json!([]), "{b}");
        let audited: i64 = on_pool!(&srv.state.db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'support.resolve'"
        ).fetch_one(p).await)
        .expect("audit");
        assert_eq!(audited, 2, "{b}");
        srv.stop().await;
    }
}

#[tokio::test]
async fn an_agent_re_sends_a_fresh_link_through_the_pool_they_choose() {
    for srv in servers(test_config()).await {
        let b = srv.backend();
        let db = srv.state.db.clone();
        pools::ensure_dev_pools(&db, srv.clock_now())
            .await
            .expect("pools");
        let all = pools::list(&db).await.expect("pools");
        let backup = all
            .iter()
            .find(|p| p.role.as_str() == "backup")
            .expect("backup");
        let order_id = held_order(&srv, "RP-1", "reader@example.com").await;
        srv.add_user("agent@test.local", Role::Agent).await;
        srv.add_user("manager@test.local", Role::Manager).await;
        let agent = srv.client();
        srv.login(&agent, "agent@test.local", PASSWORD).await;

        let (status, body) = srv.call(&agent, "/fn/support/resend_pools", &[]).await;
        assert_eq!(status, 200, "{b}: {body}");
        assert!(body.contains(&backup.name), "{b}: {body}");
        let manager = srv.client();
        srv.login(&manager, "manager@test.local", PASSWORD).await;
        let (status, _) = srv.call(&manager, "/fn/support/resend_pools", &[]).await;
        assert_eq!(status, 403, "{b}");

        // An unknown pool is refused with why; nothing is queued.
        let (status, body) = srv
            .call(
                &agent,
                "/fn/support/resend_via_pool",
                &[("order_number", "RP-1"), ("pool_id", "999999")],
            )
            .await;
        assert_eq!(status, 422, "{b}: {body}");
        assert!(
            body.contains("does not exist or is disabled"),
            "{b}: {body}"
        );

        let backup_id = backup.id.to_string();
        let (status, body) = srv
            .call(
                &agent,
                "/fn/support/resend_via_pool",
                &[("order_number", "RP-1"), ("pool_id", &backup_id)],
            )
            .await;
        assert_eq!(status, 200, "{b}: {body}");

        let worker = engine::delivery::worker::Worker::new(
            db.clone(),
            srv.state.clock.clone(),
            &srv.state.config,
        )
        .expect("worker");
        worker.run_once().await.expect("send");
        engine::periodic::Periodic::for_worker(&worker)
            .tick()
            .await
            .expect("periodic round");
        // The link went out through the backup pool, not the masked one.
        let resends: Vec<(i64, String)> = on_pool!(&db, p => sqlx::query_as(
            "SELECT pool_id, outcome FROM delivery_attempts WHERE order_id = $1 AND purpose = 'masked_link'"
        ).bind(order_id).fetch_all(p).await)
        .expect("attempts");
        assert_eq!(resends, vec![(backup.id, "accepted".to_string())], "{b}");
        let events = engine::orders::events(&db, order_id).await.expect("events");
        assert!(
            events.iter().any(|e| e
                .detail
                .contains(&format!("through the pool {}", backup.name))),
            "{b}: {events:?}"
        );
        let outbox = engine::delivery::outbox::list(&db, None, 10)
            .await
            .expect("outbox");
        assert!(
            outbox
                .iter()
                .any(|m| m.envelope_to == "reader@example.com" && m.subject.contains("is ready")),
            "{b}"
        );
        srv.stop().await;
    }
}
