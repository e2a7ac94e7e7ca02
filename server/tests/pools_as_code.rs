//! Sender pools as code, the way an operator uses them: `[[pools]]` in the
//! configuration file of a real `rebound serve`, and `rebound pool …` on the
//! command line, each sending real mail to a loopback SMTP server, on SQLite
//! and PostgreSQL.

mod support;

use std::time::Duration;

use engine::testing::all_backends;
use engine::testing::smtp_server::ScriptedSmtpServer;
use support::T0;
use support::cli::rebound;
use support::serve::{Serve, post_orders};

fn file_pool(addr: std::net::SocketAddr, enabled: bool) -> String {
    format!(
        "[[pools]]\nname = \"file-primary\"\nrole = \"primary\"\nfrom = \"receipts@shop.example\"\n\
         from_name = \"Shop\"\nrelay_url = \"smtp://{addr}\"\nmax_per_second = 20\nenabled = {enabled}\n"
    )
}

async fn audit_actors(t: &engine::testing::TestDb) -> Vec<(String, String, String)> {
    engine::on_pool!(&t.db, p => sqlx::query_as::<_, (String, String, String)>(
        "SELECT actor, action, target FROM audit_log WHERE action LIKE 'pool.%' ORDER BY id"
    ).fetch_all(p).await)
    .expect("audit")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pools_from_the_file_and_the_command_line_send_mail() {
    for t in all_backends().await {
        let backend = if t.url.starts_with("sqlite") {
            "sqlite"
        } else {
            "postgres"
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("rebound.toml");
        let file_relay = ScriptedSmtpServer::start().await.expect("smtp a");
        let cli_relay = ScriptedSmtpServer::start().await.expect("smtp b");
        std::fs::write(&config, file_pool(file_relay.addr(), true)).expect("toml");
        let db_url = t.url.clone();
        let key = engine::apikeys::create(&t.db, T0, "pools", "test")
            .await
            .expect("key")
            .secret;

        // The file's pool is created at start and carries the first receipt.
        let cfg = config.to_string_lossy().to_string();
        let serve = Serve::start_with(&db_url, 8, &[("REBOUND_CONFIG", &cfg)]).await;
        post_orders(
            std::slice::from_ref(&serve.base),
            &key,
            "FILE",
            1,
            "a@example.com",
        )
        .await;
        let got = file_relay.wait_for(1, Duration::from_secs(20)).await;
        assert_eq!(got.len(), 1, "{}: the file pool sent the receipt", backend);
        assert!(cli_relay.received().is_empty());

        // Read-only on the command line; listed with its source.
        let (ok, text) = rebound(&db_url, &config, &["pool", "disable", "file-primary"]);
        assert!(!ok && text.contains("rebound.toml"), "{text}");
        let (ok, text) = rebound(
            &db_url,
            &config,
            &[
                "pool",
                "add",
                "--name",
                "cli-primary",
                "--role",
                "primary",
                "--from",
                "cli@shop.example",
                "--relay-url",
                &format!("smtp://{}", cli_relay.addr()),
            ],
        );
        assert!(ok, "{text}");
        let (ok, list) = rebound(&db_url, &config, &["pool", "list"]);
        assert!(ok, "{list}");
        let line = |name: &str| {
            list.lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_default()
                .to_string()
        };
        assert!(line("file-primary").ends_with("rebound.toml"), "{list}");
        assert!(line("cli-primary").ends_with("page/cli"), "{list}");
        let (ok, text) = rebound(
            &db_url,
            &config,
            &["pool", "set", "cli-primary", "--max-per-second", "30"],
        );
        assert!(ok, "{text}");
        serve.kill();

        // The file switches its pool off: the next receipt goes through the CLI's pool.
        std::fs::write(&config, file_pool(file_relay.addr(), false)).expect("toml");
        let serve = Serve::start_with(&db_url, 8, &[("REBOUND_CONFIG", &cfg)]).await;
        post_orders(
            std::slice::from_ref(&serve.base),
            &key,
            "CLI",
            1,
            "b@example.com",
        )
        .await;
        let got = cli_relay.wait_for(1, Duration::from_secs(20)).await;
        assert_eq!(got.len(), 1, "{}: the CLI pool sent the receipt", backend);
        assert_eq!(
            file_relay.received().len(),
            1,
            "the disabled file pool sent nothing more"
        );
        serve.kill();

        let (ok, text) = rebound(&db_url, &config, &["pool", "disable", "cli-primary"]);
        assert!(ok, "{text}");

        // A pool taken out of the file is disabled and handed back to the page and CLI.
        std::fs::write(
            &config,
            "[[pools]]\nname = \"file-two\"\nrole = \"backup\"\nfrom = \"r@shop.example\"\nrelay_url = \"capture://\"\n",
        )
        .expect("toml");
        let (ok, text) = rebound(&db_url, &config, &["pool", "apply"]);
        assert!(ok && text.contains("released [\"file-primary\"]"), "{text}");
        let (ok, text) = rebound(
            &db_url,
            &config,
            &["pool", "set", "file-primary", "--enable"],
        );
        assert!(ok, "{text}");

        let actors = audit_actors(&t).await;
        let has = |actor: &str, action: &str, target: &str| {
            actors
                .iter()
                .any(|(a, b, c)| a == actor && b == action && c == target)
        };
        assert!(
            has("rebound.toml", "pool.create", "file-primary"),
            "{actors:?}"
        );
        assert!(
            has("rebound.toml", "pool.disable", "file-primary"),
            "{actors:?}"
        );
        // The command line's changes are audited by the engine's operations,
        // as the Pools page's are: a pause names the pool by its id.
        let cli_pool = engine::delivery::pools::list(&t.db)
            .await
            .expect("pools")
            .into_iter()
            .find(|p| p.name == "cli-primary")
            .expect("cli-primary");
        assert!(has("cli", "pool.add", "cli-primary"), "{actors:?}");
        assert!(has("cli", "pool.update", "cli-primary"), "{actors:?}");
        let paused = format!("pool {}", cli_pool.id);
        assert!(has("cli", "pool.pause", &paused), "{actors:?}");
        t.cleanup().await;
    }
}

#[tokio::test]
async fn a_missing_password_variable_stops_start_up_naming_it() {
    let t = engine::testing::TestDb::sqlite().await.expect("db");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("rebound.toml");
    std::fs::write(
        &config,
        "[[pools]]\nname = \"p\"\nrole = \"primary\"\nfrom = \"r@shop.example\"\n\
         relay_url = \"smtp://mailer@relay.example:587?tls=starttls\"\npassword_env = \"SHOP_RELAY_PASSWORD\"\n",
    )
    .expect("toml");
    let (ok, text) = rebound(&t.url, &config, &["pool", "apply"]);
    assert!(!ok, "{text}");
    assert!(text.contains("SHOP_RELAY_PASSWORD"), "{text}");
    t.cleanup().await;
}
