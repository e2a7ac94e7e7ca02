//! Running the real `rebound` binary: its CLI and `rebound serve --role …`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;

use crate::procs::{Env, Proc, Res};

/// The configuration every bench process reads: one sender pool on the sink
/// with 8 relay connections (`max_per_second = 8`), and the per-provider
/// spreading opened up (the bench measures the pipeline, not the 200/s
/// policy a pool × provider pair is held to by default).
pub fn write_config(env: &Env, sink_port: u16) -> Res<PathBuf> {
    let path = env.run_dir.join("rebound.toml");
    let text = format!(
        "[pace]\nper_provider_per_second = 100000.0\nburst = 100000\n\n\
         [[pools]]\nname = \"primary\"\nrole = \"primary\"\nfrom = \"receipts@shop.example\"\n\
         from_name = \"Rebound Demo Shop\"\nrelay_url = \"smtp://127.0.0.1:{sink_port}\"\n\
         max_per_second = 8\n"
    );
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

fn command(env: &Env, db_url: &str, config: &Path) -> Command {
    let mut cmd = Command::new(&env.rebound);
    cmd.env("DATABASE_URL", db_url)
        .env("REBOUND_CONFIG", config)
        .env("REBOUND_DEMO__CREATE_ADMIN", "false")
        .env("REBOUND_LOG__LEVEL", "warn")
        // The bench loads no page: an empty site, so a browser app built
        // for another profile (its hash.txt beside that binary) is not in the way.
        .env("LEPTOS_SITE_ROOT", env.run_dir.join("site"))
        .env_remove("RUST_LOG");
    cmd
}

/// Runs one `rebound …` command to its end; its standard output.
pub async fn cli(env: &Env, db_url: &str, config: &Path, args: &[&str]) -> Res<String> {
    let out = command(env, db_url, config)
        .args(args)
        .output()
        .await
        .map_err(|e| format!("rebound {}: {e}", args.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "rebound {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A fresh database made ready the way an operator would: migrated, the
/// `[[pools]]` applied, one shop API key (its secret returned).
pub async fn prepare(env: &Env, db_url: &str, config: &Path) -> Res<String> {
    cli(env, db_url, config, &["migrate"]).await?;
    cli(env, db_url, config, &["pool", "apply"]).await?;
    let out = cli(
        env,
        db_url,
        config,
        &["apikey", "create", "--name", "bench"],
    )
    .await?;
    out.lines()
        .map(str::trim)
        .find(|l| l.starts_with("rbk_"))
        .map(str::to_string)
        .ok_or_else(|| "`rebound apikey create` printed no rbk_ key".to_string())
}

/// `rebound serve --role {role}` on `port`, not yet waited for.
pub fn serve(
    env: &Env,
    db_url: &str,
    config: &Path,
    role: &str,
    port: u16,
    label: &str,
) -> Res<Proc> {
    let mut cmd = command(env, db_url, config);
    cmd.args([
        "serve",
        "--role",
        role,
        "--bind",
        &format!("127.0.0.1:{port}"),
    ]);
    Proc::spawn(cmd, &format!("rebound {role}"), env.log(label))
}

/// `rebound serve --role {role}`, waited for until `/readyz` says ready.
pub async fn serve_ready(
    env: &Env,
    client: &reqwest::Client,
    db_url: &str,
    config: &Path,
    role: &str,
    label: &str,
) -> Res<(Proc, String)> {
    let port = crate::procs::free_port()?;
    let mut proc = serve(env, db_url, config, role, port, label)?;
    let base = format!("http://127.0.0.1:{port}");
    crate::procs::wait_ok(
        client,
        &format!("{base}/readyz"),
        &mut proc,
        Duration::from_millis(20),
    )
    .await?;
    Ok((proc, base))
}
