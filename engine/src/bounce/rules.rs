//! The rule file (`engine/rules/bounce_rules.toml`) and the [`Classifier`] built from it.
//!
//! # Precedence
//!
//! A reply is classified by the first matching rule in the strongest [`Stage`]; inside a stage
//! the first rule in file order wins. The ESP's own verdict, when given, beats every rule:
//!
//! 1. `esp` – the verdict passed in by the caller (an ESP webhook's own classification);
//! 2. `decoder` – the producing MTA's own wording, read with the command it failed at (rules
//!    with `mta = [...]`; the MTA family comes from `decode`);
//! 3. `provider` – provider-specific texts (Gmail, Yahoo, Microsoft, ...);
//! 4. `status_strong` – enhanced codes whose meaning is unambiguous (5.7.26, 5.1.10, 5.7.25 ...);
//! 5. `text` – command-aware and generic text patterns ("user unknown", "mailbox full", ...):
//!    receivers often send a vague or wrong enhanced code but precise text;
//! 6. `status` – the remaining exact enhanced codes (5.1.1, 5.2.2, ...);
//! 7. `text_weak` – vague texts that only decide when no code does;
//! 8. `status_class` – the code's class and subject (RFC 3463: `5.7.*`, `*.4.*`);
//! 9. `reply_code` – the basic SMTP reply code (550, 421, ...).
//!
//! Nothing matched: `onhold` when there was some diagnostic text, `undefined` otherwise.
//! `docs/classification.md` explains the order to users.

use std::path::Path;
use std::sync::OnceLock;

use regex::bytes::RegexBuilder;
use regex_automata::meta::Regex;
use regex_automata::nfa::thompson::WhichCaptures;
use regex_automata::util::syntax;
use serde::{Deserialize, Serialize};

use super::literals::{Candidates, Prefilter, RuleText};
use super::reason::{BounceClass, Reason};
use super::reply::SmtpReply;
pub(crate) use super::rule_spec::parse_status;
use super::rule_spec::{Rule, RuleFile, validate};
pub use super::rule_spec::{RuleSpec, RulesError, Stage};

/// The rules shipped with the engine.
pub const BUILTIN_RULES: &str = include_str!("../../rules/bounce_rules.toml");

/// The longest text a rule's regex is run over (bytes); longer diagnostics are cut.
const MAX_MATCH_TEXT: usize = 4096;

/// Extra facts for [`Classifier::classify_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context<'a> {
    /// The ESP's own verdict; wins over every rule.
    pub esp_verdict: Option<Reason>,
    /// The SMTP command the reply answered (RCPT, MAIL, DATA, CONN, EHLO, HELO), if known.
    pub command: Option<&'a str>,
    /// The MTA family that produced the bounce (`postfix`, `exim`, ...), if a decoder named it.
    pub mta: Option<&'a str>,
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

/// A compiled rule set. Cheap to share (`&Classifier` is `Sync`); build it once.
///
/// Building it reads the rules and one literal prefilter over the text rules
/// ([`Prefilter`]); a rule's regex is compiled the first time the prefilter lets a text reach
/// it, so a process that classifies one message compiles only the few regexes that message
/// can match.
#[derive(Debug, Clone)]
pub struct Classifier {
    rules: Vec<Rule>,
    /// Per rule: its text regex, compiled on first use.
    regex: Vec<OnceLock<Option<Regex>>>,
    /// Per rule: its `unless` regex, compiled on first use.
    unless: Vec<OnceLock<Option<Regex>>>,
    /// Per rule: its bit in the prefilter (text rules only).
    slot_of: Vec<Option<usize>>,
    /// Over every text rule's required literals.
    prefilter: Prefilter,
    /// Per stage slot ([`Stage::RULE_STAGES`]): the text rules, in file order.
    texts: Vec<Vec<usize>>,
    /// Per stage slot: the status and reply-code rules.
    coded: Vec<Vec<usize>>,
}

impl Classifier {
    /// The classifier over the embedded `bounce_rules.toml`.
    ///
    /// The embedded file is verified by the unit tests (every regex compiles, every example
    /// hits its rule), so its regexes are compiled lazily, stage by stage. Should it
    /// nevertheless fail to load, this returns a classifier without rules (everything becomes
    /// `onhold`/`undefined`) rather than panicking.
    pub fn builtin() -> Classifier {
        toml::from_str::<RuleFile>(BUILTIN_RULES)
            .map_err(RulesError::from)
            .and_then(|f| Classifier::build(f.rule))
            .unwrap_or_else(|_| Classifier::empty())
    }

