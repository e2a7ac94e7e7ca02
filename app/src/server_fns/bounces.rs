use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A classifier rule and how often it decided in the last 7 days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRow {
    pub id: String,
    pub reason: String,
    pub class: String,
    pub matches: String,
    pub hits_7d: i64,
    pub note: String,
}

/// The bounce rules (a data file, loaded at start) with match counts. Admins only.
#[server(prefix = "/fn", endpoint = "bounces/rules")]
pub async fn list_rules() -> Result<Vec<RuleRow>, ServerFnError> {
    use crate::ssr::{engine_error, require_role, state};
    let st = state()?;
    require_role(&[]).await?;
    let since = st.now() - 7 * 24 * 60 * 60 * 1000;
    let counts: std::collections::HashMap<String, i64> =
        engine::bounces::rule_counts(&st.db, since)
            .await
            .map_err(engine_error)?
            .into_iter()
            .collect();
    let mut rows: Vec<RuleRow> = engine::bounce::Classifier::shared()
        .rules()
        .map(|r| {
            let mut matches = Vec::new();
            if let Some(s) = &r.status {
                matches.push(format!("status {s}"));
            }
            if let Some(c) = r.code {
                matches.push(format!("code {c}"));
            }
            if let Some(t) = &r.text {
                matches.push(format!("text /{t}/"));
            }
            if !r.phrases.is_empty() {
                matches.push(format!("phrases {}", r.phrases.join(" | ")));
            }
            RuleRow {
                id: r.id.clone(),
                reason: r.reason.as_str().to_string(),
                class: r.reason.class().as_str().to_string(),
                matches: matches.join("; "),
                hits_7d: counts.get(&r.id).copied().unwrap_or(0),
                note: r.note.clone().unwrap_or_default(),
            }
        })
        .collect();
    rows.sort_by(|a, b| b.hits_7d.cmp(&a.hits_7d).then_with(|| a.id.cmp(&b.id)));
    Ok(rows)
}
