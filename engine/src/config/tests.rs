use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_without_file_or_env() {
    let c = Config::load_from(Path::new("/nonexistent/rebound.toml"), env(&[])).expect("config");
    assert_eq!(c, Config::default());
    assert_eq!(c.database_url, "sqlite://./data/rebound.db");
}

#[test]
fn env_overrides_file_and_nested_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("rebound.toml");
    std::fs::write(
        &file,
        "bind = \"0.0.0.0:8080\"\n[session]\nidle_minutes = 60\n",
    )
    .expect("write");
    let c = Config::load_from(
        &file,
        env(&[
            ("REBOUND_SESSION__IDLE_MINUTES", "15"),
            ("REBOUND_SESSION__SECURE_COOKIE", "true"),
            ("REBOUND_TEST_POSTGRES_URL", "postgres://ignored"),
            // Read by commands, not settings: never stop start-up.
            ("REBOUND_API_KEY", "rk_live_demo"),
            ("REBOUND_BENCH_ORDERS", "100"),
            ("REBOUND_SOMETHING_ELSE_ENTIRELY", "x"),
            ("DATABASE_URL", "postgres://x@127.0.0.1/db"),
        ]),
    )
    .expect("config");
    assert_eq!(c.bind.port(), 8080);
    assert_eq!(c.session.idle_minutes, 15);
    let listed = Config::load_from(
        &file,
        env(&[("REBOUND_DELIVERY__RETRY_DELAYS_SECONDS", "[1, 2]")]),
    )
    .expect("list from env");
    assert_eq!(listed.delivery.retry_delays_seconds, vec![1, 2]);
    assert!(c.session.secure_cookie);
    assert!(c.is_postgres());
}

#[test]
fn inbound_smtp_is_off_by_default_and_set_from_env() {
    let c = Config::default();
    assert_eq!(c.inbound_smtp.bind, None);
    assert_eq!(
        c.inbound_smtp.max_message_bytes,
        crate::bounce::MAX_MESSAGE_SIZE
    );
    let c = Config::load_from(
        Path::new("/nonexistent"),
        env(&[
            ("REBOUND_INBOUND_SMTP__BIND", "0.0.0.0:2525"),
            ("REBOUND_INBOUND_SMTP__MAX_MESSAGE_BYTES", "65536"),
        ]),
    )
    .expect("config");
    assert_eq!(c.inbound_smtp.bind.map(|b| b.port()), Some(2525));
    assert_eq!(c.inbound_smtp.max_message_bytes, 65536);
    for (k, v) in [
        ("REBOUND_INBOUND_SMTP__BIND", "not an address"),
        ("REBOUND_INBOUND_SMTP__MAX_MESSAGE_BYTES", "100"),
        ("REBOUND_INBOUND_SMTP__BIND", "127.0.0.1:3000"),
    ] {
        let err =
            Config::load_from(Path::new("/nonexistent"), env(&[(k, v)])).expect_err("must fail");
        assert!(err.to_string().contains("inbound_smtp."), "{k}={v}: {err}");
    }
}

#[test]
fn staff_and_webhook_retention_from_env_and_validated() {
    let c = Config::default();
    assert_eq!(
        (c.privacy.webhook_days, c.privacy.disabled_user_days),
        (30, 90)
    );
    let c = Config::load_from(
        Path::new("/nonexistent"),
        env(&[
            ("REBOUND_PRIVACY__WEBHOOK_DAYS", "7"),
            ("REBOUND_PRIVACY__DISABLED_USER_DAYS", "180"),
        ]),
    )
    .expect("config");
    assert_eq!(
        (c.privacy.webhook_days, c.privacy.disabled_user_days),
        (7, 180)
    );
    for k in [
        "REBOUND_PRIVACY__WEBHOOK_DAYS",
        "REBOUND_PRIVACY__DISABLED_USER_DAYS",
    ] {
        let err = Config::load_from(Path::new("/nonexistent"), env(&[(k, "0")]))
            .expect_err("zero days must fail");
        let key = k.trim_start_matches("REBOUND_PRIVACY__").to_lowercase();
        assert!(
            err.to_string().contains(&format!("privacy.{key}")),
            "{k}: {err}"
        );
    }
}

#[test]
fn bad_values_name_the_key() {
    let err = Config::load_from(
        Path::new("/nonexistent"),
        env(&[("REBOUND_SESSION__IDLE_MINUTES", "soon")]),
    )
    .expect_err("must fail");
    assert!(err.to_string().contains("session.idle_minutes"), "{err}");

    let err = Config::load_from(Path::new("/nonexistent"), env(&[("REBOUND_BINDD", "x")]))
        .expect_err("unknown key must fail");
    assert!(err.to_string().contains("REBOUND_BINDD"), "{err}");
    assert!(err.to_string().contains("did you mean `bind`"), "{err}");

    let err = Config::load_from(
        Path::new("/nonexistent"),
        env(&[("REBOUND_SESION__IDLE_MINUTES", "5")]),
    )
    .expect_err("a misspelt section must fail");
    assert!(
        err.to_string().contains("REBOUND_SESION__IDLE_MINUTES"),
        "{err}"
    );

    let err = Config::load_from(
        Path::new("/nonexistent"),
        env(&[("REBOUND_SESSION__IDLE_MINUTEZ", "5")]),
    )
    .expect_err("an unknown key in a known section must fail");
    assert!(err.to_string().contains("idle_minutez"), "{err}");

    let err = Config::load_from(
        Path::new("/nonexistent"),
        env(&[("DATABASE_URL", "mysql://nope")]),
    )
    .expect_err("must fail");
    assert!(err.to_string().contains("database_url"), "{err}");
}
