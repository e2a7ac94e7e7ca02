//! The literal prefilter of the text rules: for each rule, a set of literals one of which must
//! occur in any text its regex matches (found by walking the regex's syntax tree), and one
//! Aho-Corasick automaton over all of them.
//!
//! Classifying a reply runs the automaton once over its text; only the rules whose literals
//! occur (and the few rules that have no required literal) are candidates, and only a
//! candidate's regex is ever compiled and run. A rule made of `phrases` only is decided by
//! the automaton alone: a phrase found (ASCII case-insensitively, as its regex would match)
//! is a match, and its regex is never compiled.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex_syntax::ParserBuilder;
use regex_syntax::hir::{Hir, HirKind};

/// Literals shorter than this are not worth a prefilter: the rule is always a candidate.
const MIN_LITERAL: usize = 3;
/// A rule whose requirement needs more literals than this is always a candidate.
const MAX_LITERALS: usize = 256;

/// The prefilter over a list of patterns (one per text rule, in the caller's order).
#[derive(Debug, Clone)]
pub(crate) struct Prefilter {
    /// Over every required literal, ASCII-lowercased, reporting overlapping matches; it runs
    /// over the ASCII-lowercased text, which is an ASCII case-insensitive search. (Folding
    /// both sides beforehand builds several times faster than the automaton's own
    /// `ascii_case_insensitive`, which doubles the transitions and revisits states.)
    ac: Option<AhoCorasick>,
    /// Per automaton pattern: the position of the rule it belongs to.
    owner: Vec<usize>,
    /// Per rule: true when it has no required literal (always a candidate).
    always: Vec<bool>,
    /// Per rule: true when its literals are its phrases, so a hit is a match.
    exact: Vec<bool>,
}

/// Which rules may match one text: a bit per rule.
#[derive(Debug, Clone, Default)]
pub(crate) struct Candidates {
    bits: Vec<u64>,
}

impl Candidates {
    /// Whether rule `i` may match.
    pub(crate) fn contains(&self, i: usize) -> bool {
        self.bits
            .get(i / 64)
            .is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }

    fn insert(&mut self, i: usize) {
        if let Some(w) = self.bits.get_mut(i / 64) {
            *w |= 1u64 << (i % 64);
        }
    }
}

/// One text rule as the prefilter sees it.
pub(crate) enum RuleText<'a> {
    /// Literal phrases only (matched case-insensitively as substrings).
    Phrases(&'a [String]),
    /// A regex (possibly with phrases folded in).
    Regex(&'a str),
}

impl Prefilter {
    /// Builds the prefilter over the text rules. A regex that does not parse is always a
    /// candidate (it then fails to compile and never matches).
    pub(crate) fn new<'a>(rules: impl IntoIterator<Item = RuleText<'a>>) -> Prefilter {
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut owner = Vec::new();
        let mut always = Vec::new();
        let mut exact = Vec::new();
        for (i, rule) in rules.into_iter().enumerate() {
            let p = match rule {
                RuleText::Phrases(phrases) => {
                    for ph in phrases {
                        literals.push(ph.as_bytes().to_ascii_lowercase());
                        owner.push(i);
                    }
                    always.push(phrases.is_empty());
                    exact.push(!phrases.is_empty());
                    continue;
                }
                RuleText::Regex(p) => p,
            };
            exact.push(false);
            match required_literals(p) {
                Some(set) => {
                    for mut lit in set {
                        lit.make_ascii_lowercase();
                        literals.push(lit);
                        owner.push(i);
                    }
                    always.push(false);
                }
                None => always.push(true),
            }
        }
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            // A contiguous NFA builds in a fraction of a DFA's time over a thousand
            // case-folded literals, and scans a few KiB about as fast.
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(&literals)
            .ok();
        if ac.is_none() {
            // Cannot happen for a few hundred short literals; stay correct regardless.
            always.iter_mut().for_each(|a| *a = true);
            exact.iter_mut().for_each(|e| *e = false);
        }
        Prefilter {
            ac,
            owner,
            always,
            exact,
        }
    }

    /// Whether rule `i` is decided by the automaton alone (a candidate is a match).
    pub(crate) fn is_exact(&self, i: usize) -> bool {
        self.exact.get(i).copied().unwrap_or(false)
    }

    /// The rules that may match `text`.
    pub(crate) fn candidates(&self, text: &[u8]) -> Candidates {
        let mut c = Candidates {
            bits: vec![0; self.always.len().div_ceil(64)],
        };
        for (i, a) in self.always.iter().enumerate() {
            if *a {
                c.insert(i);
            }
        }
        let lower = text.to_ascii_lowercase();
        if let Some(ac) = &self.ac
            && let Ok(found) = ac.try_find_overlapping_iter(lower.as_slice())
        {
            for m in found {
                if let Some(&rule) = self.owner.get(m.pattern().as_usize()) {
                    c.insert(rule);
                }
            }
        }
        c
    }

    /// How many rules have no required literal (for tests and the bench).
    #[cfg(test)]
    pub(crate) fn always_count(&self) -> usize {
        self.always.iter().filter(|a| **a).count()
    }
}

