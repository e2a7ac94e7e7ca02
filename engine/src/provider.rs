//! Which mailbox provider an address belongs to (Gmail, Yahoo with AOL,
//! Microsoft, other), from its domain: the dashboard splits rates by it,
//! delivery paces and shapes per provider, risk weighs acceptance per
//! provider. One list, used in Rust and as SQL.

use crate::db::{Db, dialect};

/// The recipient mailbox providers the dashboard tells apart.
pub const PROVIDERS: [&str; 4] = ["gmail", "yahoo", "microsoft", "other"];

/// A provider: exact domains and domain prefixes (`yahoo.` matches `yahoo.co.uk`).
struct ProviderRule {
    name: &'static str,
    exact: &'static [&'static str],
    prefixes: &'static [&'static str],
}

/// AOL mail runs on Yahoo's platform (same postmaster), so it counts as Yahoo.
const PROVIDER_RULES: [ProviderRule; 3] = [
    ProviderRule {
        name: "gmail",
        exact: &["gmail.com", "googlemail.com"],
        prefixes: &[],
    },
    ProviderRule {
        name: "yahoo",
        exact: &["ymail.com", "rocketmail.com", "aol.com", "aim.com"],
        prefixes: &["yahoo."],
    },
    ProviderRule {
        name: "microsoft",
        exact: &["msn.com", "passport.com", "windowslive.com"],
        prefixes: &["outlook.", "hotmail.", "live."],
    },
];

/// The mailbox provider of an email address, from its domain.
pub fn provider_of(email: &str) -> &'static str {
    let domain = email
        .split_once('@')
        .map(|(_, d)| d)
        .unwrap_or(email)
        .to_ascii_lowercase();
    PROVIDER_RULES
        .iter()
        .find(|r| {
            r.exact.contains(&domain.as_str()) || r.prefixes.iter().any(|p| domain.starts_with(p))
        })
        .map(|r| r.name)
        .unwrap_or("other")
}

/// A provider's name for people (`gmail` → `Gmail`).
pub fn label(provider: &str) -> &'static str {
    match provider {
        "gmail" => "Gmail",
        "yahoo" => "Yahoo",
        "microsoft" => "Microsoft",
        _ => "other",
    }
}

/// The same decision as [`provider_of`] as an SQL expression over `col`.
/// Built only from the constant lists above (no input reaches it).
pub(crate) fn provider_sql(db: &Db, col: &str) -> String {
    let d = dialect::email_domain(db, col);
    let mut out = String::from("CASE");
    for r in &PROVIDER_RULES {
        let mut tests: Vec<String> = Vec::new();
        if !r.exact.is_empty() {
            let list: Vec<String> = r.exact.iter().map(|e| format!("'{e}'")).collect();
            tests.push(format!("{d} IN ({})", list.join(", ")));
        }
        for p in r.prefixes {
            tests.push(format!("{d} LIKE '{p}%'"));
        }
        out.push_str(&format!(" WHEN {} THEN '{}'", tests.join(" OR "), r.name));
    }
    out.push_str(" ELSE 'other' END");
    out
}
