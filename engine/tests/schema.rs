//! The schema's own rules, read from each database's catalogue after the
//! migrations ran.

use engine::Db;
use engine::testing::all_backends;

/// Parents no code deletes or renumbers: a key to them is never checked
/// from the parent's side, so it needs no index.
const NEVER_DELETED: &[&str] = &["sender_pools", "users"];

/// (child table, column, parent table) of every single-column foreign key
/// whose column leads no full index of its table.
async fn unindexed_foreign_keys(db: &Db) -> Vec<(String, String, String)> {
    match db {
        Db::Postgres(p) => sqlx::query_as(
            "SELECT c.conrelid::regclass::text, a.attname::text, c.confrelid::regclass::text
             FROM pg_constraint c
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             WHERE c.contype = 'f'
               AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid
                               AND i.indkey[0] = c.conkey[1] AND i.indpred IS NULL)
             ORDER BY 1, 2",
        )
        .fetch_all(p)
        .await
        .expect("catalogue"),
        Db::Sqlite(p) => sqlx::query_as(
            "SELECT m.name, f.\"from\", f.\"table\"
             FROM sqlite_schema m, pragma_foreign_key_list(m.name) f
             WHERE m.type = 'table'
               AND NOT EXISTS (
                   SELECT 1 FROM pragma_index_list(m.name) l, pragma_index_info(l.name) i
                   WHERE i.seqno = 0 AND i.name = f.\"from\" AND l.partial = 0)
             ORDER BY 1, 2",
        )
        .fetch_all(p)
        .await
        .expect("catalogue"),
    }
}

#[tokio::test]
async fn every_foreign_key_a_parent_can_lose_is_indexed() {
    for t in all_backends().await {
        let all = unindexed_foreign_keys(&t.db).await;
        let missing: Vec<_> = all
            .iter()
            .filter(|(_, _, parent)| !NEVER_DELETED.contains(&parent.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "[{}] foreign keys without an index (child, column, parent): {missing:?}",
            t.db.backend_name()
        );
        // The check itself sees keys: the ones it lets pass are there.
        assert!(
            all.iter()
                .any(|(child, _, parent)| child == "delivery_attempts" && parent == "sender_pools"),
            "[{}] {all:?}",
            t.db.backend_name()
        );
        t.cleanup().await;
    }
}
