//! The rule file's data model (`engine/rules/bounce_rules.toml`): [`Stage`], [`RuleSpec`],
//! their validation and the compiled [`Rule`] the classifier matches with.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::reason::Reason;

/// Where a rule sits in the precedence order (lower = stronger). See `docs/classification.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The caller's (ESP's) own verdict.
    Esp,
    /// A verdict only valid for the MTA family that produced the bounce (its decoder named it):
    /// the MTA's own wording of a failure, read with the command it failed at.
    Decoder,
    /// Provider-specific text.
    Provider,
    /// Unambiguous enhanced status code.
    StatusStrong,
    /// Generic text pattern.
    Text,
    /// Exact enhanced status code.
    Status,
    /// Vague text, decides only when no status code does.
    TextWeak,
    /// Wildcard enhanced status code.
    StatusClass,
    /// Basic SMTP reply code.
    ReplyCode,
    /// Nothing matched.
    Fallback,
}

impl Stage {
    /// The stages rules can be written for, strongest first.
    pub(crate) const RULE_STAGES: [Stage; 8] = [
        Stage::Decoder,
        Stage::Provider,
        Stage::StatusStrong,
        Stage::Text,
        Stage::Status,
        Stage::TextWeak,
        Stage::StatusClass,
        Stage::ReplyCode,
    ];

    /// Position in [`Stage::RULE_STAGES`] (`None` for `esp` and `fallback`).
    pub(crate) fn rule_slot(self) -> Option<usize> {
        Stage::RULE_STAGES.iter().position(|s| *s == self)
    }
}

/// One `[[rule]]` entry of the TOML file. Exactly one kind is set: `text`/`phrases`, `status`
/// or `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Unique, stable identifier (stored with every verdict).
    pub id: String,
    /// The resulting reason.
    pub reason: Reason,
    /// Case-insensitive regex matched against the reply text.
    #[serde(default)]
    pub text: Option<String>,
    /// Literal phrases (case-insensitive substrings); any one matches. An alternative to
    /// `text` that needs no regex escaping. May be combined with `text` (either matches).
    #[serde(default)]
    pub phrases: Vec<String>,
    /// Case-insensitive regex that vetoes a `text`/`phrases` match.
    #[serde(default)]
    pub unless: Option<String>,
    /// Enhanced status code: exact (`5.1.1`) or with `*` components (`5.7.*`, `*.1.1`).
    #[serde(default)]
    pub status: Option<String>,
    /// Basic reply code, exact (550) .
    #[serde(default)]
    pub code: Option<u16>,
    /// Reuse the `text`/`phrases`/`unless` of an earlier rule (by id), e.g. to give the same
    /// texts another reason under other conditions.
    #[serde(default)]
    pub text_of: Option<String>,
    /// Only match when the SMTP command the reply answered is one of these (RCPT, MAIL, DATA,
    /// CONN, EHLO, HELO); an unknown command never matches.
    #[serde(default)]
    pub command: Vec<String>,
    /// Never match when the SMTP command is one of these.
    #[serde(default)]
    pub not_command: Vec<String>,
    /// Only match bounces whose decoder named one of these MTA families (`postfix`, `exim`,
    /// `qmail`, ...; see `decode::Mta`); required for stage `decoder`.
    #[serde(default)]
    pub mta: Vec<String>,
    /// Never match bounces from these MTA families.
    #[serde(default)]
    pub not_mta: Vec<String>,
    /// Only match 4xx (true) or only non-4xx (false) replies.
    #[serde(default)]
    pub temporary: Option<bool>,
    /// Precedence stage; defaults: `text` for text rules, `status` for exact codes,
    /// `status_class` for wildcard codes, `reply_code` for basic codes.
    #[serde(default)]
    pub stage: Option<Stage>,
    /// A reply this rule must classify (checked by the unit tests).
    #[serde(default)]
    pub example: Option<String>,
    /// Free-form note.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleFile {
    #[serde(default)]
    pub rule: Vec<RuleSpec>,
}

/// Errors loading a rule file.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The file could not be read.
    #[error("cannot read bounce rules {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown fields/reasons.
    #[error("bounce rules are not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    /// A rule is inconsistent.
    #[error("bounce rule {id:?}: {msg}")]
    Invalid {
        /// The rule id.
        id: String,
        /// What is wrong.
        msg: String,
    },
    /// A regex did not compile.
    #[error("bounce rule {id:?}: bad regex: {source}")]
    Regex {
        /// The rule id.
        id: String,
        /// The cause.
        source: regex::Error,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct StatusPattern {
    parts: [Option<u16>; 3],
}

impl StatusPattern {
    fn parse(s: &str) -> Option<(StatusPattern, bool)> {
        let mut parts = [None; 3];
        let mut wild = false;
        let mut n = 0;
        for (i, p) in s.trim().split('.').enumerate() {
            if i >= 3 {
                return None;
            }
            n = i + 1;
            if p == "*" {
                wild = true;
            } else {
                parts[i] = Some(p.parse().ok()?);
            }
        }
        if n != 3 {
            return None;
        }
        Some((StatusPattern { parts }, wild))
    }

    pub(crate) fn matches(&self, code: &[u16; 3]) -> bool {
        self.parts
            .iter()
            .zip(code.iter())
            .all(|(p, c)| p.is_none_or(|p| p == *c))
    }
}

/// A validated rule: its spec, stage, parsed status pattern and (for text rules) the one regex
/// its `phrases` and `text` make.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub spec: RuleSpec,
    pub stage: Stage,
    pub status: Option<StatusPattern>,
    pub pattern: Option<String>,
}