/// A set of literals at least one of which occurs (ASCII case-insensitively) in every text
/// `pattern` matches case-insensitively; `None` when there is no useful such set.
pub(crate) fn required_literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    // Parsed case-sensitively and without Unicode: literals stay literals, and the automaton
    // folds ASCII case as the rule's regex (case_insensitive, unicode off) does.
    let hir = ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?;
    let set = required(&hir)?;
    let ok =
        !set.is_empty() && set.len() <= MAX_LITERALS && set.iter().all(|l| l.len() >= MIN_LITERAL);
    ok.then_some(set)
}

/// The required-literal set of one node (see [`required_literals`]).
fn required(h: &Hir) -> Option<Vec<Vec<u8>>> {
    match h.kind() {
        HirKind::Literal(lit) => Some(vec![lit.0.to_vec()]),
        HirKind::Capture(c) => required(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => required(&r.sub),
        // Every part of a sequence must match: any one part's set will do; take the best.
        HirKind::Concat(subs) => subs
            .iter()
            .filter_map(required)
            .max_by_key(|set| score(set.as_slice())),
        // One branch matches: the union of every branch's set, if each has one.
        HirKind::Alternation(subs) => {
            let mut out = Vec::new();
            for s in subs {
                out.extend(required(s)?);
                if out.len() > MAX_LITERALS {
                    return None;
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// Prefer sets whose shortest literal is longest (fewer false candidates), then smaller sets.
fn score(set: &[Vec<u8>]) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = set
        .iter()
        .map(Vec::len)
        .min()
        .unwrap_or(0)
        .min(MIN_LITERAL * 4);
    (shortest, std::cmp::Reverse(set.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(p: &str) -> Option<Vec<String>> {
        required_literals(p).map(|s| {
            s.into_iter()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .collect()
        })
    }

    #[test]
    fn extracts_what_every_match_needs() {
        assert_eq!(lits(r"user\s+unknown"), Some(vec!["unknown".to_string()]));
        let alt = lits(r"mailbox (is )?full|over quota").unwrap_or_default();
        assert!(alt.contains(&"over quota".to_string()), "{alt:?}");
        assert_eq!(alt.len(), 2, "{alt:?}");
        assert_eq!(lits(r"\bx\b"), None, "too short");
        assert_eq!(lits(r".*"), None);
        assert_eq!(lits(r"(foo)?ba"), None, "ba is too short, foo optional");
        assert_eq!(lits(r"(foo)?bar"), Some(vec!["bar".to_string()]));
        assert_eq!(lits(r"(abc|\d+)"), None, "one branch has no literal");
        assert_eq!(lits("("), None);
    }

    #[test]
    fn candidates_are_a_superset_case_insensitively() {
        let p = Prefilter::new([
            RuleText::Regex(r"user\s+unknown"),
            RuleText::Regex(r"\d+"),
            RuleText::Regex(r"mailbox full"),
        ]);
        assert_eq!(p.always_count(), 1);
        assert!(!p.is_exact(2));
        let c = p.candidates(b"550 USER   UNKNOWN here");
        assert!(c.contains(0) && c.contains(1) && !c.contains(2));
        let c = p.candidates(b"Mailbox FULL");
        assert!(!c.contains(0) && c.contains(1) && c.contains(2));
        assert!(!c.contains(99));
    }

    #[test]
    fn phrase_rules_are_decided_by_the_automaton() {
        let phrases = ["no such user".to_string(), "ok".to_string()];
        let p = Prefilter::new([RuleText::Phrases(&phrases)]);
        assert!(p.is_exact(0));
        assert!(p.candidates(b"550 NO SUCH USER here").contains(0));
        assert!(
            p.candidates(b"250 OK").contains(0),
            "short phrases count too"
        );
        assert!(!p.candidates(b"no such host").contains(0));
    }
}
