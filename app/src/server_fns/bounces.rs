use leptos::prelude::*;

use crate::error::AppError;
use serde::{Deserialize, Serialize};

/// A classifier rule and how often it decided in the last 7 days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRow {
    pub id: String,
    pub reason: String,
    pub class: String,
    /// The precedence stage (`text`, `status`, …) and its name in words.
    pub stage: String,
    pub stage_label: String,
    /// What it matches, short: "status 5.1.1", "text, 3 phrases".
    pub kind: String,
    /// The whole pattern (regex, phrases, codes), shown on demand.
    pub matches: String,
    /// A reply the rule classifies (checked by the engine's tests).
    pub example: Option<String>,
    pub hits_7d: i64,
    pub note: String,
}

/// The bounce rules page: the rules that pass the filters, and the choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesView {
    pub rows: Vec<RuleRow>,
    /// All rules, before the filters.
    pub total: usize,
    /// Every class a rule decides, for the filter.
    pub classes: Vec<String>,
    /// Every stage (`text`, `Generic text`), strongest first, for the filter.
    pub stages: Vec<(String, String)>,
}

/// The stages rules are written for, strongest first, in words.
pub const STAGES: [(&str, &str); 8] = [
    ("decoder", "The bouncing MTA's own wording"),
    ("provider", "Provider-specific text"),
    ("status_strong", "Unambiguous status code"),
    ("text", "Generic text"),
    ("status", "Exact status code"),
    ("text_weak", "Vague text"),
    ("status_class", "Status code class (5.7.*)"),
    ("reply_code", "Basic reply code"),
];

/// Whether `row` passes the filters: `q` (any word of id, reason, pattern,
/// example or note, case-insensitive), `class` and `stage` (exact; empty is
/// any).
pub fn rule_matches(row: &RuleRow, q: &str, class: &str, stage: &str) -> bool {
    let q = q.trim().to_lowercase();
    let hay = || {
        format!(
            "{} {} {} {} {} {}",
            row.id,
            row.reason,
            row.class,
            row.matches,
            row.example.as_deref().unwrap_or(""),
            row.note
        )
        .to_lowercase()
    };
    (class.is_empty() || row.class == class)
        && (stage.is_empty() || row.stage == stage)
        && (q.is_empty() || q.split_whitespace().all(|w| hay().contains(w)))
}

/// The bounce rules (a data file, loaded at start) with match counts, those
/// passing the filters (see [`rule_matches`]). Admins only.
#[server(prefix = "/fn", endpoint = "bounces/rules")]
pub async fn list_rules(
    #[server(default)] q: Option<String>,
    #[server(default)] class: Option<String>,
    #[server(default)] stage: Option<String>,
) -> Result<RulesView, AppError> {
    use crate::ssr::{require_admin, state};
    let st = state()?;
    require_admin().await?;
    let since = st.now() - 7 * 24 * 60 * 60 * 1000;
    let counts: std::collections::HashMap<String, i64> =
        engine::bounces::rule_counts(&st.db, since)
            .await?
            .into_iter()
            .collect();
    let mut rows: Vec<RuleRow> = engine::bounce::Classifier::shared()
        .rules()
        .map(|r| row(r, counts.get(&r.id).copied().unwrap_or(0)))
        .collect();
    let total = rows.len();
    let mut classes: Vec<String> = rows.iter().map(|r| r.class.clone()).collect();
    classes.sort();
    classes.dedup();
    let (q, class, stage) = (
        q.unwrap_or_default(),
        class.unwrap_or_default(),
        stage.unwrap_or_default(),
    );
    rows.retain(|r| rule_matches(r, &q, &class, &stage));
    rows.sort_by(|a, b| b.hits_7d.cmp(&a.hits_7d).then_with(|| a.id.cmp(&b.id)));
    Ok(RulesView {
        rows,
        total,
        classes,
        stages: STAGES
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    })
}

/// A rule as the page shows it; its stage as the classifier gives it (the
/// file's, else `text` for text rules, `status` / `status_class` for exact /
/// wildcard codes, `reply_code` for basic codes).
#[cfg(feature = "ssr")]
fn row(r: &engine::bounce::RuleSpec, hits_7d: i64) -> RuleRow {
    let is_text = r.text.is_some() || !r.phrases.is_empty();
    let stage = match r.stage {
        Some(s) => serde_json::to_value(s)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        None if is_text => "text".into(),
        None if r.status.as_deref().is_some_and(|s| s.contains('*')) => "status_class".into(),
        None if r.status.is_some() => "status".into(),
        None => "reply_code".into(),
    };
    let stage_label = STAGES
        .iter()
        .find(|(k, _)| *k == stage)
        .map(|(_, v)| v.to_string())
        .unwrap_or_else(|| stage.clone());
    let mut matches = Vec::new();
    let mut kind = Vec::new();
    if let Some(s) = &r.status {
        matches.push(format!("status {s}"));
        kind.push(format!("status {s}"));
    }
    if let Some(c) = r.code {
        matches.push(format!("code {c}"));
        kind.push(format!("code {c}"));
    }
    if let Some(t) = &r.text {
        matches.push(format!("text /{t}/"));
        kind.push("text pattern".to_string());
    }
    if !r.phrases.is_empty() {
        matches.push(format!("phrases {}", r.phrases.join(" | ")));
        kind.push(match r.phrases.len() {
            1 => "1 phrase".to_string(),
            n => format!("{n} phrases"),
        });
    }
    RuleRow {
        id: r.id.clone(),
        reason: r.reason.as_str().to_string(),
        class: r.reason.class().as_str().to_string(),
        stage,
        stage_label,
        kind: kind.join(", "),
        matches: matches.join("; "),
        example: r.example.clone(),
        hits_7d,
        note: r.note.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_by_words_class_and_stage() {
        let r = RuleRow {
            id: "gmail-user-unknown".into(),
            reason: "user_unknown".into(),
            class: "recipient_permanent".into(),
            stage: "provider".into(),
            stage_label: "Provider-specific text".into(),
            kind: "text pattern".into(),
            matches: "text /The email account that you tried to reach does not exist/".into(),
            example: Some(
                "550-5.1.1 The email account that you tried to reach does not exist".into(),
            ),
            hits_7d: 3,
            note: String::new(),
        };
        assert!(rule_matches(&r, "", "", ""));
        assert!(rule_matches(
            &r,
            "  GMAIL  does ",
            "recipient_permanent",
            "provider"
        ));
        assert!(rule_matches(&r, "5.1.1", "", ""), "the example is searched");
        assert!(
            !rule_matches(&r, "gmail yahoo", "", ""),
            "every word must match"
        );
        assert!(!rule_matches(&r, "", "transient", ""));
        assert!(!rule_matches(&r, "", "", "text"));
    }
}