/// Validates the specs (ids, kinds, stages, status syntax, `text_of` links) and builds the
/// rules. Regexes are only checked for syntax later, when they are compiled.
pub(crate) fn validate(specs: Vec<RuleSpec>) -> Result<Vec<Rule>, RulesError> {
    let mut rules = Vec::with_capacity(specs.len());
    let mut seen = HashSet::new();
    let mut by_id: HashMap<String, RuleSpec> = HashMap::new();
    for mut spec in specs {
        if let Some(src) = spec.text_of.clone() {
            link_text_of(&mut spec, &src, &by_id)?;
        }
        for c in spec.command.iter_mut().chain(spec.not_command.iter_mut()) {
            *c = c.trim().to_ascii_uppercase();
        }
        for m in spec.mta.iter_mut().chain(spec.not_mta.iter_mut()) {
            *m = m.trim().to_ascii_lowercase();
        }
        let invalid = |msg: &str| RulesError::Invalid {
            id: spec.id.clone(),
            msg: msg.to_string(),
        };
        if spec.id.trim().is_empty() {
            return Err(invalid("empty id"));
        }
        if !seen.insert(spec.id.clone()) {
            return Err(invalid("duplicate id"));
        }
        let is_text = spec.text.is_some() || !spec.phrases.is_empty();
        let kinds = [is_text, spec.status.is_some(), spec.code.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if kinds != 1 {
            return Err(invalid("needs exactly one of text/phrases, status, code"));
        }
        if spec.phrases.iter().any(|p| p.trim().is_empty()) {
            return Err(invalid("empty phrase"));
        }
        if spec.unless.is_some() && !is_text {
            return Err(invalid("`unless` only applies to text rules"));
        }
        let mut status = None;
        let mut default_stage = Stage::ReplyCode;
        if let Some(st) = &spec.status {
            let (p, wild) = StatusPattern::parse(st)
                .ok_or_else(|| invalid("status must look like 5.1.1 or 5.7.*"))?;
            default_stage = if wild {
                Stage::StatusClass
            } else {
                Stage::Status
            };
            status = Some(p);
        }
        if let Some(c) = spec.code
            && !(200..600).contains(&c)
        {
            return Err(invalid("code must be 200..599"));
        }
        let mut pattern = None;
        if is_text {
            let mut alts: Vec<String> = spec.phrases.iter().map(|p| regex::escape(p)).collect();
            if let Some(t) = &spec.text {
                alts.push(format!("(?:{t})"));
            }
            pattern = Some(alts.join("|"));
            default_stage = Stage::Text;
        }
        let stage = spec.stage.unwrap_or(default_stage);
        if matches!(stage, Stage::Esp | Stage::Fallback) {
            return Err(invalid("stages esp and fallback are reserved"));
        }
        if stage == Stage::Decoder && spec.mta.is_empty() {
            return Err(invalid("stage decoder needs `mta`"));
        }
        by_id.insert(spec.id.clone(), spec.clone());
        rules.push(Rule {
            spec,
            stage,
            status,
            pattern,
        });
    }
    Ok(rules)
}

fn link_text_of(
    spec: &mut RuleSpec,
    src: &str,
    by_id: &HashMap<String, RuleSpec>,
) -> Result<(), RulesError> {
    let invalid = |msg: String| RulesError::Invalid {
        id: spec.id.clone(),
        msg,
    };
    match by_id.get(src) {
        Some(orig) if orig.text.is_some() || !orig.phrases.is_empty() => {
            if spec.text.is_some() || !spec.phrases.is_empty() {
                return Err(invalid("text_of excludes text/phrases".into()));
            }
            spec.text = orig.text.clone();
            spec.phrases = orig.phrases.clone();
            if spec.unless.is_none() {
                spec.unless = orig.unless.clone();
            }
            Ok(())
        }
        _ => Err(invalid(format!(
            "text_of {src:?} is not an earlier text rule"
        ))),
    }
}

/// "5.7.26" → [5, 7, 26].
pub(crate) fn parse_status(s: &str) -> Option<[u16; 3]> {
    let mut out = [0u16; 3];
    let mut it = s.trim().split('.');
    for slot in &mut out {
        *slot = it.next()?.parse().ok()?;
    }
    if it.next().is_some() {
        return None;
    }
    Some(out)
}
