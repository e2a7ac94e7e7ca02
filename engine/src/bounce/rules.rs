//! The rule file (`engine/rules/bounce_rules.toml`) and the [`Classifier`] built from it.
//!
//! # Precedence
//!
//! A reply is classified by the first matching rule in the lowest [`Stage`]; inside a stage the
//! first rule in file order wins. The ESP's own verdict, when given, beats every rule. The order
//! below is the one that measured best against the Sisimai corpus
//! (`engine/tests/bounce_corpus.rs`):
//!
//! 1. `esp` – the verdict passed in by the caller (an ESP webhook's own classification);
//! 2. `provider` – provider-specific texts (Gmail, Yahoo, Microsoft, ...): the most precise signal;
//! 3. `status_strong` – enhanced codes whose meaning is unambiguous (5.7.26, 5.1.10, 5.7.25 ...);
//! 4. `text` – generic text patterns ("user unknown", "mailbox full", ...): receivers often send
//!    a vague or wrong enhanced code (5.0.0, 5.1.1 for a full mailbox) but precise text;
//! 5. `status` – the remaining exact enhanced codes (5.1.1, 5.2.2, ...);
//! 6. `text_weak` – vague texts that only decide when no code does;
//! 7. `status_class` – wildcard enhanced codes (`5.7.*`, `4.*.*`);
//! 8. `reply_code` – the basic SMTP reply code (550, 421, ...).
//!
//! Nothing matched: `onhold` when there was some diagnostic text, `undefined` otherwise.

use std::path::Path;

use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::{Deserialize, Serialize};

use super::reason::{BounceClass, Reason};
use super::reply::SmtpReply;

/// The rules shipped with the engine.
pub const BUILTIN_RULES: &str = include_str!("../../rules/bounce_rules.toml");

/// The longest text a rule's regex is run over (bytes); longer diagnostics are cut.
const MAX_MATCH_TEXT: usize = 4096;

/// Where a rule sits in the precedence order (lower = stronger). See the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The caller's (ESP's) own verdict.
    Esp,
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
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
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

/// Extra facts for [`Classifier::classify_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context<'a> {
    /// The ESP's own verdict; wins over every rule.
    pub esp_verdict: Option<Reason>,
    /// The SMTP command the reply answered (RCPT, MAIL, DATA, CONN, EHLO, HELO), if known.
    pub command: Option<&'a str>,
}

/// The outcome of classifying one reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// The reason.
    pub reason: Reason,
    /// What to do about it.
    pub class: BounceClass,
    /// The id of the deciding rule, `esp` for the caller's verdict, `fallback-*` when none matched.
    pub rule_id: String,
    /// The precedence stage that decided.
    pub stage: Stage,
}

impl Verdict {
    fn new(reason: Reason, rule_id: &str, stage: Stage) -> Self {
        Verdict {
            reason,
            class: reason.class(),
            rule_id: rule_id.to_string(),
            stage,
        }
    }
}

#[derive(Debug, Clone)]
struct StatusPattern {
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

    fn matches(&self, code: &[u16; 3]) -> bool {
        self.parts
            .iter()
            .zip(code.iter())
            .all(|(p, c)| p.is_none_or(|p| p == *c))
    }
}

#[derive(Debug, Clone)]
struct Rule {
    spec: RuleSpec,
    stage: Stage,
    status: Option<StatusPattern>,
    unless: Option<Regex>,
}

/// A compiled rule set. Cheap to share (`&Classifier` is `Sync`); build it once.
#[derive(Debug, Clone)]
pub struct Classifier {
    rules: Vec<Rule>,
    /// Regex set over the text rules; `text_index[i]` is the rule index of set pattern `i`.
    text_set: RegexSet,
    text_index: Vec<usize>,
}

impl Classifier {
    /// The classifier over the embedded `bounce_rules.toml`.
    ///
    /// The embedded file is verified by the unit tests; should it nevertheless fail to load,
    /// this returns a classifier without rules (everything becomes `onhold`/`undefined`) rather
    /// than panicking.
    pub fn builtin() -> Classifier {
        Classifier::from_toml_str(BUILTIN_RULES).unwrap_or_else(|_| Classifier::empty())
    }

