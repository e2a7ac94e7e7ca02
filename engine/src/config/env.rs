//! Which `REBOUND_…` environment variables are settings, and how their
//! values are read.

use super::Config;
use crate::error::{Error, Result};

/// Environment variables with the `REBOUND_` prefix that are not settings:
/// commands, tools and tests read them directly (`REBOUND_API_KEY` for
/// `rebound demo live`, `REBOUND_CONFIG`, `REBOUND_TEST_*`, `REBOUND_BENCH_*`).
/// They never stop start-up; neither does any other variable that does not
/// look like a setting (see [`env_setting`]).
const NON_CONFIG_ENV: &[&str] = &[
    "config",
    "api_key",
    "test_",
    "bench_",
    "user_password",
    "corpus_dir",
];

/// The top-level setting names (`bind`, `session`, `delivery`, …), read off
/// the defaults so a new section is known without a second list.
pub(super) fn top_level_keys() -> Vec<String> {
    match figment::value::Value::serialize(Config::default()) {
        Ok(figment::value::Value::Dict(_, dict)) => dict.into_keys().collect(),
        _ => Vec::new(),
    }
}

/// Decides whether one environment variable is a setting. Returns its key
/// (`session__idle_minutes`) when it is; `None` when it is not ours to read
/// (no `REBOUND_` prefix, a documented non-setting, or a name unlike any
/// setting); an error naming it when it looks like a setting but is none —
/// nested (`__`) under an unknown section, or a near miss such as `BINDD`.
pub(super) fn env_setting(name: &str, top_level: &[String]) -> Result<Option<String>> {
    let Some(rest) = name.strip_prefix("REBOUND_") else {
        return Ok(None);
    };
    let key = rest.to_ascii_lowercase();
    if NON_CONFIG_ENV.iter().any(|p| key.starts_with(p)) {
        return Ok(None);
    }
    let head = key.split("__").next().unwrap_or_default();
    if top_level.iter().any(|k| k == head) {
        return Ok(Some(key));
    }
    let near = top_level.iter().find(|k| edit_distance(k, head) <= 2);
    if key.contains("__") || near.is_some() {
        let hint = near
            .map(|k| format!(" (did you mean `{k}`?)"))
            .unwrap_or_default();
        return Err(Error::Config(format!(
            "{name}: `{head}` is not a setting{hint}"
        )));
    }
    Ok(None)
}

/// Levenshtein distance; names are short, so the quadratic table is fine.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Environment values are strings; let `true`, numbers and TOML literals keep
/// their type so `REBOUND_SESSION__SECURE_COOKIE=true` is a bool.
pub(super) fn parse_env_value(raw: &str) -> figment::value::Value {
    use figment::value::Value;
    // Lists such as `[300, 1800]` are read as TOML.
    if raw.trim_start().starts_with('[')
        && let Ok(t) = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        && let Some(v) = t.get("v")
        && let Ok(v) = Value::serialize(v)
    {
        return v;
    }
    if let Ok(b) = raw.parse::<bool>() {
        return Value::from(b);
    }
    if let Ok(i) = raw.parse::<i64>() {
        return Value::from(i);
    }
    Value::from(raw.to_string())
}

pub(super) fn describe(e: &figment::Error) -> String {
    let mut out = Vec::new();
    for err in e.clone() {
        let key = if err.path.is_empty() {
            String::from("(top level)")
        } else {
            err.path.join(".")
        };
        out.push(format!("`{key}`: {}", err.kind));
    }
    out.join("; ")
}
