//! Logging setup. Customer emails and phones are masked where they are logged
//! (see `engine::privacy`); this only chooses the format and level.

use engine::config::LogConfig;
use tracing_subscriber::EnvFilter;

pub fn init(cfg: &LogConfig) {
    let filter = EnvFilter::try_from_env("RUST_LOG")
        .or_else(|_| EnvFilter::try_new(&cfg.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = if cfg.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