    /// A process-wide classifier over the embedded rules, built on first use.
    pub fn shared() -> &'static Classifier {
        static SHARED: std::sync::OnceLock<Classifier> = std::sync::OnceLock::new();
        SHARED.get_or_init(Classifier::builtin)
    }

    /// A classifier with no rules.
    pub fn empty() -> Classifier {
        Classifier {
            rules: Vec::new(),
            text_set: RegexSet::empty(),
            text_index: Vec::new(),
        }
    }

    /// Loads rules from a file at runtime (same format as the embedded file).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Classifier, RulesError> {
        let path = path.as_ref();
        let s = std::fs::read_to_string(path).map_err(|source| RulesError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Classifier::from_toml_str(&s)
    }

    /// Parses and compiles rules from TOML text.
    pub fn from_toml_str(s: &str) -> Result<Classifier, RulesError> {
        let file: RuleFile = toml::from_str(s)?;
        Classifier::from_specs(file.rule)
    }

    /// Compiles already-parsed rules.
    pub fn from_specs(specs: Vec<RuleSpec>) -> Result<Classifier, RulesError> {
        let mut rules = Vec::with_capacity(specs.len());
        let mut patterns = Vec::new();
        let mut text_index = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut by_id: std::collections::HashMap<String, RuleSpec> =
            std::collections::HashMap::new();
        for mut spec in specs {
            if let Some(src) = spec.text_of.clone() {
                match by_id.get(&src) {
                    Some(orig) if orig.text.is_some() || !orig.phrases.is_empty() => {
                        if spec.text.is_some() || !spec.phrases.is_empty() {
                            return Err(RulesError::Invalid {
                                id: spec.id.clone(),
                                msg: "text_of excludes text/phrases".into(),
                            });
                        }
                        spec.text = orig.text.clone();
                        spec.phrases = orig.phrases.clone();
                        if spec.unless.is_none() {
                            spec.unless = orig.unless.clone();
                        }
                    }
                    _ => {
                        return Err(RulesError::Invalid {
                            id: spec.id.clone(),
                            msg: format!("text_of {src:?} is not an earlier text rule"),
                        });
                    }
                }
            }
            for c in spec.command.iter_mut().chain(spec.not_command.iter_mut()) {
                *c = c.trim().to_ascii_uppercase();
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
            if is_text {
                let mut alts: Vec<String> = spec.phrases.iter().map(|p| regex::escape(p)).collect();
                if let Some(t) = &spec.text {
                    alts.push(format!("(?:{t})"));
                }
                let t = alts.join("|");
                // Validate individually for a precise error message.
                compile_one(&t).map_err(|source| RulesError::Regex {
                    id: spec.id.clone(),
                    source,
                })?;
                patterns.push(t);
                text_index.push(rules.len());
                default_stage = Stage::Text;
            }
            let unless = match &spec.unless {
                Some(u) => Some(compile_one(u).map_err(|source| RulesError::Regex {
                    id: spec.id.clone(),
                    source,
                })?),
                None => None,
            };
            let stage = spec.stage.unwrap_or(default_stage);
            if matches!(stage, Stage::Esp | Stage::Fallback) {
                return Err(invalid("stages esp and fallback are reserved"));
            }
            by_id.insert(spec.id.clone(), spec.clone());
            rules.push(Rule {
                spec,
                stage,
                status,
                unless,
            });
        }
        // ASCII-only case folding and classes (\s, \w, \b): bounce texts are matched on raw
        // bytes, which keeps the lazy DFA small and fast.
        let text_set = RegexSetBuilder::new(&patterns)
            .case_insensitive(true)
            .unicode(false)
            .size_limit(64 << 20)
            .dfa_size_limit(32 << 20)
            .build()
            .map_err(|source| RulesError::Regex {
                id: "<set>".into(),
                source,
            })?;
        Ok(Classifier {
            rules,
            text_set,
            text_index,
        })
    }

    /// The rules, in file order.
    pub fn rules(&self) -> impl Iterator<Item = &RuleSpec> {
        self.rules.iter().map(|r| &r.spec)
    }

    /// Classifies one reply. `esp_verdict` (an ESP's own classification) wins when given.
    pub fn classify(&self, reply: &SmtpReply, esp_verdict: Option<Reason>) -> Verdict {
        self.classify_with(
            reply,
            &Context {
                esp_verdict,
                command: None,
            },
        )
    }

    /// Classifies one reply with extra context (the SMTP command it answered).
    pub fn classify_with(&self, reply: &SmtpReply, ctx: &Context<'_>) -> Verdict {
        if let Some(r) = ctx.esp_verdict {
            return Verdict::new(r, "esp", Stage::Esp);
        }
        match self.best_rule(reply, ctx.command) {
            Some(i) => {
                let r = &self.rules[i];
                Verdict::new(r.spec.reason, &r.spec.id, r.stage)
            }
            None => {
                if reply.code.is_some_and(|c| (200..300).contains(&c))
                    || reply
                        .enhanced
                        .as_deref()
                        .is_some_and(|e| e.starts_with("2."))
                {
                    Verdict::new(Reason::Delivered, "fallback-delivered", Stage::Fallback)
                } else if reply.text.trim().is_empty() {
                    Verdict::new(Reason::Undefined, "fallback-undefined", Stage::Fallback)
                } else {
                    Verdict::new(Reason::OnHold, "fallback-onhold", Stage::Fallback)
                }
            }
        }
    }

    /// Index of the deciding rule, if any.
    fn best_rule(&self, reply: &SmtpReply, command: Option<&str>) -> Option<usize> {
        let command_ok = |r: &Rule| {
            let cmd = command.map(str::to_ascii_uppercase);
            let inn = |list: &[String]| cmd.as_ref().is_some_and(|c| list.iter().any(|x| x == c));
            (r.spec.command.is_empty() || inn(&r.spec.command)) && !inn(&r.spec.not_command)
        };
        let temporary = reply.is_temporary();
        let status: Option<[u16; 3]> = reply.enhanced.as_deref().and_then(parse_status);
        let mut best: Option<(Stage, usize)> = None;
        let mut consider = |stage: Stage, idx: usize| {
            if best.is_none_or(|b| (stage, idx) < b) {
                best = Some((stage, idx));
            }
        };
        let text = super::reply::truncate(&reply.text, MAX_MATCH_TEXT);
        if !text.is_empty() && !self.text_index.is_empty() {
            for m in self.text_set.matches(text.as_bytes()).iter() {
                let Some(&idx) = self.text_index.get(m) else {
                    continue;
                };
                let r = &self.rules[idx];
                if r.spec.temporary.is_some_and(|t| t != temporary) || !command_ok(r) {
                    continue;
                }
                if r.unless
                    .as_ref()
                    .is_some_and(|u| u.is_match(text.as_bytes()))
                {
                    continue;
                }
                consider(r.stage, idx);
            }
        }
        for (idx, r) in self.rules.iter().enumerate() {
            if r.status.is_none() && r.spec.code.is_none()
                || r.spec.temporary.is_some_and(|t| t != temporary)
                || !command_ok(r)
            {
                continue;
            }
            let hit = match (&r.status, r.spec.code) {
                (Some(p), _) => status.as_ref().is_some_and(|s| p.matches(s)),
                (None, Some(c)) => reply.code == Some(c),
                _ => false,
            };
            if hit {
                consider(r.stage, idx);
            }
        }
        best.map(|(_, i)| i)
    }
}

