//! Real `rebound serve` processes against a real SMTP server on loopback:
//! two processes sharing one database (SQLite and PostgreSQL) never send a
//! receipt twice. Kills, PostgreSQL restarts and the 10,000-order run are in
//! `proof.rs`.

mod support;

use engine::testing::all_backends;
use engine::testing::smtp_server::ScriptedSmtpServer;
use std::time::Instant;
use support::serve::{Serve, per_order, post_orders, setup, wait_all_accepted};

#[tokio::test]
async fn two_processes_on_one_database_send_every_receipt_exactly_once() {
    const N: usize = 2_000;
    for t in all_backends().await {
        let smtp = ScriptedSmtpServer::start().await.expect("smtp");
        let key = setup(&t, &smtp).await;
        let a = Serve::start(&t.url, 16).await;
        let b = Serve::start(&t.url, 16).await;
        let started = Instant::now();
        post_orders(
            &[a.base.clone(), b.base.clone()],
            &key,
            "TWO",
            N,
            "two@example.com",
        )
        .await;
        let states = wait_all_accepted(&t, N as i64, 120).await;
        let per = per_order(&smtp);
        let doubles: usize = per.values().map(|c| c.saturating_sub(1)).sum();
        println!(
            "[{}] two processes, {N} orders: states {states:?}, distinct received {}, double sends {doubles}, {:.1} s",
            t.db.backend_name(),
            per.len(),
            started.elapsed().as_secs_f64()
        );
        assert_eq!(
            states.get("accepted").copied(),
            Some(N as i64),
            "every order accepted: {states:?}"
        );
        assert_eq!(per.len(), N, "no receipt lost");
        assert_eq!(doubles, 0, "no receipt sent twice");
        a.kill();
        b.kill();
        t.cleanup().await;
    }
}
