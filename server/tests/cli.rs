//! The `rebound` command line, run as a real process.

use std::io::Write;
use std::process::{Command, Stdio};

fn rebound(db: &str, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rebound"))
        .args(args)
        .env("DATABASE_URL", db)
        .env_remove("REBOUND_USER_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(input) = stdin
        && let Some(mut s) = child.stdin.take()
    {
        // A child that exits early closes its stdin: its status and stderr say why.
        let _ = s.write_all(input.as_bytes());
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn users_api_keys_and_bounce_classification_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("rebound-cli-{}", std::process::id()));
    let db = format!("sqlite://{}/cli.db", dir.display());

    let (ok, out, err) = rebound(&db, &["migrate"], None);
    assert!(ok, "{err}");
    assert!(out.contains("migrations applied"));

    // The password comes from stdin, never from the arguments.
    let (ok, out, err) = rebound(
        &db,
        &[
            "user",
            "add",
            "--email",
            "Agent@Example.com",
            "--role",
            "agent",
        ],
        Some("a long cli password\n"),
    );
    assert!(ok, "{err}");
    assert!(out.contains("added agent@example.com (agent)"), "{out}");
    let (ok, _, err) = rebound(
        &db,
        &[
            "user",
            "add",
            "--email",
            "short@example.com",
            "--role",
            "agent",
        ],
        Some("short\n"),
    );
    assert!(!ok);
    assert!(err.contains("at least 12 characters"), "{err}");
    let (ok, _, err) = rebound(
        &db,
        &["user", "add", "--email", "x@example.com", "--role", "root"],
        Some("a long cli password\n"),
    );
    assert!(!ok && err.contains("unknown role"), "{err}");
    let (ok, out, _) = rebound(&db, &["user", "list"], None);
    assert!(
        ok && out.contains("agent@example.com") && out.contains("never"),
        "{out}"
    );

    let (ok, out, err) = rebound(&db, &["apikey", "create", "--name", "web shop"], None);
    assert!(ok, "{err}");
    assert!(
        out.trim().starts_with("rbk_") && out.trim().len() == 68,
        "{out}"
    );
    let (ok, out, _) = rebound(&db, &["apikey", "list"], None);
    assert!(
        ok && out.contains("web shop") && out.contains("active"),
        "{out}"
    );

    // Bad configuration names the key and stops.
    let mut bad = Command::new(env!("CARGO_BIN_EXE_rebound"));
    let out = bad
        .args(["user", "list"])
        .env("DATABASE_URL", &db)
        .env("REBOUND_SESSION__IDLE_MINUTES", "soon")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("session.idle_minutes"));

    // Bounce classification of a hand-written DSN fixture.
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../engine/src/bounce/fixtures/postfix_dsn.eml"
    );
    let (ok, out, err) = rebound(&db, &["bounce", "classify", fixture], None);
    assert!(ok, "{err}");
    let line: serde_json::Value =
        serde_json::from_str(out.lines().next().unwrap_or("")).expect("json line");
    assert_eq!(line["file"], fixture);
    assert!(
        line["reason"].is_string() && line["class"].is_string() && line["rule"].is_string(),
        "{line}"
    );
    let (ok, out, _) = rebound(
        &db,
        &["bounce", "classify", "-"],
        Some("not a bounce at all"),
    );
    assert!(!ok, "garbage on stdin is reported: {out}");

    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bounce_classify_names_the_mta_and_says_when_nobody_is_reported() {
    let dir = std::env::temp_dir().join(format!("rebound-cli-bounce-{}", std::process::id()));
    let db = format!("sqlite://{}/cli.db", dir.display());
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../engine/src/bounce/fixtures/qmail_two.eml"
    );
    let (ok, out, err) = rebound(&db, &["bounce", "classify", fixture], None);
    assert!(ok, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines.iter().all(|l| l["mta"] == "qmail"), "{out}");
    assert_eq!(lines[0]["reason"], "userunknown", "{out}");
    assert_eq!(lines[0]["hard_bounce"], true, "{out}");

    // A message that is no bounce says so instead of printing nothing.
    let plain =
        "From: a@example.org\r\nTo: b@example.org\r\nSubject: hello\r\n\r\nJust a note.\r\n";
    let (ok, out, err) = rebound(&db, &["bounce", "classify", "-"], Some(plain));
    assert!(ok, "{err}");
    let line: serde_json::Value =
        serde_json::from_str(out.lines().next().unwrap_or("")).expect("json line");
    assert_eq!(line["kind"], "not_a_bounce", "{out}");
    assert_eq!(line["recipients"], 0, "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
