//! Relay passwords are sealed at rest, on both databases: stored only in
//! sealed form, opened by the transport with the key, refused without one,
//! and clear-text passwords from before the key are sealed at start-up.
//! (Its own test binary: the secrets key is process-wide.)

use base64::Engine as _;
use engine::delivery::pools::{self, NewPool};
use engine::delivery::relay_url::RelayUrl;
use engine::testing::all_backends;

const T0: i64 = 1_800_000_000_000;
const URL: &str = "smtp://mailer:s3cret%40pass@relay.shop.example:587?tls=starttls";

fn pool(name: &str) -> NewPool<'_> {
    NewPool {
        name,
        role: engine::delivery::pools::PoolRole::Backup,
        from_name: "Shop",
        from_address: "receipts@shop.example",
        relay_url: URL,
        max_per_second: 10,
        position: 1,
    }
}

async fn stored_url(db: &engine::Db, id: i64) -> String {
    engine::on_pool!(db, p => sqlx::query_scalar::<_, String>("SELECT relay_url FROM sender_pools WHERE id = $1")
        .bind(id).fetch_one(p).await)
    .expect("row")
}

fn password_of(url: &str) -> Option<String> {
    match RelayUrl::parse(url).expect("parses") {
        RelayUrl::Smtp { credentials, .. } => credentials.map(|(_, p)| p),
        RelayUrl::Capture => None,
    }
}

#[tokio::test]
async fn relay_passwords_are_sealed_in_the_database() {
    let key = base64::engine::general_purpose::STANDARD.encode([42u8; 32]);
    for t in all_backends().await {
        let db = &t.db;
        let b = db.backend_name();

        // No key: a password is refused, not stored in clear.
        engine::secrets::install(None).expect("no key");
        let err = pools::create(db, T0, pool("nokey"))
            .await
            .expect_err("refused");
        assert!(
            err.to_string().contains("REBOUND_SECRETS_KEY"),
            "[{b}] {err}"
        );
        // A clear-text row from before (written directly, as an old version did).
        engine::exec_on_pool!(db, p => sqlx::query(
            "INSERT INTO sender_pools (name, role, from_name, from_address, relay_url, enabled, max_per_second, position, created_at)
             VALUES ('legacy', 'backup', 'Shop', 'r@shop.example', $1, TRUE, 5, 2, $2)"
        ).bind(URL).bind(T0).execute(p).await)
        .expect("legacy row");

        engine::secrets::install(Some(&key)).expect("key");
        let created = pools::create(db, T0, pool("sealed")).await.expect("create");
        let stored = stored_url(db, created.id).await;
        assert!(!stored.contains("s3cret"), "[{b}] {stored}");
        assert!(
            stored.starts_with("smtp://mailer:sealed1."),
            "[{b}] {stored}"
        );
        assert!(
            stored.ends_with("@relay.shop.example:587?tls=starttls"),
            "[{b}] {stored}"
        );
        assert_eq!(
            password_of(&stored).as_deref(),
            Some("s3cret@pass"),
            "[{b}]"
        );
        assert_eq!(
            RelayUrl::parse(&stored).expect("parses").redacted(),
            "smtp://mailer:***@relay.shop.example:587?tls=starttls"
        );

        // Start-up seals the legacy row; a second pass has nothing to do.
        assert_eq!(
            pools::seal_stored_passwords(db).await.expect("seal"),
            1,
            "[{b}]"
        );
        assert_eq!(
            pools::seal_stored_passwords(db).await.expect("seal"),
            0,
            "[{b}]"
        );
        let legacy = pools::list(db)
            .await
            .expect("list")
            .into_iter()
            .find(|p| p.name == "legacy")
            .expect("legacy");
        assert!(!legacy.relay_url.contains("s3cret"), "[{b}]");
        assert_eq!(
            password_of(&legacy.relay_url).as_deref(),
            Some("s3cret@pass")
        );

        // Keeping the relay on an edit keeps the sealed value as it is.
        let kept = pools::update(db, created.id, pool("sealed"), true)
            .await
            .expect("update");
        assert_eq!(kept.relay_url, stored, "[{b}]");

        // Another key cannot open it (and says so, without the secret).
        engine::secrets::install(Some(
            &base64::engine::general_purpose::STANDARD.encode([1u8; 32]),
        ))
        .expect("other key");
        let err = RelayUrl::parse(&stored).expect_err("wrong key");
        assert!(
            !err.to_string().contains("s3cret") && err.to_string().contains("secrets_key"),
            "{err}"
        );
        engine::secrets::install(None).expect("clear");
        t.cleanup().await;
    }
}