    /// A process-wide classifier over the embedded rules, built on first use.
    pub fn shared() -> &'static Classifier {
        static SHARED: OnceLock<Classifier> = OnceLock::new();
        SHARED.get_or_init(Classifier::builtin)
    }

    /// A classifier with no rules.
    pub fn empty() -> Classifier {
        Classifier {
            rules: Vec::new(),
            regex: Vec::new(),
            unless: Vec::new(),
            slot_of: Vec::new(),
            prefilter: Prefilter::new([]),
            texts: vec![Vec::new(); Stage::RULE_STAGES.len()],
            coded: vec![Vec::new(); Stage::RULE_STAGES.len()],
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

    /// Compiles already-parsed rules. Every regex is compiled now, so a bad one is reported
    /// here, with its rule id.
    pub fn from_specs(specs: Vec<RuleSpec>) -> Result<Classifier, RulesError> {
        let c = Classifier::build(specs)?;
        c.compile_all()?;
        Ok(c)
    }

    /// Validates and indexes the rules and builds the prefilter; regexes are left for first use.
    fn build(specs: Vec<RuleSpec>) -> Result<Classifier, RulesError> {
        let rules = validate(specs)?;
        let mut c = Classifier::empty();
        let mut patterns: Vec<RuleText<'_>> = Vec::new();
        c.slot_of = vec![None; rules.len()];
        for (idx, r) in rules.iter().enumerate() {
            let Some(slot) = r.stage.rule_slot() else {
                continue;
            };
            match &r.pattern {
                Some(p) => {
                    c.slot_of[idx] = Some(patterns.len());
                    patterns.push(if r.spec.text.is_none() {
                        RuleText::Phrases(&r.spec.phrases)
                    } else {
                        RuleText::Regex(p)
                    });
                    c.texts[slot].push(idx);
                }
                None => c.coded[slot].push(idx),
            }
        }
        c.prefilter = Prefilter::new(patterns);
        c.regex = vec![OnceLock::new(); rules.len()];
        c.unless = vec![OnceLock::new(); rules.len()];
        c.rules = rules;
        Ok(c)
    }

    /// Compiles every regex now, naming the first rule whose regex does not compile.
    fn compile_all(&self) -> Result<(), RulesError> {
        for r in &self.rules {
            for p in r.pattern.iter().chain(r.spec.unless.iter()) {
                check_one(p).map_err(|source| RulesError::Regex {
                    id: r.spec.id.clone(),
                    source,
                })?;
            }
        }
        Ok(())
    }

    /// Whether text rule `idx` matches `text` (its regex compiled on first use).
    fn text_matches(&self, idx: usize, text: &[u8]) -> bool {
        let Some(p) = self.rules[idx].pattern.as_deref() else {
            return false;
        };
        self.regex[idx]
            .get_or_init(|| compile_one(p))
            .as_ref()
            .is_some_and(|re| re.is_match(text))
    }

    fn vetoed(&self, idx: usize, text: &[u8]) -> bool {
        let Some(u) = self.rules[idx].spec.unless.as_deref() else {
            return false;
        };
        self.unless[idx]
            .get_or_init(|| compile_one(u))
            .as_ref()
            .is_some_and(|re| re.is_match(text))
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
                ..Context::default()
            },
        )
    }

    /// Classifies one reply with extra context (the SMTP command it answered, the MTA family).
    pub fn classify_with(&self, reply: &SmtpReply, ctx: &Context<'_>) -> Verdict {
        if let Some(r) = ctx.esp_verdict {
            return Verdict::new(r, "esp", Stage::Esp);
        }
        if let Some(i) = self.best_rule(reply, ctx) {
            let r = &self.rules[i];
            return Verdict::new(r.spec.reason, &r.spec.id, r.stage);
        }
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

    /// Index of the deciding rule: the first rule (file order) of the strongest stage that has
    /// a match. Stages are tried in order, and only the prefilter's candidates run (and so
    /// compile) their regex.
    fn best_rule(&self, reply: &SmtpReply, ctx: &Context<'_>) -> Option<usize> {
        let cmd = ctx.command.map(str::to_ascii_uppercase);
        let mta = ctx.mta.map(str::to_ascii_lowercase);
        let applies = |r: &Rule| {
            let has = |list: &[String], v: &Option<String>| {
                v.as_ref().is_some_and(|c| list.iter().any(|x| x == c))
            };
            (r.spec.command.is_empty() || has(&r.spec.command, &cmd))
                && !has(&r.spec.not_command, &cmd)
                && (r.spec.mta.is_empty() || has(&r.spec.mta, &mta))
                && !has(&r.spec.not_mta, &mta)
                && r.spec.temporary.is_none_or(|t| t == reply.is_temporary())
        };
        let status: Option<[u16; 3]> = reply.enhanced.as_deref().and_then(parse_status);
        let text = super::reply::truncate(&reply.text, MAX_MATCH_TEXT).as_bytes();
        // Which text rules can match at all: one automaton pass, run when a stage needs it.
        let mut candidates: Option<Candidates> = None;
        for slot in 0..Stage::RULE_STAGES.len() {
            let mut best: Option<usize> = None;
            for &idx in &self.coded[slot] {
                let r = &self.rules[idx];
                let hit = match (&r.status, r.spec.code) {
                    (Some(p), _) => status.as_ref().is_some_and(|s| p.matches(s)),
                    (None, Some(c)) => reply.code == Some(c),
                    _ => false,
                };
                if hit && applies(r) {
                    best = Some(idx);
                    break;
                }
            }
            if !text.is_empty() && !self.texts[slot].is_empty() {
                let cands = candidates.get_or_insert_with(|| self.prefilter.candidates(text));
                for &idx in &self.texts[slot] {
                    if best.is_some_and(|b| b < idx) {
                        break;
                    }
                    let Some(bit) = self.slot_of[idx].filter(|&bit| cands.contains(bit)) else {
                        continue;
                    };
                    if applies(&self.rules[idx])
                        && (self.prefilter.is_exact(bit) || self.text_matches(idx, text))
                        && !self.vetoed(idx, text)
                    {
                        best = Some(idx);
                        break;
                    }
                }
            }
            if best.is_some() {
                return best;
            }
        }
        None
    }
}

