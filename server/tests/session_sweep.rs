//! Expired staff sessions are deleted from the database by the web process's
//! sweeper, on both backends, and a failed round (the database away for a
//! moment) does not end the sweeping.

use engine::testing::all_backends;
use server::sessions::{DbSessionStore, sweep_expired};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tower_sessions::SessionStore;
use tower_sessions::session::{Id, Record};

fn record(expires_in: time::Duration) -> Record {
    Record {
        id: Id::default(),
        data: Default::default(),
        expiry_date: OffsetDateTime::now_utc() + expires_in,
    }
}

#[tokio::test]
async fn expired_sessions_are_swept_even_after_a_failed_round() {
    for t in all_backends().await {
        let db = &t.db;
        let b = db.backend_name();
        let store = DbSessionStore::for_db(db).await.expect("store");
        let mut expired = record(time::Duration::hours(-1));
        let mut live = record(time::Duration::hours(1));
        store.create(&mut expired).await.expect("create");
        store.create(&mut live).await.expect("create");
        // The store's table, and a statement that hides it for a while.
        let (table, hide, show) = match db {
            engine::Db::Sqlite(_) => (
                "tower_sessions",
                "ALTER TABLE tower_sessions RENAME TO tower_sessions_away",
                "ALTER TABLE tower_sessions_away RENAME TO tower_sessions",
            ),
            engine::Db::Postgres(_) => (
                "tower_sessions.session",
                "ALTER TABLE tower_sessions.session RENAME TO session_away",
                "ALTER TABLE tower_sessions.session_away RENAME TO session",
            ),
        };
        let count = |sql: String| async move {
            engine::on_pool!(db, p => sqlx::query_scalar::<_, i64>(&sql).fetch_one(p).await)
        };
        assert_eq!(
            count(format!("SELECT COUNT(*) FROM {table}")).await.ok(),
            Some(2),
            "[{b}]"
        );

        engine::exec_on_pool!(db, p => sqlx::query(hide).execute(p).await).expect("hide");
        let sweeper = tokio::spawn(sweep_expired(store.clone(), Duration::from_millis(100)));
        // At least two rounds fail while the table is away.
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert!(
            !sweeper.is_finished(),
            "[{b}] a failed round ended the sweeper"
        );
        engine::exec_on_pool!(db, p => sqlx::query(show).execute(p).await).expect("show");

        let deadline = Instant::now() + Duration::from_secs(10);
        let left = loop {
            let left = count(format!("SELECT COUNT(*) FROM {table}")).await.ok();
            if left == Some(1) || Instant::now() > deadline {
                break left;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(left, Some(1), "[{b}] the expired session was deleted");
        assert!(
            store.load(&live.id).await.expect("load").is_some(),
            "[{b}] the live session stays"
        );
        sweeper.abort();
        t.cleanup().await;
    }
}
