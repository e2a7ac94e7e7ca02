//! The real `rebound` binary run as an operator would.

use std::path::Path;
use std::process::Command;

/// `rebound <args>` against `db_url` with the configuration file `config`:
/// whether it succeeded, and what it printed (stdout then stderr).
pub fn rebound(db_url: &str, config: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rebound"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("REBOUND_CONFIG", config)
        .env("REBOUND_DEMO__CREATE_ADMIN", "false")
        .output()
        .expect("run rebound");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