impl Default for Classifier {
    fn default() -> Self {
        Classifier::builtin()
    }
}

fn compile_one(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .unicode(false)
        .build()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> Result<Classifier, RulesError> {
        Classifier::from_toml_str(BUILTIN_RULES)
    }

    #[test]
    fn builtin_rules_load() -> Result<(), RulesError> {
        let c = builtin()?;
        assert!(c.rules().count() > 50);
        Ok(())
    }

    /// Data-driven: every rule carries an `example`, and classifying it must hit that very rule.
    #[test]
    fn every_rule_hits_its_example() -> Result<(), RulesError> {
        let c = builtin()?;
        let mut failures = Vec::new();
        for spec in c.rules() {
            let Some(example) = &spec.example else {
                failures.push(format!("{}: no example", spec.id));
                continue;
            };
            let command = spec.command.first().map(String::as_str);
            let v = c.classify_with(
                &SmtpReply::parse(example),
                &Context {
                    esp_verdict: None,
                    command,
                },
            );
            if v.rule_id != spec.id || v.reason != spec.reason {
                failures.push(format!(
                    "{}: example {example:?} hit {} ({})",
                    spec.id, v.rule_id, v.reason
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        Ok(())
    }

    #[test]
    fn esp_verdict_wins() -> Result<(), RulesError> {
        let c = builtin()?;
        let v = c.classify(
            &SmtpReply::parse("550 5.1.1 user unknown"),
            Some(Reason::Blocked),
        );
        assert_eq!((v.reason, v.rule_id.as_str()), (Reason::Blocked, "esp"));
        Ok(())
    }

    #[test]
    fn fallbacks() -> Result<(), RulesError> {
        let c = builtin()?;
        assert_eq!(
            c.classify(&SmtpReply::default(), None).reason,
            Reason::Undefined
        );
        let v = c.classify(&SmtpReply::parse("zzz qqq"), None);
        assert_eq!(v.reason, Reason::OnHold);
        Ok(())
    }

    #[test]
    fn rejects_bad_files() {
        assert!(Classifier::from_toml_str("[[rule]]\nid='a'\nreason='nope'\ntext='x'").is_err());
        assert!(Classifier::from_toml_str("[[rule]]\nid='a'\nreason='blocked'").is_err());
        assert!(Classifier::from_toml_str("[[rule]]\nid='a'\nreason='blocked'\ntext='('").is_err());
        assert!(
            Classifier::from_toml_str("[[rule]]\nid='a'\nreason='blocked'\nstatus='5.x'").is_err()
        );
        let dup = "[[rule]]\nid='a'\nreason='blocked'\ncode=550\n[[rule]]\nid='a'\nreason='blocked'\ncode=551";
        assert!(Classifier::from_toml_str(dup).is_err());
    }

    #[test]
    fn loads_from_path() -> Result<(), RulesError> {
        let dir = std::env::temp_dir().join(format!("bounce-rules-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|source| RulesError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let f = dir.join("rules.toml");
        std::fs::write(&f, BUILTIN_RULES).map_err(|source| RulesError::Io {
            path: f.display().to_string(),
            source,
        })?;
        let c = Classifier::from_path(&f)?;
        assert_eq!(c.rules().count(), builtin()?.rules().count());
        let _ = std::fs::remove_dir_all(&dir);
        assert!(Classifier::from_path(dir.join("missing.toml")).is_err());
        Ok(())
    }
}