impl Default for Classifier {
    fn default() -> Self {
        Classifier::builtin()
    }
}

/// Compiles a rule's regex for matching (on first use). Only `is_match` is ever asked and
/// the literal prefilter has already picked the rule, so the regex is built lean: no
/// capture groups, no literal prefilter of its own, only the lazy DFA and the PikeVM. That
/// makes a compile several times cheaper, and compiling, not matching, is what a process
/// that classifies a few hundred messages pays for. ASCII-only case folding and classes
/// (`\s`, `\w`, `\b`): bounce texts are matched on raw bytes.
fn compile_one(pattern: &str) -> Option<Regex> {
    Regex::builder()
        .configure(
            Regex::config()
                .which_captures(WhichCaptures::None)
                .auto_prefilter(false)
                .onepass(false)
                .backtrack(false)
                .dfa(false),
        )
        .syntax(
            syntax::Config::new()
                .case_insensitive(true)
                .unicode(false)
                .utf8(false),
        )
        .build(pattern)
        .ok()
}

/// Checks a regex the way the rule file's errors report it (a loaded file is checked whole).
fn check_one(pattern: &str) -> Result<(), regex::Error> {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .unicode(false)
        .build()
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> Result<Classifier, RulesError> {
        Classifier::from_toml_str(BUILTIN_RULES)
    }

    #[test]
    fn builtin_rules_load() -> Result<(), RulesError> {
        // Eager: every regex of the embedded file compiles, so the lazy `builtin` is safe.
        let c = builtin()?;
        assert!(c.rules().count() > 50);
        assert_eq!(Classifier::builtin().rules().count(), c.rules().count());
        Ok(())
    }

    #[test]
    fn decoder_rules_need_their_mta() -> Result<(), RulesError> {
        let toml = "[[rule]]\nid='q'\nreason='userunknown'\nstage='decoder'\nmta=['qmail']\nphrases=['no mailbox here']";
        let c = Classifier::from_toml_str(toml)?;
        let reply = SmtpReply::parse("Sorry, no mailbox here by that name.");
        let with = |mta| Context {
            mta,
            ..Context::default()
        };
        assert_eq!(c.classify_with(&reply, &with(Some("qmail"))).rule_id, "q");
        assert_eq!(
            c.classify_with(&reply, &with(Some("exim"))).reason,
            Reason::OnHold
        );
        assert_eq!(c.classify_with(&reply, &with(None)).reason, Reason::OnHold);
        let no_mta = "[[rule]]\nid='q'\nreason='userunknown'\nstage='decoder'\nphrases=['x']";
        assert!(Classifier::from_toml_str(no_mta).is_err());
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
            let v = c.classify_with(
                &SmtpReply::parse(example),
                &Context {
                    esp_verdict: None,
                    command: spec.command.first().map(String::as_str),
                    mta: spec.mta.first().map(String::as_str),
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
